package vktest

import (
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/messenger/messengertest"
)

// Driver acts as VK users for the conformance suite (messengertest.Driver).
type Driver struct {
	s *Server
	// Timeout bounds Replies; default 10s.
	Timeout time.Duration
}

var _ messengertest.Driver = (*Driver)(nil)

// NewDriver returns a Driver over s.
func NewDriver(s *Server) *Driver { return &Driver{s: s, Timeout: 10 * time.Second} }

// Platform implements messengertest.Driver.
func (d *Driver) Platform() messenger.Platform { return messenger.VK }

// Text implements messengertest.Driver.
func (d *Driver) Text(_ *testing.T, user int64, text string) { d.s.SendText(int(user), text, "") }

// Start presses «Начать», through a vk.me link with ref when payload is set.
func (d *Driver) Start(_ *testing.T, user int64, payload string) { d.s.Start(int(user), payload) }

// Press presses the button with that caption (or its chosen "✓ " form).
func (d *Driver) Press(t *testing.T, user int64, caption string) {
	t.Helper()
	if b, _ := d.s.findButton(int(user), func(b Button) bool { return b.Action.Label == caption }); b != nil {
		d.s.PressLabel(int(user), caption)
		return
	}
	d.s.PressLabel(int(user), "✓ "+caption)
}

// ShareContact types the phone: VK has no share-contact button.
func (d *Driver) ShareContact(_ *testing.T, user int64, phone string) {
	d.s.SendText(int(user), phone, "")
}

// Sticker implements messengertest.Driver.
func (d *Driver) Sticker(_ *testing.T, user int64) { d.s.SendSticker(int(user)) }

// Block: the user denies community messages.
func (d *Driver) Block(_ *testing.T, user int64) { d.s.Deny(int(user)) }

// Unblock: the user allows community messages again.
func (d *Driver) Unblock(_ *testing.T, user int64) { d.s.Allow(int(user)) }

// Replies returns the user's next n bot messages.
func (d *Driver) Replies(t *testing.T, user int64, n int) []messengertest.Reply {
	t.Helper()
	msgs := d.s.Next(int(user), n, d.Timeout)
	out := make([]messengertest.Reply, 0, len(msgs))
	for _, m := range msgs {
		r := messengertest.Reply{Text: m.Text}
		if m.Keyboard != nil {
			for _, row := range m.Keyboard.Buttons {
				for _, b := range row {
					r.Buttons = append(r.Buttons, b.Action.Label)
				}
			}
		}
		out = append(out, r)
	}
	if len(out) < n {
		t.Fatalf("vktest: user %d got %d of %d replies", user, len(out), n)
	}
	return out
}
