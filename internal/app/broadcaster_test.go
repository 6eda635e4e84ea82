package app

import (
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
)

func TestBroadcastSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*config.Config)
		wantCap time.Duration
		quiet   string
		zone    string
	}{
		{"defaults", nil, 168 * time.Hour, "21:00-09:00", "Europe/Moscow"},
		{"no cap", func(c *config.Config) { c.Broadcast.FrequencyCap = 0 }, -1, "21:00-09:00", "Europe/Moscow"},
		{"settings", func(c *config.Config) {
			c.Broadcast.FrequencyCap, c.Broadcast.QuietHours, c.Broadcast.DefaultTimezone = time.Hour, "off", "Asia/Vladivostok"
		}, time.Hour, "off", "Asia/Vladivostok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			if tt.mod != nil {
				tt.mod(&cfg)
			}
			var bc broadcast.Config
			if err := broadcastSettings(cfg, &bc); err != nil {
				t.Fatal(err)
			}
			if bc.FrequencyCap != tt.wantCap || bc.QuietHours != tt.quiet || bc.Location.String() != tt.zone {
				t.Fatalf("got cap %s, quiet %q, zone %v", bc.FrequencyCap, bc.QuietHours, bc.Location)
			}
		})
	}
	cfg := config.Default()
	cfg.Broadcast.DefaultTimezone = "Nowhere/City"
	if err := broadcastSettings(cfg, &broadcast.Config{}); err == nil {
		t.Fatal("an unknown timezone was accepted")
	}
}

func TestTelegramBotID(t *testing.T) {
	t.Parallel()
	tests := []struct{ token, want string }{
		{"123456:AAsecret", "123456"},
		{"no-colon-secret", "h"},
		{":AAsecret", "h"},
		{"12ab:AAsecret", "h"},
	}
	for _, tt := range tests {
		got := telegramBotID(tt.token)
		if tt.want == "h" {
			if len(got) != 17 || got[0] != 'h' || got == telegramBotID(tt.token+"x") {
				t.Errorf("telegramBotID(%q) = %q, want a hash", tt.token, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("telegramBotID(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}
