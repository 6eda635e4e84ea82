package redis

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/faultproxy"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestWaitLimitBoundsOnlyTheWait: dispatch.WithWaitLimit bounds the wait
// for a chat another live holder keeps (ErrChatBusy soon after it), never
// a round trip: over a Redis answering in 150 ms, a 50 ms limit still
// enters a free chat, and leaves no lock behind when it gives up.
func TestWaitLimitBoundsOnlyTheWait(t *testing.T) {
	t.Parallel()
	storetest.SkipUnlessServices(t)
	u, err := url.Parse(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.Start(t, u.Host)
	c := goredis.NewClient(&goredis.Options{Addr: proxy.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	a, b := storePair(t, c, Config{})
	ctx := context.Background()
	proxy.Delay(150 * time.Millisecond)

	free := messenger.ChatKey{Platform: messenger.Telegram, ID: "free"}
	leave, dup, err := a.Enter(dispatch.WithWaitLimit(ctx, 50*time.Millisecond), free, "1", time.Minute)
	if err != nil || dup {
		t.Fatalf("Enter a free chat over a slow Redis with a 50 ms wait limit: dup %v, %v; want the turn", dup, err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}

	held := messenger.ChatKey{Platform: messenger.Telegram, ID: "held"}
	leaveA, _, err := a.Enter(ctx, held, "2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = b.Enter(dispatch.WithWaitLimit(ctx, 50*time.Millisecond), held, "3", time.Minute)
	if !errors.Is(err, dispatch.ErrChatBusy) {
		t.Fatalf("Enter a held chat: %v; want ErrChatBusy", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Enter a held chat with a 50 ms wait limit took %s", took)
	}
	if err := leaveA(ctx, true); err != nil {
		t.Fatal(err)
	}
	proxy.Delay(0)
	if n := c.Exists(ctx, a.keys.lock(held)).Val(); n != 0 {
		t.Fatal("the chat's lock is still there after its holder left")
	}
}
