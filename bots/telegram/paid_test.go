package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

func TestPaidBroadcasterParam(t *testing.T) {
	t.Parallel()
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Отписаться", Value: "unsub"}}}}
	tests := []struct {
		name   string
		text   string
		chunks int
	}{
		{"one message", "Скидка 10% до пятницы", 1},
		{"split message", strings.Repeat("новости ", 1000), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(42)
			sent, err := b.PaidBroadcaster().Send(context.Background(), messenger.OutMessage{Chat: chat("42"), Text: tt.text, Keyboard: kb})
			if err != nil {
				t.Fatal(err)
			}
			reqs := s.Requests("sendMessage")
			if len(reqs) != tt.chunks {
				t.Fatalf("%d sendMessage calls, want %d", len(reqs), tt.chunks)
			}
			for i, r := range reqs {
				if r.Params["allow_paid_broadcast"] != "true" || r.Params["chat_id"] != "42" || r.Params["parse_mode"] != "" {
					t.Fatalf("call %d params %v", i, r.Params)
				}
			}
			msgs := s.Messages(42)
			last := msgs[len(msgs)-1]
			var got strings.Builder
			for _, m := range msgs {
				got.WriteString(m.Text)
			}
			if strings.ReplaceAll(got.String(), " ", "") != strings.ReplaceAll(tt.text, " ", "") {
				t.Fatalf("texts differ: %.80q", got.String())
			}
			if last.ReplyMarkup == nil || !last.ReplyMarkup.IsInline() || last.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "unsub" {
				t.Fatalf("keyboard %+v", last.ReplyMarkup)
			}
			if sent.MessageID == "" {
				t.Fatal("no message id")
			}
			// The same bot's ordinary sends (replies) are not paid.
			if _, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("42"), Text: "ответ"}); err != nil {
				t.Fatal(err)
			}
			reqs = s.Requests("sendMessage")
			if p := reqs[len(reqs)-1].Params; p["allow_paid_broadcast"] != "" {
				t.Fatalf("a reply carries allow_paid_broadcast: %v", p)
			}
		})
	}
}

func TestPaidBroadcasterErrors(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(5)
	s.SetBlocked(5)
	if _, err := b.PaidBroadcaster().Send(context.Background(), messenger.OutMessage{Chat: chat("5"), Text: "новости"}); !errors.Is(err, messenger.ErrBlocked) {
		t.Fatalf("err = %v, want ErrBlocked", err)
	}
}
