package telegramtest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/messenger/messengertest"
)

// chosenMark is what adapters put before a chosen option's caption; Press
// ignores it when matching captions.
const chosenMark = "✓ "

// Driver acts as Telegram users against a bot running on the fake server,
// for the messengertest conformance suite.
type Driver struct {
	s *Server
	// Timeout bounds Replies; default 10s.
	Timeout time.Duration

	mu   sync.Mutex
	seen map[int64]int // events already returned by Replies, per user
}

var _ messengertest.Driver = (*Driver)(nil)

// NewDriver returns a Driver on s.
func NewDriver(s *Server) *Driver {
	return &Driver{s: s, Timeout: 10 * time.Second, seen: map[int64]int{}}
}

// Platform implements messengertest.Driver.
func (d *Driver) Platform() messenger.Platform { return messenger.Telegram }

// Text implements messengertest.Driver.
func (d *Driver) Text(_ *testing.T, user int64, text string) { d.s.SendText(user, text) }

// Start sends "/start" or, with a payload, "/start <payload>" (a t.me deep link).
func (d *Driver) Start(_ *testing.T, user int64, payload string) {
	text := "/start"
	if payload != "" {
		text += " " + payload
	}
	d.s.SendText(user, text)
}

// Press presses the button with that caption (a leading "✓ " ignored) on the
// newest bot message showing it: an inline button sends its callback query,
// a reply button its caption as text.
func (d *Driver) Press(t *testing.T, user int64, caption string) {
	t.Helper()
	msgs := d.s.Messages(user)
	for i := len(msgs) - 1; i >= 0; i-- {
		if d.press(t, user, msgs[i], caption) {
			return
		}
	}
	t.Fatalf("telegramtest: no message to user %d has a button %q", user, caption)
}

func (d *Driver) press(t *testing.T, user int64, m Sent, caption string) bool {
	t.Helper()
	if m.ReplyMarkup == nil {
		return false
	}
	for _, row := range m.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			if strings.TrimPrefix(b.Text, chosenMark) == caption && b.CallbackData != "" {
				d.s.PressButton(user, m.MessageID, b.CallbackData)
				return true
			}
		}
	}
	for _, row := range m.ReplyMarkup.Keyboard {
		for _, b := range row {
			if b.Text != caption {
				continue
			}
			if b.RequestContact {
				t.Fatalf("telegramtest: %q shares a contact: use ShareContact", caption)
			}
			d.s.SendText(user, caption)
			return true
		}
	}
	return false
}

// ShareContact shares the user's own contact card.
func (d *Driver) ShareContact(_ *testing.T, user int64, phone string) {
	d.s.ShareContact(user, phone, user)
}

// Sticker implements messengertest.Driver.
func (d *Driver) Sticker(_ *testing.T, user int64) { d.s.SendSticker(user) }

// Block implements messengertest.Driver.
func (d *Driver) Block(_ *testing.T, user int64) { d.s.Block(user) }

// Unblock implements messengertest.Driver.
func (d *Driver) Unblock(_ *testing.T, user int64) { d.s.Unblock(user) }

// Replies waits for the user's next n events (new messages and text edits,
// see Server.Events) and returns them.
func (d *Driver) Replies(t *testing.T, user int64, n int) []messengertest.Reply {
	t.Helper()
	d.mu.Lock()
	from := d.seen[user]
	d.mu.Unlock()
	events := d.s.WaitFor(t, d.Timeout, func() ([]Sent, bool) {
		ev := d.s.Events(user)
		return ev, len(ev) >= from+n
	}, "replies")
	d.mu.Lock()
	d.seen[user] = from + n
	d.mu.Unlock()
	out := make([]messengertest.Reply, n)
	for i, e := range events[from : from+n] {
		out[i] = messengertest.Reply{Text: e.Text, Buttons: e.ReplyMarkup.Captions()}
		for j, c := range out[i].Buttons {
			out[i].Buttons[j] = strings.TrimPrefix(c, chosenMark)
		}
	}
	return out
}
