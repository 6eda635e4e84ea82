package vk_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/vk"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/messenger/messengertest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestConformance runs the shared conversation suite: the real engine on the
// embedded stores (SQLite, in-process Redis), fed by this adapter over Bots
// Long Poll from the fake VK API.
func TestConformance(t *testing.T) {
	t.Parallel()
	messengertest.Run(t, newEnv)
}

func newEnv(t *testing.T) messengertest.Env {
	t.Helper()
	s := vktest.New(t)
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
	bot, err := vk.New(vk.Config{Token: s.Token(), GroupID: s.GroupID(), APIURL: s.URL(), Wait: 1, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := app.NewRuntime(cfg, stores, []app.Bot{{Platform: messenger.VK, Sender: bot, Poll: bot.Run}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	// VK keeps no position for a new poller: events pushed before the first
	// poll would be skipped, as on the real platform.
	if !s.WaitCalls("groups.getLongPollServer", 1, 5*time.Second) {
		t.Fatal("the bot never asked for a long-poll server")
	}
	for deadline := time.Now().Add(5 * time.Second); len(s.Polls()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bot never polled")
		}
	}
	return messengertest.Env{
		Driver: vktest.NewDriver(s),
		Client: func(t *testing.T, user int64) *crm.Client {
			t.Helper()
			key := messenger.ChatKey{Platform: messenger.VK, ID: strconv.FormatInt(user, 10)}
			c, err := stores.CRM.GetClient(context.Background(), key)
			if err != nil {
				t.Fatalf("GetClient: %v", err)
			}
			return c
		},
		WaitIdle: func(t *testing.T) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for rt.Dispatcher().Stats().QueueDepth() > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		},
	}
}
