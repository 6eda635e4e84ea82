package telegram_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/app/apptest"
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
	bot, err := telegram.New(telegram.Config{Token: s.Token(), APIURL: s.URL(), PollTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rt := apptest.Start(t, filepath.Join("..", "..", "scenarios"), app.Bot{Platform: messenger.Telegram, Sender: bot, Poll: bot.Run})
	return messengertest.Env{
		Driver: telegramtest.NewDriver(s),
		Client: rt.Client,
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
