package telegramfake_test

import (
	"strconv"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

func TestGroupPostsAndReplies(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	const team = -1001234
	s.AddGroup(team, "Менеджеры")
	anna := telegramtest.User{ID: 42, FirstName: "Анна", LastName: "Петрова", Username: "anna"}

	post, err := api.Send(tgbotapi.NewMessage(team, "Новое обращение"))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if post.Chat.ID != team || post.Chat.Type != "supergroup" || post.Chat.Title != "Менеджеры" {
		t.Fatalf("post chat = %+v", post.Chat)
	}

	// Privacy mode (on by default): chatter does not reach the bot; a
	// reply to the bot's post and a command do.
	if id := s.SendGroupText(team, anna, "кто на смене?", 0); id != 0 {
		t.Fatalf("chatter reached the bot in privacy mode: update %d", id)
	}
	reply := s.SendGroupText(team, anna, "Здравствуйте!", post.MessageID)
	cmd := s.SendGroupText(team, anna, "/take@"+telegramtest.BotUsername, 0)
	if reply == 0 || cmd == 0 {
		t.Fatalf("reply %d, command %d: want both delivered", reply, cmd)
	}
	ups, err := api.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(ups) != 2 {
		t.Fatalf("updates = %+v, %v", ups, err)
	}
	m := ups[0].Message
	if m.Chat.ID != team || m.From.ID != 42 || m.From.LastName != "Петрова" || m.Text != "Здравствуйте!" ||
		m.ReplyToMessage == nil || m.ReplyToMessage.MessageID != post.MessageID || m.ReplyToMessage.From.ID != telegramtest.BotID ||
		m.ReplyToMessage.Text != "Новое обращение" {
		t.Fatalf("reply update = %+v (reply_to %+v)", m, m.ReplyToMessage)
	}
	if got := s.GroupMessageID(reply); got != m.MessageID {
		t.Fatalf("GroupMessageID = %d, want %d", got, m.MessageID)
	}
	if !ups[1].Message.IsCommand() || ups[1].Message.Command() != "take" {
		t.Fatalf("command update = %+v", ups[1].Message)
	}

	// Privacy mode off: everything reaches the bot, a reply to a member's
	// message carries that message.
	s.SetPrivacyMode(false)
	me, err := api.GetMe()
	if err != nil || !me.CanReadAllGroupMessages {
		t.Fatalf("getMe = %+v, %v", me, err)
	}
	chatter := s.SendGroupText(team, telegramtest.User{ID: 43, FirstName: "Иван"}, "я", m.MessageID)
	ups, _ = api.GetUpdates(tgbotapi.UpdateConfig{Offset: ups[1].UpdateID + 1})
	if chatter == 0 || len(ups) != 1 || ups[0].Message.ReplyToMessage == nil || ups[0].Message.ReplyToMessage.From.ID != 42 {
		t.Fatalf("chatter updates = %+v", ups)
	}

	// The bot answers in the thread.
	answer := tgbotapi.NewMessage(team, "Отправлено клиенту")
	answer.ReplyToMessageID = m.MessageID
	sent, err := api.Send(answer)
	if err != nil || sent.ReplyToMessage == nil || sent.ReplyToMessage.MessageID != m.MessageID {
		t.Fatalf("answer = %+v, %v", sent, err)
	}
	msgs := s.Messages(team)
	if len(msgs) != 2 || msgs[0].ReplyTo != 0 || msgs[1].ReplyTo != m.MessageID {
		t.Fatalf("group messages = %+v", msgs)
	}
}

func TestGroupReplyTargets(t *testing.T) {
	t.Parallel()
	s := telegramtest.New(t)
	api := newAPI(t, s)
	const team = -77
	s.AddGroup(team, "Команда")
	post, _ := api.Send(tgbotapi.NewMessage(team, "пост"))

	missing := tgbotapi.NewMessage(team, "ответ")
	missing.ReplyToMessageID = 999
	if _, err := api.Send(missing); err == nil || !strings.Contains(err.Error(), "message to be replied not found") {
		t.Fatalf("reply to a missing message: err = %v", err)
	}
	missing.AllowSendingWithoutReply = true
	if m, err := api.Send(missing); err != nil || m.ReplyToMessage != nil {
		t.Fatalf("allowed without reply: %+v, %v", m, err)
	}
	params := tgbotapi.Params{"chat_id": "-77", "text": "через reply_parameters",
		"reply_parameters": `{"message_id":` + strconv.Itoa(post.MessageID) + `}`}
	if _, err := api.MakeRequest("sendMessage", params); err != nil {
		t.Fatalf("reply_parameters: %v", err)
	}
	if msgs := s.Messages(team); msgs[len(msgs)-1].ReplyTo != post.MessageID {
		t.Fatalf("reply_parameters not honoured: %+v", msgs[len(msgs)-1])
	}
	if got := s.WaitMessages(team, 3, 0); len(got) != 3 {
		t.Fatalf("WaitMessages(group) = %d", len(got))
	}

	s.KickBot(team)
	if _, err := api.Send(tgbotapi.NewMessage(team, "x")); err == nil || !strings.Contains(err.Error(), "kicked") {
		t.Fatalf("send after kick: err = %v", err)
	}
}
