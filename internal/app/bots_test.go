package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
	redisstore "github.com/chathub/chathub/internal/store/redis"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestVKBotDrawsOnSharedBudget: the VK bot `chathub run` builds paces its
// requests by the community's Redis bucket, at VK_RPS, and stops while
// another process has paused that bucket.
func TestVKBotDrawsOnSharedBudget(t *testing.T) {
	t.Parallel()
	storetest.SkipUnlessServices(t)
	srv := vktest.New(t)
	cfg := config.Default()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
	cfg.RedisURL, cfg.RedisPrefix = storetest.RedisURL(), storetest.Name(t, "t")
	cfg.ScenariosDir = filepath.Join("..", "..", "scenarios")
	cfg.VK = config.VK{Token: srv.Token(), GroupID: srv.GroupID(), APIURL: srv.URL(), RequestsPerSecond: 5}
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	stores, err := Open(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	bots, err := Bots(cfg, stores, logger)
	if err != nil || len(bots) != 1 || bots[0].Platform != messenger.VK {
		t.Fatalf("Bots = %+v, %v", bots, err)
	}
	send := func(user int) {
		t.Helper()
		msg := messenger.OutMessage{Chat: messenger.ChatKey{Platform: messenger.VK, ID: strconv.Itoa(user)}, Text: "Привет"}
		if _, err := bots[0].Sender.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for user := range 3 { // 5 requests/s, evenly spaced: 200ms apart
		send(user + 1)
	}
	if d := time.Since(start); d < 380*time.Millisecond {
		t.Fatalf("3 sends at VK_RPS=5 took %s, want at least 400ms", d)
	}
	// Another process on the same Redis pauses the community's bucket.
	other, err := stores.State.Limiter("vk:"+strconv.Itoa(srv.GroupID()), redisstore.Limit{Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Pause(ctx, 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	send(4)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("a send during the shared pause went after %s", d)
	}
	for user := 1; user <= 4; user++ {
		if len(srv.Messages(user)) != 1 {
			t.Fatalf("user %d got %d messages", user, len(srv.Messages(user)))
		}
	}
}
