package telegram

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const token = "123:SECRETTOKEN"
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"polling defaults", Config{Token: token}, ""},
		{"fake endpoint with verbs", Config{Token: token, APIURL: "http://127.0.0.1:1/bot%s/%s"}, ""},
		{"webhook", Config{Token: token, WebhookURL: "https://x.example/tg", WebhookSecret: "a-B_9"}, ""},
		{"no token", Config{}, "token is required"},
		{"webhook without secret", Config{Token: token, WebhookURL: "https://x.example/tg"}, "webhook secret is required"},
		{"secret with bad characters", Config{Token: token, WebhookURL: "https://x.example/tg", WebhookSecret: "a b"}, "1-256 characters"},
		{"secret too long", Config{Token: token, WebhookURL: "https://x.example/tg", WebhookSecret: strings.Repeat("a", 257)}, "1-256 characters"},
		{"plain http webhook", Config{Token: token, WebhookURL: "http://x.example/tg", WebhookSecret: "s"}, "https://"},
		{"bad API URL", Config{Token: token, APIURL: "ftp://x"}, "API URL"},
		{"one verb", Config{Token: token, APIURL: "http://x/bot%s"}, "API URL"},
		{"sub-second poll timeout", Config{Token: token, PollTimeout: 500 * time.Millisecond}, "poll timeout"},
		{"HTTP timeout within the poll", Config{Token: token, HTTPClient: &http.Client{Timeout: 10 * time.Second}}, "HTTP client timeout"},
		{"poll limit too high", Config{Token: token, PollLimit: 101}, "poll limit"},
		{"negative body limit", Config{Token: token, MaxBodyBytes: -1}, "max body bytes"},
		{"short retry delays", Config{Token: token, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}, ""},
		{"long retry delay alone raises the cap", Config{Token: token, RetryDelay: time.Minute}, ""},
		{"sub-millisecond retry delay", Config{Token: token, RetryDelay: time.Microsecond}, "retry delay"},
		{"managers chat", Config{Token: token, ManagersChatID: -1001234567890}, ""},
		{"managers chat of a user", Config{Token: token, ManagersChatID: 42}, "managers chat id 42 is not a group's id"},
		{"cap below the first delay", Config{Token: token, RetryDelay: time.Second, MaxRetryDelay: time.Millisecond}, "max retry delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("New = %v, want %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "SECRETTOKEN"):
				t.Fatalf("token in error: %v", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Token: "1:a"}.withDefaults()
	if c.APIURL != DefaultAPIURL || c.PollTimeout != 25*time.Second || c.PollLimit != 100 ||
		c.MaxBodyBytes != 1<<20 || c.HTTPClient == nil || c.Logger == nil ||
		c.RetryDelay != time.Second || c.MaxRetryDelay != 30*time.Second {
		t.Fatalf("defaults = %+v", c)
	}
	if ep, _ := endpoint(DefaultAPIURL + "/"); ep != "https://api.telegram.org/bot%s/%s" {
		t.Fatalf("endpoint = %q", ep)
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	b, _, _ := newTestBot(t, nil)
	name, err := b.Me(context.Background())
	if err != nil || name == "" {
		t.Fatalf("Me = %q, %v", name, err)
	}
}
