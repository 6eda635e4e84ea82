package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestSlowHandlersDoNotStallPolling: when the handlers fall far behind
// (one worker, every reply held by the platform for seconds), the poller
// goes on taking every update from the platform into the bot's queue in
// Redis, where any process can read it. Before, the dispatcher's queue
// (16 × workers) filled before the relay's in-flight limit, the relay's
// hand-over waited for it under the relay's lock, and polling stopped with
// the updates still at the platform.
func TestSlowHandlersDoNotStallPolling(t *testing.T) {
	storetest.SkipUnlessServices(t)
	t.Parallel()
	const updates = 350 // more than the relay's in-flight limit (200) and the dispatcher's own room (16)
	fake := telegramtest.New(t)
	fake.DelayMethod("sendMessage", 2*time.Second)
	cfg := fullStepConfig(t)
	cfg.Workers, cfg.QueuePartitions = 1, 1
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = time.Second
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	stores, err := Open(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	bot, err := telegram.New(telegram.Config{Token: fake.Token(), APIURL: fake.URL(), PollTimeout: time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(cfg, stores, []Bot{{Platform: messenger.Telegram, Sender: bot, Poll: bot.Run}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer rt.Stop(ctx) //nolint:errcheck // the queued updates cannot all be handled by then
	for i := range updates {
		fake.SendText(int64(200000+i), "/start")
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(fake.Pending()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d updates still at the platform after 30 s (%d getUpdates calls): polling stalled behind the slow handlers",
				len(fake.Pending()), updates, fake.Calls("getUpdates"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
