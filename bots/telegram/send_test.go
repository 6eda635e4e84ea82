package telegram

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

func TestSendPlainText(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(10)
	text := "Скидка *10%* для _вас_ [ссылка](x) <b>ok</b> \\ `code`"
	got, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("10"), Text: text})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(10)
	if len(msgs) != 1 || msgs[0].Text != text || msgs[0].ParseMode != "" || msgs[0].ReplyMarkup != nil {
		t.Fatalf("sent = %+v", msgs)
	}
	if got.MessageID != "1" {
		t.Fatalf("Sent.MessageID = %q", got.MessageID)
	}
	if p := s.Requests("sendMessage")[0].Params; p["chat_id"] != "10" {
		t.Fatalf("params = %v", p)
	}
}

func TestSendLongTextKeyboardOnLastChunk(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(11)
	text := strings.Repeat("абв ", 2000) // 8000 runes
	kb := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{{Text: "Да", Value: "yes"}}}}
	got, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("11"), Text: text, Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(11)
	if len(msgs) != 2 || msgs[0].ReplyMarkup != nil || !msgs[1].ReplyMarkup.IsInline() {
		t.Fatalf("sent %d messages: %+v", len(msgs), msgs)
	}
	if got.MessageID != "2" || textLen(msgs[0].Text) > MaxTextLen || !strings.HasSuffix(msgs[0].Text, "абв") {
		t.Fatalf("split badly: id %s, first chunk ends %q", got.MessageID, msgs[0].Text[len(msgs[0].Text)-10:])
	}
}

func TestKeyboardsOnTheWire(t *testing.T) {
	t.Parallel()
	inline := &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{
		{{Text: "Да", Value: "yes"}, {Text: "Нет", Value: "no", Selected: true}},
		{{Text: "✓ Фитнес", Value: "fit", Selected: true}, {Text: "Без значения"}},
		{},
		{{Text: "Сайт", URL: "https://example.com"}},
	}}
	wantInline := [][]telegramtest.InlineButton{
		{{Text: "Да", CallbackData: "yes"}, {Text: "✓ Нет", CallbackData: "no"}},
		{{Text: "✓ Фитнес", CallbackData: "fit"}, {Text: "Без значения", CallbackData: "Без значения"}},
		{{Text: "Сайт", URL: "https://example.com"}},
	}
	reply := &messenger.Keyboard{Kind: messenger.Reply, Rows: [][]messenger.Button{
		{{Text: "Поделиться номером", RequestContact: true}}, {{Text: "Пропустить"}},
	}}
	wantReply := &telegramtest.ReplyMarkup{
		Keyboard:       [][]telegramtest.KeyButton{{{Text: "Поделиться номером", RequestContact: true}}, {{Text: "Пропустить"}}},
		ResizeKeyboard: true, OneTimeKeyboard: true,
	}
	tests := []struct {
		name string
		msg  messenger.OutMessage
		// want is the markup of each message on the wire, as finally shown.
		want []*telegramtest.ReplyMarkup
		// keyboard is the reply keyboard the user sees afterwards.
		keyboard *telegramtest.ReplyMarkup
	}{
		{"inline", messenger.OutMessage{Text: "q", Keyboard: inline},
			[]*telegramtest.ReplyMarkup{{InlineKeyboard: wantInline}}, nil},
		{"reply with contact", messenger.OutMessage{Text: "phone?", Keyboard: reply},
			[]*telegramtest.ReplyMarkup{wantReply}, wantReply},
		{"remove only", messenger.OutMessage{Text: "thanks", RemoveKeyboard: true},
			[]*telegramtest.ReplyMarkup{{RemoveKeyboard: true}}, nil},
		{"remove and inline: removal sent, inline attached", messenger.OutMessage{Text: "q", Keyboard: inline, RemoveKeyboard: true},
			[]*telegramtest.ReplyMarkup{{InlineKeyboard: wantInline}}, nil},
		{"remove and inline, two chunks", messenger.OutMessage{Text: strings.Repeat("x ", 3000), Keyboard: inline, RemoveKeyboard: true},
			[]*telegramtest.ReplyMarkup{{RemoveKeyboard: true}, {InlineKeyboard: wantInline}}, nil},
		{"empty keyboard", messenger.OutMessage{Text: "q", Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{}}}},
			[]*telegramtest.ReplyMarkup{nil}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(12)
			// A reply keyboard shown earlier, which removals must clear.
			if _, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("12"), Text: "kb", Keyboard: reply}); err != nil {
				t.Fatal(err)
			}
			tt.msg.Chat = chat("12")
			sent, err := b.Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			msgs := s.Messages(12)[1:]
			if len(msgs) != len(tt.want) {
				t.Fatalf("sent %d messages, want %d", len(msgs), len(tt.want))
			}
			for i, m := range msgs {
				if !reflect.DeepEqual(m.ReplyMarkup, tt.want[i]) {
					t.Fatalf("message %d markup = %+v, want %+v", i, m.ReplyMarkup, tt.want[i])
				}
			}
			if sent.MessageID != strconv.Itoa(msgs[len(msgs)-1].MessageID) {
				t.Fatalf("Sent.MessageID = %s", sent.MessageID)
			}
			if tt.keyboard == nil && !tt.msg.RemoveKeyboard {
				tt.keyboard = wantReply // untouched
			}
			if got := s.ReplyKeyboard(12); !reflect.DeepEqual(got, tt.keyboard) {
				t.Fatalf("user's reply keyboard = %+v, want %+v", got, tt.keyboard)
			}
		})
	}
}

