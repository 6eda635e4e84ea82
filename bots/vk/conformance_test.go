package vk_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/vk"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/app/apptest"
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
	bot, err := vk.New(vk.Config{Token: s.Token(), GroupID: s.GroupID(), APIURL: s.URL(), Wait: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rt := apptest.Start(t, filepath.Join("..", "..", "scenarios"), app.Bot{Platform: messenger.VK, Sender: bot, Poll: bot.Run})
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
		Client: rt.Client,
		WaitIdle: func(t *testing.T) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for rt.Dispatcher().Stats().QueueDepth() > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		},
	}
}
