package telegram

import (
	"reflect"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	const date = 1700000000
	at := time.Unix(date, 0)
	user := &tgbotapi.User{ID: 42, FirstName: "Анна", LastName: "Петрова", UserName: "anna", LanguageCode: "ru"}
	prof := &messenger.Profile{FirstName: "Анна", LastName: "Петрова", Username: "anna", Language: "ru"}
	pm := &tgbotapi.Chat{ID: 42, Type: "private"}
	group := &tgbotapi.Chat{ID: -100, Type: "supergroup"}
	msg := func(m tgbotapi.Message) *tgbotapi.Message {
		m.MessageID, m.Date = 7, date
		if m.From == nil {
			m.From = user
		}
		if m.Chat == nil {
			m.Chat = pm
		}
		return &m
	}
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	want := func(kind messenger.UpdateKind, tm time.Time, mod func(*messenger.Update)) *messenger.Update {
		u := &messenger.Update{ID: "900", Chat: key, Kind: kind, Profile: prof, Time: tm}
		if mod != nil {
			mod(u)
		}
		return u
	}
	data := func(s string) *string { return &s }
	keyboard := &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{{
		{Text: "✓ Да", CallbackData: data("yes")}, {Text: "Нет", CallbackData: data("no")},
	}}}
	member := func(chat tgbotapi.Chat, status string) *tgbotapi.ChatMemberUpdated {
		return &tgbotapi.ChatMemberUpdated{Chat: chat, From: *user, Date: date,
			OldChatMember: tgbotapi.ChatMember{Status: "member"}, NewChatMember: tgbotapi.ChatMember{Status: status}}
	}
	tests := []struct {
		name string
		in   tgbotapi.Update
		want *messenger.Update // nil: ignored
	}{
		{"text", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "Марина"})},
			want(messenger.KindMessage, at, func(u *messenger.Update) { u.Text = "Марина" })},
		{"deep link stays text", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "/start b2b_ads",
			Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: 6}}})},
			want(messenger.KindMessage, at, func(u *messenger.Update) { u.Text = "/start b2b_ads" })},
		{"own contact", tgbotapi.Update{Message: msg(tgbotapi.Message{Contact: &tgbotapi.Contact{
			PhoneNumber: "79123456789", FirstName: "Анна", UserID: 42}})},
			want(messenger.KindContact, at, func(u *messenger.Update) {
				u.Contact = &messenger.Contact{Phone: "79123456789", FirstName: "Анна", UserID: "42"}
			})},
		{"foreign contact without user id", tgbotapi.Update{Message: msg(tgbotapi.Message{Contact: &tgbotapi.Contact{
			PhoneNumber: "+7 900", FirstName: "Boris", LastName: "B"}})},
			want(messenger.KindContact, at, func(u *messenger.Update) {
				u.Contact = &messenger.Contact{Phone: "+7 900", FirstName: "Boris", LastName: "B"}
			})},
		{"sticker", tgbotapi.Update{Message: msg(tgbotapi.Message{Sticker: &tgbotapi.Sticker{FileID: "s"}})},
			want(messenger.KindUnsupported, at, nil)},
		{"photo with caption", tgbotapi.Update{Message: msg(tgbotapi.Message{Photo: []tgbotapi.PhotoSize{{FileID: "p"}}, Caption: "look"})},
			want(messenger.KindUnsupported, at, nil)},
		{"voice", tgbotapi.Update{Message: msg(tgbotapi.Message{Voice: &tgbotapi.Voice{FileID: "v"}})},
			want(messenger.KindUnsupported, at, nil)},
		{"document", tgbotapi.Update{Message: msg(tgbotapi.Message{Document: &tgbotapi.Document{FileID: "d"}})},
			want(messenger.KindUnsupported, at, nil)},
		{"button press", tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "q1", From: user, Data: "yes",
			Message: msg(tgbotapi.Message{Text: "Согласны?", From: &tgbotapi.User{ID: 1, IsBot: true}, ReplyMarkup: keyboard})}},
			want(messenger.KindButton, now, func(u *messenger.Update) { u.Value, u.Text, u.MessageID = "yes", "Да", "7" })},
		{"button press on an old message without keyboard", tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "q2", From: user,
			Data: "no", Message: &tgbotapi.Message{MessageID: 3, Chat: pm}}},
			want(messenger.KindButton, now, func(u *messenger.Update) { u.Value, u.MessageID = "no", "3" })},
		{"blocked", tgbotapi.Update{MyChatMember: member(*pm, "kicked")}, want(messenger.KindBlocked, at, nil)},
		{"unblocked", tgbotapi.Update{MyChatMember: member(*pm, "member")}, want(messenger.KindUnblocked, at, nil)},
		{"group message", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "hi", Chat: group})}, nil},
		{"bot added to a group", tgbotapi.Update{MyChatMember: member(*group, "member")}, nil},
		{"member left status", tgbotapi.Update{MyChatMember: member(*pm, "left")}, nil},
		{"callback in a group", tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "q3", From: user, Data: "x",
			Message: &tgbotapi.Message{MessageID: 3, Chat: group}}}, nil},
		{"inline-mode callback", tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "q4", From: user, InlineMessageID: "i"}}, nil},
		{"channel post", tgbotapi.Update{ChannelPost: &tgbotapi.Message{Text: "news", Chat: &tgbotapi.Chat{ID: -5, Type: "channel"}}}, nil},
		{"edited message", tgbotapi.Update{EditedMessage: msg(tgbotapi.Message{Text: "fix"})}, nil},
		{"pinned service message", tgbotapi.Update{Message: msg(tgbotapi.Message{PinnedMessage: &tgbotapi.Message{}})}, nil},
		{"message from a bot", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "x", From: &tgbotapi.User{ID: 5, IsBot: true}})}, nil},
		{"inline query", tgbotapi.Update{InlineQuery: &tgbotapi.InlineQuery{ID: "iq", From: user}}, nil},
		{"empty update", tgbotapi.Update{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.UpdateID = 900
			got, reason := translate(&tt.in, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("translate =\n %+v\nwant\n %+v", got, tt.want)
			}
			if (got == nil) != (reason != "") {
				t.Fatalf("reason %q for %+v", reason, got)
			}
		})
	}
}

func TestUpdateKindNames(t *testing.T) {
	t.Parallel()
	if got := updateKind(&tgbotapi.Update{ChannelPost: &tgbotapi.Message{}}); got != "channel_post" {
		t.Fatalf("kind = %q", got)
	}
	if got := updateKind(&tgbotapi.Update{}); got != "unknown" {
		t.Fatalf("kind = %q", got)
	}
}
