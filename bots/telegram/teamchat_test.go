package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

const testTeam = -1001234567890

func teamKey() messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: "-1001234567890"}
}

// TestTeamChatUpdates: with ManagersChatID the team chat's messages reach
// the sink as Team updates (a reply to the bot's post with its id, the
// author's profile), other groups stay ignored.
func TestTeamChatUpdates(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, func(c *Config) { c.ManagersChatID = testTeam; c.Bot = "shop" })
	s.AddGroup(testTeam, "Менеджеры")
	s.AddGroup(-5, "Чужая группа")
	s.SetPrivacyMode(false)
	post, err := b.Send(context.Background(), messenger.OutMessage{Chat: messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "-1001234567890"}, Text: "Новое обращение"})
	if err != nil {
		t.Fatal(err)
	}
	anna := telegramtest.User{ID: 42, FirstName: "Анна", LastName: "Петрова", Username: "anna"}
	s.SendGroupText(-5, anna, "не наша группа", 0)
	s.SendGroupText(testTeam, anna, "Добрый день!", atoi(t, post.MessageID))
	s.SendGroupText(testTeam, anna, "/take", 0)
	sink := newSink()
	runBot(t, b, sink)
	got := sink.waitUpdates(t, 2)
	want := teamKey()
	want.Bot = "shop"
	u := got[0]
	if !u.Team || u.Chat != want || u.Text != "Добрый день!" || u.ReplyToID != post.MessageID || u.AuthorID != "42" ||
		u.Profile == nil || u.Profile.LastName != "Петрова" || u.Profile.Username != "anna" || u.MessageID == "" {
		t.Fatalf("team update = %+v", u)
	}
	if v := got[1]; !v.Team || v.Text != "/take" || v.ReplyToID != "" {
		t.Fatalf("command update = %+v", v)
	}
	if len(got) != 2 {
		t.Fatalf("got %d updates, want 2 (the other group's message ignored)", len(got))
	}
}

// TestSendReplyTo: ReplyToID threads the message (the first chunk of a
// split one) under the earlier one; a message since deleted is no error.
func TestSendReplyTo(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddGroup(testTeam, "Менеджеры")
	ctx := context.Background()
	post, err := b.Send(ctx, messenger.OutMessage{Chat: teamKey(), Text: "Новое обращение"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("слово ", 900) // 5400 characters: two messages
	tests := []struct {
		name    string
		msg     messenger.OutMessage
		replies []int // ReplyTo of each message the send made
	}{
		{"reply", messenger.OutMessage{Text: "Клиент: спасибо", ReplyToID: post.MessageID}, []int{atoi(t, post.MessageID)}},
		{"split reply", messenger.OutMessage{Text: long, ReplyToID: post.MessageID}, []int{atoi(t, post.MessageID), 0}},
		{"photo reply", messenger.OutMessage{Text: "фото", ImageURL: "https://example.com/a.jpg", ReplyToID: post.MessageID},
			[]int{atoi(t, post.MessageID)}},
		{"reply to a deleted message", messenger.OutMessage{Text: "ещё", ReplyToID: "9999"}, []int{0}},
		{"no reply", messenger.OutMessage{Text: "просто"}, []int{0}},
	}
	for _, tt := range tests { // sequential: they share the group
		before := len(s.Messages(testTeam))
		tt.msg.Chat = teamKey()
		if _, err := b.Send(ctx, tt.msg); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		msgs := s.Messages(testTeam)[before:]
		if len(msgs) != len(tt.replies) {
			t.Fatalf("%s: sent %d messages, want %d", tt.name, len(msgs), len(tt.replies))
		}
		for i, m := range msgs {
			if m.ReplyTo != tt.replies[i] {
				t.Errorf("%s: message %d replies to %d, want %d", tt.name, i, m.ReplyTo, tt.replies[i])
			}
		}
	}
	reqs := s.Requests("sendMessage")
	if p := reqs[1].Params; p["reply_to_message_id"] != post.MessageID || p["allow_sending_without_reply"] != "true" {
		t.Fatalf("wire params = %v", p)
	}
	_, err = b.Send(ctx, messenger.OutMessage{Chat: teamKey(), Text: "x", ReplyToID: "abc"})
	if !errors.Is(err, messenger.ErrBadRequest) {
		t.Fatalf("bad reply id: err = %v", err)
	}
}

// TestSendToKickedTeamChat: a team chat the bot was removed from answers
// 403, which the adapter reports as unreachable (ErrBlocked).
func TestSendToKickedTeamChat(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	s.AddGroup(testTeam, "Менеджеры")
	s.KickBot(testTeam)
	_, err := b.Send(context.Background(), messenger.OutMessage{Chat: teamKey(), Text: "x"})
	if !errors.Is(err, messenger.ErrBlocked) {
		t.Fatalf("err = %v, want ErrBlocked", err)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("not a message id: %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}
