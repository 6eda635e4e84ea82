package e2e

import (
	"context"
	"database/sql"
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
	"github.com/chathub/chathub/internal/console/browsertest"
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
	var closed string
	if err := db.QueryRowContext(ctx, `SELECT status FROM handoffs WHERE id = $1`, reqID).Scan(&closed); err != nil || closed != "closed" {
		t.Errorf("request status %q (%v), want closed", closed, err)
	}
}
