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
	const teamID, botID = -1001234, 7000000001
	team := &tgbotapi.Chat{ID: teamID, Type: "supergroup", Title: "Менеджеры"}
	bot := &tgbotapi.User{ID: botID, IsBot: true, FirstName: "Chathub"}
	colleague := &tgbotapi.User{ID: 43, FirstName: "Иван"}
	teamKey := messenger.ChatKey{Platform: messenger.Telegram, ID: "-1001234"}
	teamMsg := func(kind messenger.UpdateKind, text, replyTo string) *messenger.Update {
		return &messenger.Update{ID: "900", Chat: teamKey, Kind: kind, Text: text, MessageID: "7", Time: at,
			Team: true, AuthorID: "42", Profile: prof, ReplyToID: replyTo}
	}
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
	media := func(kind, caption string) *messenger.Update {
		return want(messenger.KindUnsupported, at, func(u *messenger.Update) {
			u.Media, u.Text, u.PlatformMsgID = kind, caption, "7"
		})
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
			want(messenger.KindMessage, at, func(u *messenger.Update) { u.Text, u.PlatformMsgID = "Марина", "7" })},
		{"deep link stays text", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "/start b2b_ads",
			Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: 6}}})},
			want(messenger.KindMessage, at, func(u *messenger.Update) { u.Text, u.PlatformMsgID = "/start b2b_ads", "7" })},
		{"own contact", tgbotapi.Update{Message: msg(tgbotapi.Message{Contact: &tgbotapi.Contact{
			PhoneNumber: "79123456789", FirstName: "Анна", UserID: 42}})},
			want(messenger.KindContact, at, func(u *messenger.Update) {
				u.Contact = &messenger.Contact{Phone: "79123456789", FirstName: "Анна", UserID: "42"}
				u.PlatformMsgID = "7"
			})},
		{"foreign contact without user id", tgbotapi.Update{Message: msg(tgbotapi.Message{Contact: &tgbotapi.Contact{
			PhoneNumber: "+7 900", FirstName: "Boris", LastName: "B"}})},
			want(messenger.KindContact, at, func(u *messenger.Update) {
				u.Contact = &messenger.Contact{Phone: "+7 900", FirstName: "Boris", LastName: "B"}
				u.PlatformMsgID = "7"
			})},
		{"sticker", tgbotapi.Update{Message: msg(tgbotapi.Message{Sticker: &tgbotapi.Sticker{FileID: "s"}})},
			media(messenger.MediaSticker, "")},
		{"photo", tgbotapi.Update{Message: msg(tgbotapi.Message{Photo: []tgbotapi.PhotoSize{{FileID: "p"}}})},
			media(messenger.MediaPhoto, "")},
		{"photo with caption", tgbotapi.Update{Message: msg(tgbotapi.Message{Photo: []tgbotapi.PhotoSize{{FileID: "p"}}, Caption: "look"})},
			media(messenger.MediaPhoto, "look")},
		{"voice", tgbotapi.Update{Message: msg(tgbotapi.Message{Voice: &tgbotapi.Voice{FileID: "v"}})},
			media(messenger.MediaVoice, "")},
		{"video with caption", tgbotapi.Update{Message: msg(tgbotapi.Message{Video: &tgbotapi.Video{FileID: "v"}, Caption: "вот"})},
			media(messenger.MediaVideo, "вот")},
		{"video note", tgbotapi.Update{Message: msg(tgbotapi.Message{VideoNote: &tgbotapi.VideoNote{FileID: "n"}})},
			media(messenger.MediaVideo, "")},
		{"animation (sent with a document)", tgbotapi.Update{Message: msg(tgbotapi.Message{Animation: &tgbotapi.Animation{FileID: "a"},
			Document: &tgbotapi.Document{FileID: "a"}})}, media(messenger.MediaVideo, "")},
		{"audio", tgbotapi.Update{Message: msg(tgbotapi.Message{Audio: &tgbotapi.Audio{FileID: "m"}})},
			media(messenger.MediaAudio, "")},
		{"document with caption", tgbotapi.Update{Message: msg(tgbotapi.Message{Document: &tgbotapi.Document{FileID: "d"}, Caption: "договор"})},
			media(messenger.MediaDocument, "договор")},
		{"location", tgbotapi.Update{Message: msg(tgbotapi.Message{Location: &tgbotapi.Location{Latitude: 55.75, Longitude: 37.61}})},
			media(messenger.MediaLocation, "")},
		{"venue", tgbotapi.Update{Message: msg(tgbotapi.Message{Venue: &tgbotapi.Venue{Title: "Кафе",
			Location: tgbotapi.Location{Latitude: 55.75, Longitude: 37.61}}, Location: &tgbotapi.Location{Latitude: 55.75, Longitude: 37.61}})},
			media(messenger.MediaLocation, "")},
		{"poll", tgbotapi.Update{Message: msg(tgbotapi.Message{Poll: &tgbotapi.Poll{ID: "p", Question: "?"}})},
			media(messenger.MediaOther, "")},
		{"dice", tgbotapi.Update{Message: msg(tgbotapi.Message{Dice: &tgbotapi.Dice{Emoji: "🎲", Value: 3}})},
			media(messenger.MediaOther, "")},
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
		{"team chat reply to the bot's post", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "Добрый день!", Chat: team,
			ReplyToMessage: &tgbotapi.Message{MessageID: 55, From: bot, Chat: team, Text: "Новое обращение"}})},
			teamMsg(messenger.KindMessage, "Добрый день!", "55")},
		{"team chat command in reply", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "/take@chathub_test_bot", Chat: team,
			Entities:       []tgbotapi.MessageEntity{{Type: "bot_command", Length: 22}},
			ReplyToMessage: &tgbotapi.Message{MessageID: 56, From: bot, Chat: team}})},
			teamMsg(messenger.KindMessage, "/take@chathub_test_bot", "56")},
		{"team chat message without reply", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "кто на смене?", Chat: team})},
			teamMsg(messenger.KindMessage, "кто на смене?", "")},
		{"team chat reply to a colleague is no reply to a post", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "беру", Chat: team,
			ReplyToMessage: &tgbotapi.Message{MessageID: 57, From: colleague, Chat: team}})},
			teamMsg(messenger.KindMessage, "беру", "")},
		{"team chat photo in reply", tgbotapi.Update{Message: msg(tgbotapi.Message{Photo: []tgbotapi.PhotoSize{{FileID: "p"}}, Chat: team,
			ReplyToMessage: &tgbotapi.Message{MessageID: 58, From: bot, Chat: team}})},
			teamMsg(messenger.KindUnsupported, "", "58")},
		{"team chat anonymous admin", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "/done", Chat: team,
			From:       &tgbotapi.User{ID: 1087968824, IsBot: true, FirstName: "Group", UserName: "GroupAnonymousBot"},
			SenderChat: team, AuthorSignature: "Ольга", ReplyToMessage: &tgbotapi.Message{MessageID: 59, From: bot, Chat: team}})},
			&messenger.Update{ID: "900", Chat: teamKey, Kind: messenger.KindMessage, Text: "/done", MessageID: "7", Time: at,
				Team: true, AuthorID: "chat-1001234", Profile: &messenger.Profile{FirstName: "Ольга"}, ReplyToID: "59"}},
		{"team chat message of another bot", tgbotapi.Update{Message: msg(tgbotapi.Message{Text: "x", Chat: team,
			From: &tgbotapi.User{ID: 5, IsBot: true}})}, nil},
		{"team chat member joined", tgbotapi.Update{Message: msg(tgbotapi.Message{Chat: team,
			NewChatMembers: []tgbotapi.User{*colleague}})}, nil},
		{"team chat migrated to a supergroup", tgbotapi.Update{Message: msg(tgbotapi.Message{Chat: team, MigrateToChatID: -1009999})}, nil},
		{"team chat edited message", tgbotapi.Update{EditedMessage: msg(tgbotapi.Message{Text: "fix", Chat: team})}, nil},
		{"team chat button press", tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "q5", From: user, Data: "x",
			Message: &tgbotapi.Message{MessageID: 3, Chat: team}}}, nil},
		{"bot added to the team chat", tgbotapi.Update{MyChatMember: member(*team, "member")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.UpdateID = 900
			got, reason := translate(&tt.in, now, teamID, botID)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("translate =\n %+v\nwant\n %+v", got, tt.want)
			}
			if (got == nil) != (reason != "") {
				t.Fatalf("reason %q for %+v", reason, got)
			}
		})
	}
}

