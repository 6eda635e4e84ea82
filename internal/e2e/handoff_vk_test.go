package e2e

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestHandoffTeamChatVK: the managers' chat in a VK conversation, running
// next to the Telegram one. A Telegram client's request is posted in both
// chats; a manager's reply to the VK post reaches the client under the
// manager's VK name; the client's next message is forwarded to both chats,
// under each chat's own card; a colleague's /take is told who has it; and
// /done in reply to the forward gives the chat back to the bot, which asks
// the pending question again.
func TestHandoffTeamChatVK(t *testing.T) {
	const team, conv = -1007770002, 1
	vk := vktest.New(t)
	peer := vk.AddConversation(conv)
	h := startHub(t, func(c *config.Config) {
		c.TeamChat.ChatID, c.TeamChat.VKPeerID = team, int64(peer)
		c.VK.Token, c.VK.GroupID, c.VK.APIURL = vk.Token(), vk.GroupID(), vk.URL()
	})
	if !vk.WaitCalls("groups.getLongPollServer", 1, 15*time.Second) {
		t.Fatal("the VK bot never started its long poll")
	}
	h.fake.AddGroup(team, "Менеджеры")
	db := handoffDB(t, h)
	const user = 7003
	h.fake.AddUser(user)
	d := telegramtest.NewDriver(h.fake)
	vk.SetName(9101, "Ольга", "Смирнова")
	vk.SetName(9102, "Иван", "Петров")

	d.Start(t, user, "")
	waitText(t, h, user, "Согласны на обработку")
	d.Press(t, user, "Да, согласен")
	waitText(t, h, user, "Как к вам обращаться?")
	h.fake.SendText(user, "/manager Где мой заказ?")
	waitText(t, h, user, "менеджер")

	tgCard := waitGroup(t, h, team, "Где мой заказ?")
	card := waitConversation(t, vk, peer, "Где мой заказ?")
	if !strings.Contains(card.Text, "Обращение №") || card.ReplyTo != 0 {
		t.Fatalf("the VK card = %+v", card)
	}
	// A reply to a post not recorded yet would get the hint: wait for it.
	waitCount(t, db, `SELECT COUNT(*) FROM handoff_posts WHERE chat = $1 AND message_id = $2`, fmt.Sprint("vk:", peer), fmt.Sprint(card.ConvID))

	olga := vk.SendConversationText(conv, 9101, "Добрый день! Проверю заказ и напишу.", card.ConvID)
	waitText(t, h, user, "Добрый день! Проверю заказ и напишу.")
	if ok := waitConversationReply(t, vk, peer, "Отправлено клиенту", olga.ConvID); !ok {
		t.Error("the outcome was not answered as a reply to the manager's message")
	}
	var author string
	waitCount(t, db, `SELECT COUNT(*) FROM messages m JOIN clients c ON c.id = m.client_id
		WHERE c.platform_user_id = $1 AND m.author_kind = 'manager' AND m.status = 'sent'`, fmt.Sprint(user))
	if err := db.QueryRow(`SELECT m.author FROM messages m JOIN clients c ON c.id = m.client_id
		WHERE c.platform_user_id = $1 AND m.author_kind = 'manager'`, fmt.Sprint(user)).Scan(&author); err != nil ||
		author != "Ольга Смирнова" {
		t.Errorf("the reply's author in the transcript %q (%v), want the manager's VK name", author, err)
	}

	// The client's next message: under each chat's own card.
	h.fake.SendText(user, "Номер заказа 4512")
	if fwd := waitConversation(t, vk, peer, "Номер заказа 4512"); fwd.ReplyTo != card.ConvID {
		t.Errorf("the VK forward replies to %d, want the card %d", fwd.ReplyTo, card.ConvID)
	}
	if fwd := waitGroup(t, h, team, "Номер заказа 4512"); fwd.ReplyTo != tgCard.MessageID {
		t.Errorf("the Telegram forward replies to %d, want its card %d", fwd.ReplyTo, tgCard.MessageID)
	}
	fwd := waitConversation(t, vk, peer, "Номер заказа 4512")

	// Olga's reply took the request: Ivan's /take is told who has it.
	ivan := vk.SendConversationText(conv, 9102, "/take", card.ConvID)
	if !waitConversationReply(t, vk, peer, "уже ведёт Ольга Смирнова", ivan.ConvID) {
		t.Error("a colleague's /take was not told who has the request")
	}

	before := len(h.fake.Messages(user))
	vk.SendConversationText(conv, 9101, "/done", fwd.ConvID)
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs := h.fake.Messages(user)
		if len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "Как к вам обращаться?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/done did not give the chat back to the bot: %d messages since", len(msgs)-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitConversation(t, vk, peer, "возвращён боту")
	// Each chat got the card once.
	for _, n := range []int{countContaining(textsOfConversation(vk, peer), "🔔 Обращение №"), countGroup(h, team, "🔔 Обращение №")} {
		if n != 1 {
			t.Errorf("a team chat got %d cards, want 1", n)
		}
	}
}

// waitConversation waits until the bot posted a message containing part in
// VK conversation peer and returns the first such.
func waitConversation(t *testing.T, vk *vktest.Server, peer int, part string) vktest.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range vk.Messages(peer) {
			if strings.Contains(m.Text, part) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the VK team chat never got %q; got %q", part, textsOfConversation(vk, peer))
	return vktest.Message{}
}

// waitConversationReply waits for the bot's message containing part and
// reports whether it replies to conversation message replyTo.
func waitConversationReply(t *testing.T, vk *vktest.Server, peer int, part string, replyTo int) bool {
	t.Helper()
	return waitConversation(t, vk, peer, part).ReplyTo == replyTo
}

func textsOfConversation(vk *vktest.Server, peer int) []string {
	var out []string
	for _, m := range vk.Messages(peer) {
		out = append(out, m.Text)
	}
	return out
}

func countContaining(texts []string, part string) int {
	n := 0
	for _, s := range texts {
		if strings.Contains(s, part) {
			n++
		}
	}
	return n
}

func countGroup(h *hub, chat int64, part string) int {
	var texts []string
	for _, m := range h.fake.Messages(chat) {
		texts = append(texts, m.Text)
	}
	return countContaining(texts, part)
}

// waitCount waits until the count query q answers more than 0.
func waitCount(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no row for %s %v", q, args)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
