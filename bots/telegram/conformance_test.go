package telegram_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/messenger/messengertest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestConformance runs the shared conversation suite: the real engine on the
// embedded stores (SQLite, in-process Redis), fed by this adapter polling
// the fake Bot API.
func TestConformance(t *testing.T) {
	t.Parallel()
	messengertest.Run(t, newEnv)
}

func newEnv(t *testing.T) messengertest.Env {
	t.Helper()
	s := telegramtest.New(t)
	cfg := config.Default()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
	cfg.ScenariosDir = filepath.Join("..", "..", "scenarios")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Workers = 4
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	stores, err := app.Open(ctx, cfg, logger)
	if err != nil {
		t.Fatalf("open stores: %v", err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	bot, err := telegram.New(telegram.Config{Token: s.Token(), APIURL: s.URL(), PollTimeout: time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := app.NewRuntime(cfg, stores, []app.Bot{{Platform: messenger.Telegram, Sender: bot, Poll: bot.Run}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	return messengertest.Env{
		Driver: telegramtest.NewDriver(s),
		Client: func(t *testing.T, user int64) *crm.Client {
			t.Helper()
			key := messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(user, 10)}
			c, err := stores.CRM.GetClient(context.Background(), key)
			if err != nil {
				t.Fatalf("GetClient: %v", err)
			}
			return c
		},
		// Updates are confirmed only after the pipeline handled them.
		WaitIdle: func(t *testing.T) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for len(s.Pending()) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("updates still pending: %v", s.Pending())
				}
				time.Sleep(5 * time.Millisecond)
			}
		},
	}
}