// TestTranslateTeamChatUnknownBotID: without the bot's id (a token without
// the id prefix) every reply in the team chat counts, the team chat's own
// store decides whether it is a post.
func TestTranslateTeamChatUnknownBotID(t *testing.T) {
	t.Parallel()
	team := &tgbotapi.Chat{ID: -5, Type: "group"}
	u := tgbotapi.Update{UpdateID: 1, Message: &tgbotapi.Message{MessageID: 2, Text: "ok", Chat: team,
		From: &tgbotapi.User{ID: 9, FirstName: "A"}, ReplyToMessage: &tgbotapi.Message{MessageID: 1, From: &tgbotapi.User{ID: 8}}}}
	got, _ := translate(&u, time.Now(), -5, 0)
	if got == nil || !got.Team || got.ReplyToID != "1" || got.AuthorID != "9" {
		t.Fatalf("translate = %+v", got)
	}
	if got, _ := translate(&u, time.Now(), 0, 0); got != nil {
		t.Fatalf("without a team chat a group message must be ignored, got %+v", got)
	}
}

func TestTokenBotID(t *testing.T) {
	t.Parallel()
	for tok, want := range map[string]int64{"7000000001:AAxyz": 7000000001, "abc:def": 0, "nocolon": 0, "-5:x": 0, "": 0} {
		if got := tokenBotID(tok); got != want {
			t.Errorf("tokenBotID(%q) = %d, want %d", tok, got, want)
		}
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