func TestSendRefusesBadMessagesLocally(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  messenger.OutMessage
	}{
		{"callback data over 64 bytes", messenger.OutMessage{Text: "q", Keyboard: &messenger.Keyboard{
			Rows: [][]messenger.Button{{{Text: "x", Value: strings.Repeat("я", 33)}}}}}},
		{"contact button in an inline keyboard", messenger.OutMessage{Text: "q", Keyboard: &messenger.Keyboard{
			Rows: [][]messenger.Button{{{Text: "phone", RequestContact: true}}}}}},
		{"empty text", messenger.OutMessage{Text: " \n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(13)
			tt.msg.Chat = chat("13")
			_, err := b.Send(context.Background(), tt.msg)
			if !errors.Is(err, messenger.ErrBadRequest) {
				t.Fatalf("err = %v", err)
			}
			if n := s.Calls("sendMessage"); n != 0 {
				t.Fatalf("sendMessage called %d times", n)
			}
		})
	}
}

func TestSendEdits(t *testing.T) {
	t.Parallel()
	kb := func(caps ...string) *messenger.Keyboard {
		row := make([]messenger.Button, len(caps))
		for i, c := range caps {
			row[i] = messenger.Button{Text: c, Value: strings.ToLower(c)}
		}
		return &messenger.Keyboard{Rows: [][]messenger.Button{row}}
	}
	tests := []struct {
		name     string
		edit     messenger.OutMessage // EditMessageID "1" unless set
		wantMsgs int                  // messages in the chat afterwards
		wantID   string
		wantText string // text of message 1 afterwards
	}{
		{"text and keyboard edited", messenger.OutMessage{Text: "Выбрано: A", Keyboard: kb("✓ A", "B")}, 1, "1", "Выбрано: A"},
		{"nothing changed counts as done", messenger.OutMessage{Text: "q", Keyboard: kb("A", "B")}, 1, "1", "q"},
		{"unknown message: new one sent", messenger.OutMessage{Text: "new", EditMessageID: "99"}, 2, "2", "q"},
		{"not a number: new one sent", messenger.OutMessage{Text: "new", EditMessageID: "x"}, 2, "2", "q"},
		{"reply keyboard cannot be edited in", messenger.OutMessage{Text: "new", Keyboard: &messenger.Keyboard{
			Kind: messenger.Reply, Rows: [][]messenger.Button{{{Text: "phone", RequestContact: true}}}}}, 2, "2", "q"},
		{"too long for one message", messenger.OutMessage{Text: strings.Repeat("a ", 2100)}, 3, "3", "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, _ := newTestBot(t, nil)
			s.AddUser(14)
			ctx := context.Background()
			if _, err := b.Send(ctx, messenger.OutMessage{Chat: chat("14"), Text: "q", Keyboard: kb("A", "B")}); err != nil {
				t.Fatal(err)
			}
			tt.edit.Chat = chat("14")
			if tt.edit.EditMessageID == "" {
				tt.edit.EditMessageID = "1"
			}
			sent, err := b.Send(ctx, tt.edit)
			if err != nil {
				t.Fatal(err)
			}
			msgs := s.Messages(14)
			if len(msgs) != tt.wantMsgs || sent.MessageID != tt.wantID || msgs[0].Text != tt.wantText {
				t.Fatalf("messages %d, Sent %q, first %q", len(msgs), sent.MessageID, msgs[0].Text)
			}
		})
	}
}

func TestSendEditTransientErrorIsReturned(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(15)
	ctx := context.Background()
	if _, err := b.Send(ctx, messenger.OutMessage{Chat: chat("15"), Text: "q"}); err != nil {
		t.Fatal(err)
	}
	s.FailNext("editMessageText", 500, 0)
	_, err := b.Send(ctx, messenger.OutMessage{Chat: chat("15"), Text: "q2", EditMessageID: "1"})
	if !errors.Is(err, messenger.ErrTransient) || len(s.Messages(15)) != 1 {
		t.Fatalf("err = %v, messages %d", err, len(s.Messages(15)))
	}
}

func TestAttachFallbackSendsAgain(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(16)
	s.FailNext("editMessageReplyMarkup", 400, 0)
	kb := &messenger.Keyboard{Rows: [][]messenger.Button{{{Text: "A", Value: "a"}}}}
	sent, err := b.Send(context.Background(), messenger.OutMessage{Chat: chat("16"), Text: "q", Keyboard: kb, RemoveKeyboard: true})
	msgs := s.Messages(16)
	if err != nil || len(msgs) != 2 || sent.MessageID != "2" || !msgs[1].ReplyMarkup.IsInline() || msgs[1].Text != "q" {
		t.Fatalf("err %v, sent %+v, messages %+v", err, sent, msgs)
	}
}
