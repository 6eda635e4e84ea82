package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/platformtest/telegramfake"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// handoffDB opens the hub's schema for the test's own reads.
func handoffDB(t *testing.T, h *hub) *sql.DB {
	t.Helper()
	pcfg, err := pgx.ParseConfig(h.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*pcfg)
	t.Cleanup(func() { db.Close() })
	return db
}

// waitText waits until the bot's messages to user include one containing
// part, and returns how many messages the user had then.
func waitText(t *testing.T, h *hub, user int64, part string) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		msgs := h.fake.Messages(user)
		for _, m := range msgs {
			if strings.Contains(m.Text, part) {
				return len(msgs)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, m := range h.fake.Messages(user) {
		got = append(got, m.Text)
	}
	t.Fatalf("user %d never got %q; got %q", user, part, got)
	return 0
}

// TestHandoffLoop is issue 12's story on the real `chathub run` with
// PostgreSQL, Redis and the fake Telegram: /manager mid-questionnaire and a
// question → the question is in Диалоги, not in the CRM → a manager takes
// it and replies in the console → the client gets the reply → the client's
// answer appears live → a broadcast started meanwhile skips the chat →
// «Вернуть боту» → the bot asks the pending question again and the answer
// is saved.
func TestHandoffLoop(t *testing.T) {
	h := startHub(t, nil)
	db := handoffDB(t, h)
	const user = 7001
	h.fake.AddUser(user)
	d := telegramtest.NewDriver(h.fake)
	ctx := context.Background()

	d.Start(t, user, "")
	waitText(t, h, user, "Согласны на обработку")
	d.Press(t, user, "Да, согласен")
	waitText(t, h, user, "Как к вам обращаться?")
	h.fake.SendText(user, "/manager")
	acked := waitText(t, h, user, "менеджер")
	h.fake.SendText(user, "У меня вопрос по заказу")

	// The question reaches the inbox (the request's question), not a field.
	var reqID, clientID int64
	var question string
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := db.QueryRowContext(ctx, `SELECT h.id, h.client_id, h.question FROM handoffs h JOIN clients c ON c.id = h.client_id
			WHERE c.platform_user_id = $1 AND h.status <> 'closed'`, fmt.Sprint(user)).Scan(&reqID, &clientID, &question)
		if err == nil && question != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live request with the question: id %d question %q err %v", reqID, question, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if question != "У меня вопрос по заказу" {
		t.Errorf("request question %q", question)
	}
	var answers int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM answers WHERE client_id = $1 AND value LIKE '%вопрос по заказу%'`, clientID).Scan(&answers); err != nil {
		t.Fatal(err)
	}
	var firstName sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT first_name FROM clients WHERE id = $1`, clientID).Scan(&firstName); err != nil {
		t.Fatal(err)
	}
	if answers != 0 || strings.Contains(firstName.String, "вопрос") {
		t.Fatalf("the question went into the CRM: %d answers, first_name %q", answers, firstName.String)
	}
	if n := len(h.fake.Messages(user)); n != acked {
		t.Errorf("the bot spoke during the hand-off: %d messages, %d at the acknowledgment", n, acked)
	}

	// The manager takes it and replies in the console.
	tab := h.signIn(t, "manager", "ru")
	browsertest.Run(t, tab,
		chromedp.Click(`//nav[@class="menu"]//a[starts-with(normalize-space(), "Диалоги")]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Диалоги"]`),
		chromedp.Click(fmt.Sprintf(`//tr[@data-request="%d"]//a`, reqID)),
		chromedp.WaitVisible(`//button[normalize-space()="Взять"]`),
		chromedp.Click(`//button[normalize-space()="Взять"]`),
		chromedp.WaitVisible(`//*[@role="status" and contains(., "Запрос ваш")]`),
		browsertest.Type(`//textarea[@id=//label[normalize-space()="Ответ клиенту"]/@for]`, "Здравствуйте! Заказ уже в пути."),
		chromedp.Click(`//button[normalize-space()="Отправить"]`),
		chromedp.WaitVisible(`//*[@role="status" and contains(., "Ответ отправлен")]`),
	)
	waitText(t, h, user, "Здравствуйте! Заказ уже в пути.")

	// The client's answer appears without a reload.
	h.fake.SendText(user, "Спасибо, жду")
	browsertest.Run(t, tab, chromedp.WaitVisible(`//*[contains(@class,"msg")][contains(., "Спасибо, жду")]`))
	browsertest.ScanAccessibility(t, tab, "ru live request")
	browsertest.Screenshot(t, tab, "handoff-request-ru")

	// A broadcast started meanwhile skips the chat.
	svc, err := app.BroadcastService(h.cfg, h.stores.CRM, h.stores.Catalog(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Create(ctx, broadcast.Campaign{Name: "декабрь", Segment: `platform == "telegram"`, Text: "Декабрьские новости"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	var status, reason string
	deadline = time.Now().Add(20 * time.Second)
	for {
		err := db.QueryRowContext(ctx, `SELECT status, reason FROM deliveries WHERE campaign_id = $1 AND client_id = $2`, c.ID, clientID).Scan(&status, &reason)
		if err == nil && status != string(broadcast.StatusQueued) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign never settled this client: %q %q %v", status, reason, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != string(broadcast.StatusSkipped) || reason != broadcast.ReasonInHandoff {
		t.Errorf("delivery %s/%s, want skipped/in_handoff", status, reason)
	}
	for _, m := range h.fake.Messages(user) {
		if strings.Contains(m.Text, "Декабрьские новости") {
			t.Errorf("the broadcast reached a chat that is with a manager")
		}
	}

	// Вернуть боту: the pending question is asked again; the answer is saved.
	before := len(h.fake.Messages(user))
	browsertest.Run(t, tab,
		chromedp.Click(`//button[normalize-space()="Вернуть боту"]`),
		chromedp.WaitVisible(`//*[@role="status" and contains(., "возвращён боту")]`),
	)
	deadline = time.Now().Add(15 * time.Second)
	for {
		msgs := h.fake.Messages(user)
		if len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "Как к вам обращаться?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not ask the pending question again; messages since the return: %d", len(msgs)-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.fake.SendText(user, "Анна")
	waitText(t, h, user, "Анна, сколько вам лет?")
	if err := db.QueryRowContext(ctx, `SELECT first_name FROM clients WHERE id = $1`, clientID).Scan(&firstName); err != nil {
		t.Fatal(err)
	}
	if firstName.String != "Анна" {
		t.Errorf("first_name after the return %q, want Анна", firstName.String)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var closed string
		err := db.QueryRowContext(ctx, `SELECT status FROM handoffs WHERE id = $1`, reqID).Scan(&closed)
		if err == nil && closed == "closed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request status %q (%v), want closed", closed, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitGroup waits until the team chat has a bot post containing part and
// returns it.
func waitGroup(t *testing.T, h *hub, chat int64, part string) telegramfake.Sent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range h.fake.Messages(chat) {
			if strings.Contains(m.Text, part) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, m := range h.fake.Messages(chat) {
		got = append(got, m.Text)
	}
	t.Fatalf("the team chat never got %q; got %q", part, got)
	return telegramfake.Sent{}
}

// TestHandoffTeamChat: the same loop with no console open — the request is
// posted to the managers' Telegram chat, a manager's reply to the post
// reaches the client under the manager's name, and /done in reply gives
// the chat back to the bot, which asks the pending question again.
func TestHandoffTeamChat(t *testing.T) {
	const team = -1007770001
	h := startHub(t, func(c *config.Config) { c.TeamChat.ChatID = team })
	h.fake.AddGroup(team, "Менеджеры")
	db := handoffDB(t, h)
	const user = 7002
	h.fake.AddUser(user)
	d := telegramtest.NewDriver(h.fake)

	d.Start(t, user, "")
	waitText(t, h, user, "Согласны на обработку")
	d.Press(t, user, "Да, согласен")
	waitText(t, h, user, "Как к вам обращаться?")
	h.fake.SendText(user, "/manager У меня вопрос по заказу")
	waitText(t, h, user, "менеджер")

	card := waitGroup(t, h, team, "У меня вопрос по заказу")
	// The post is recorded (announced_at) right after Telegram accepts it;
	// a reply in the milliseconds between would get the team chat's hint.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var announced int
		_ = db.QueryRow(`SELECT COUNT(*) FROM handoff_posts p JOIN handoffs h ON h.id = p.handoff_id
			JOIN clients c ON c.id = h.client_id WHERE c.platform_user_id = $1`, fmt.Sprint(user)).Scan(&announced)
		if announced > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the card was posted but never recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	olga := telegramfake.User{ID: 9001, FirstName: "Ольга", LastName: "Смирнова"}
	if upd := h.fake.SendGroupText(team, olga, "Добрый день! Проверю заказ и напишу.", card.MessageID); upd == 0 {
		t.Fatal("the reply to the bot's post did not reach the bot")
	}
	waitText(t, h, user, "Добрый день! Проверю заказ и напишу.")
	var author string
	deadline = time.Now().Add(10 * time.Second)
	for {
		err := db.QueryRow(`SELECT m.author FROM messages m JOIN clients c ON c.id = m.client_id
			WHERE c.platform_user_id = $1 AND m.author_kind = 'manager' AND m.status = 'sent'`, fmt.Sprint(user)).Scan(&author)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(author, "Ольга") {
		t.Errorf("the reply's author in the transcript %q, want the manager's name", author)
	}

	// A client's next message is forwarded to the team chat under the card.
	h.fake.SendText(user, "Номер заказа 4512")
	if fwd := waitGroup(t, h, team, "Номер заказа 4512"); fwd.ReplyTo != card.MessageID {
		t.Errorf("the forward replies to %d, want the card %d", fwd.ReplyTo, card.MessageID)
	}
	// A photo with a caption is forwarded named in words and recorded in
	// the transcript with its kind and Telegram's message id.
	photo := h.fake.SendMedia(user, "photo", "чек об оплате")
	if fwd := waitGroup(t, h, team, "[фото] чек об оплате"); fwd.ReplyTo != card.MessageID {
		t.Errorf("the photo's forward replies to %d, want the card %d", fwd.ReplyTo, card.MessageID)
	}
	var sent struct {
		Message struct {
			MessageID int `json:"message_id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(h.fake.Update(photo), &sent); err != nil {
		t.Fatal(err)
	}
	var media, platformID string
	if err := db.QueryRow(`SELECT m.media, m.platform_msg_id FROM messages m JOIN clients c ON c.id = m.client_id
		WHERE c.platform_user_id = $1 AND m.direction = 'in' AND m.text = 'чек об оплате'`, fmt.Sprint(user)).Scan(&media, &platformID); err != nil ||
		media != "photo" || platformID != fmt.Sprint(sent.Message.MessageID) {
		t.Errorf("the photo's transcript row: media %q, platform id %q (%v), want photo, %d", media, platformID, err, sent.Message.MessageID)
	}

	before := len(h.fake.Messages(user))
	h.fake.SendGroupText(team, olga, "/done", card.MessageID)
	deadline = time.Now().Add(15 * time.Second)
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
	// The Worker closes the request once the bot has the chat again.
	deadline = time.Now().Add(10 * time.Second)
	for {
		var open int
		err := db.QueryRow(`SELECT COUNT(*) FROM handoffs h JOIN clients c ON c.id = h.client_id
			WHERE c.platform_user_id = $1 AND h.status <> 'closed'`, fmt.Sprint(user)).Scan(&open)
		if err == nil && open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live requests after /done: %d (%v)", open, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
