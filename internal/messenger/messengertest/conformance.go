// Package messengertest holds the conversation conformance suite every
// platform adapter runs through its fake platform server: the same client
// behaviour (the portrait scenario, buttons, contact, re-ask, /stop,
// block/unblock, deep-link source) must give the same CRM record on every
// platform.
package messengertest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Reply is a bot message as the client sees it.
type Reply struct {
	Text    string
	Buttons []string // captions of every button, in order
}

// Driver acts as clients of one platform against a running chathub.
type Driver interface {
	// Platform is the adapter's platform.
	Platform() messenger.Platform
	// Text sends a client's text message.
	Text(t *testing.T, user int64, text string)
	// Start opens the bot through a deep link with payload ("" for none).
	Start(t *testing.T, user int64, payload string)
	// Press presses the button with that caption on the client's latest message
	// that has it.
	Press(t *testing.T, user int64, caption string)
	// ShareContact shares the client's own phone (platforms without a contact
	// button type it).
	ShareContact(t *testing.T, user int64, phone string)
	// Sticker sends something that is not text.
	Sticker(t *testing.T, user int64)
	// Block and Unblock: the client blocks / unblocks the bot.
	Block(t *testing.T, user int64)
	Unblock(t *testing.T, user int64)
	// Replies waits for the client's next n bot messages.
	Replies(t *testing.T, user int64, n int) []Reply
}

// Env is one running chathub with a Driver for its platform.
type Env struct {
	Driver Driver
	// Client reads the CRM record of a platform user (nil when none).
	Client func(t *testing.T, user int64) *crm.Client
	// WaitIdle waits until every delivered update is handled.
	WaitIdle func(t *testing.T)
}

// Run runs the suite; newEnv starts a fresh chathub (own stores) per test.
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e Env)
	}{
		{"portrait end to end", portrait},
		{"re-ask keeps the question", reask},
		{"deep link source", deepLink},
		{"stop unsubscribes", stop},
		{"block and unblock", blockUnblock},
		{"sticker is re-asked", sticker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newEnv(t))
		})
	}
}

// expect waits for one reply containing want and returns it.
func expect(t *testing.T, e Env, user int64, want string) Reply {
	t.Helper()
	r := e.Driver.Replies(t, user, 1)[0]
	if !strings.Contains(r.Text, want) {
		t.Fatalf("reply %q, want one containing %q", r.Text, want)
	}
	return r
}

func portrait(t *testing.T, e Env) {
	const u = 1001
	d := e.Driver
	d.Start(t, u, "")
	r := expect(t, e, u, "Согласны")
	if !slices.Contains(r.Buttons, "Да, согласен") {
		t.Fatalf("consent buttons %v", r.Buttons)
	}
	d.Press(t, u, "Да, согласен")
	expect(t, e, u, "Как к вам обращаться")
	d.Text(t, u, "Марина")
	expect(t, e, u, "Марина, сколько вам лет")
	d.Text(t, u, "27")
	expect(t, e, u, "В каком городе")
	d.Press(t, u, "Москва")
	expect(t, e, u, "семейное положение")
	d.Press(t, u, "В браке")
	expect(t, e, u, "Что вам интересно")
	d.Press(t, u, "Фитнес")
	expect(t, e, u, "Выбрано: Фитнес")
	d.Press(t, u, "Готово")
	expect(t, e, u, "оставьте номер")
	d.ShareContact(t, u, "+7 912 345-67-89")
	expect(t, e, u, "Спасибо, Марина")
	e.WaitIdle(t)
	c := e.Client(t, u)
	if c == nil || c.FirstName != "Марина" || c.Age == nil || *c.Age != 27 || c.City != "Москва" ||
		c.FamilyStatus != "married" || c.Phone != "+79123456789" || !c.Subscribed || c.ConsentAt == nil {
		t.Fatalf("client = %+v", c)
	}
	if got, _ := c.Attributes["interests"].([]string); !slices.Equal(got, []string{"fitness"}) {
		t.Fatalf("interests = %#v", c.Attributes["interests"])
	}
	if !c.HasTag("portrait_done") || !c.HasTag("survey") {
		t.Fatalf("tags = %v", c.Tags)
	}
}

func reask(t *testing.T, e Env) {
	const u = 1002
	d := e.Driver
	toNameQuestion(t, e, u)
	d.Text(t, u, "12345")
	expect(t, e, u, "Напишите имя буквами")
	d.Text(t, u, strings.Repeat("я", 5000))
	expect(t, e, u, "Напишите имя буквами")
	d.Text(t, u, "Олег")
	expect(t, e, u, "Олег, сколько вам лет")
}

func deepLink(t *testing.T, e Env) {
	const u = 1003
	e.Driver.Start(t, u, "b2b_ads")
	expect(t, e, u, "Подберём решение")
	e.WaitIdle(t)
	if c := e.Client(t, u); c == nil || c.Source != "b2b_ads" {
		t.Fatalf("client = %+v, want source b2b_ads", c)
	}
}

func stop(t *testing.T, e Env) {
	const u = 1004
	d := e.Driver
	toNameQuestion(t, e, u)
	d.Text(t, u, "/stop")
	expect(t, e, u, "отписались")
	e.WaitIdle(t)
	if c := e.Client(t, u); c == nil || c.Subscribed || c.UnsubscribedAt == nil {
		t.Fatalf("client = %+v, want unsubscribed", c)
	}
}

func blockUnblock(t *testing.T, e Env) {
	const u = 1005
	d := e.Driver
	d.Start(t, u, "")
	expect(t, e, u, "Согласны")
	d.Block(t, u)
	waitFor(t, e, u, func(c *crm.Client) bool { return c.BlockedAt != nil }, "blocked")
	d.Unblock(t, u)
	waitFor(t, e, u, func(c *crm.Client) bool { return c.BlockedAt == nil }, "unblocked")
}

func sticker(t *testing.T, e Env) {
	const u = 1006
	d := e.Driver
	toNameQuestion(t, e, u)
	d.Sticker(t, u)
	expect(t, e, u, "понимаю только текст")
}

func waitFor(t *testing.T, e Env, user int64, ok func(*crm.Client) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.WaitIdle(t)
		if c := e.Client(t, user); c != nil && ok(c) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("client never became %s: %+v", what, e.Client(t, user))
}

// toNameQuestion starts the portrait scenario, consents, and waits for the
// first question.
func toNameQuestion(t *testing.T, e Env, u int64) {
	t.Helper()
	e.Driver.Start(t, u, "")
	expect(t, e, u, "Согласны")
	e.Driver.Press(t, u, "Да, согласен")
	expect(t, e, u, "Как к вам обращаться")
}
