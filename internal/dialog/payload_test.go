package dialog

import (
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// TestDeepLinkPayloadCap checks that a deep-link payload longer than
// MaxPayloadLen characters, from Telegram's /start or VK's ref, is neither
// stored as the client's source nor matched against payload triggers.
func TestDeepLinkPayloadCap(t *testing.T) {
	t.Parallel()
	b2b := func(n int) string { return "b2b_" + strings.Repeat("x", n-len("b2b_")) }
	vk := func(msg, ref string) *messenger.Update {
		u := text(msg)
		u.Source = ref
		return u
	}
	tests := []struct {
		name       string
		upd        *messenger.Update
		want       string // substring of the replies
		wantSource string
	}{
		{"telegram 64 characters", text("/start " + b2b(64)), "Подберём решение", b2b(64)},
		{"telegram 65 characters", text("/start " + b2b(65)), "Согласны на обработку", ""},
		{"telegram 64 KiB", text("/start " + b2b(64<<10)), "Согласны на обработку", ""},
		{"telegram 64 cyrillic characters", text("/start " + strings.Repeat("я", 64)), "Согласны на обработку", strings.Repeat("я", 64)},
		{"telegram 65 cyrillic characters", text("/start " + strings.Repeat("я", 65)), "Согласны на обработку", ""},
		{"telegram invalid UTF-8", text("/start b2b_\xff"), "Согласны на обработку", ""},
		{"vk ref 64 characters", vk("Здравствуйте", b2b(64)), "Подберём решение", b2b(64)},
		{"vk ref 65 characters", vk("Здравствуйте", b2b(65)), "Согласны на обработку", ""},
		{"vk ref 64 KiB", vk("Здравствуйте", b2b(64<<10)), "Согласны на обработку", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			got := strings.Join(f.say(t, tt.upd), "\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("replies %q, want %q", got, tt.want)
			}
			c := f.clients.clients[testChat]
			if c == nil {
				t.Fatal("no client recorded")
			}
			if c.Source != tt.wantSource {
				t.Errorf("source = %q (%d bytes), want %q", c.Source[:min(len(c.Source), 80)], len(c.Source), tt.wantSource)
			}
		})
	}
}
