package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestBotLogLinesHaveUniqueKeys: the adapters' log lines carry platform
// (and bot, for a named bot) once — the adapter adds platform itself, so
// the app must not add it again (platform=telegram platform=telegram).
func TestBotLogLinesHaveUniqueKeys(t *testing.T) {
	t.Parallel()
	vkSrv := vktest.New(t)
	cfg := config.Default()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
	cfg.ScenariosDir = filepath.Join("..", "..", "scenarios")
	var logs logtest.Buffer
	logger := slog.New(logtest.UniqueKeys(t, slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	tg := config.Telegram{Token: "123:secret-token", APIURL: "http://127.0.0.1:1", WebhookURL: "https://example.com/tg",
		WebhookSecret: "s3cret", RequestsPerSecond: 30}
	vk := config.VK{Token: vkSrv.Token(), GroupID: vkSrv.GroupID(), APIURL: vkSrv.URL(), CallbackPath: "/vk",
		CallbackSecret: "cb-secret", ConfirmationCode: "c0de", RequestsPerSecond: 20}
	tests := []struct {
		name    string
		build   func() (Bot, error)
		request func() *http.Request
		want    []string // in the log line, once each
	}{
		{"telegram", func() (Bot, error) { return telegramBot("", tg, 0, stores, logger) }, func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/tg", strings.NewReader("not json"))
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", tg.WebhookSecret)
			return r
		}, []string{"platform=telegram"}},
		{"named telegram", func() (Bot, error) { return telegramBot("shop", tg, 0, stores, logger) }, func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/tg", strings.NewReader("not json"))
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", tg.WebhookSecret)
			return r
		}, []string{"platform=telegram", "bot=shop"}},
		{"named vk", func() (Bot, error) { return vkBot("club", vk, 0, stores, logger) }, func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/vk", strings.NewReader(`{"type":"message_new","secret":"wrong","object":{}}`))
		}, []string{"platform=vk", "bot=club"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			before := len(logs.String())
			rec := httptest.NewRecorder()
			b.Webhook(nil).ServeHTTP(rec, tt.request())
			line := logs.String()[before:]
			if line == "" {
				t.Fatalf("no log line (status %d)", rec.Code)
			}
			for _, w := range tt.want {
				if n := strings.Count(line, " "+w); n != 1 {
					t.Errorf("%q occurs %d times in %q", w, n, line)
				}
			}
		})
	}
}
