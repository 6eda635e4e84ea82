package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/messenger"
)

// TestLinkBases: VK links from the community id; Telegram's from getMe,
// asked again only after a pause when it failed, and remembered once known.
func TestLinkBases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := botLinks(config.Telegram{}, config.VK{Token: "t", GroupID: 42}, slog.New(slog.DiscardHandler))
	if got := l.get(ctx); len(got) != 1 || got[0] != (console.DeepLinkBase{Platform: messenger.VK, Prefix: "https://vk.me/club42?ref="}) {
		t.Errorf("VK bases = %+v", got)
	}

	calls := 0
	answer := func(context.Context) (string, error) { return "", errors.New("unreachable") }
	l = &linkBases{log: slog.New(slog.DiscardHandler), me: func(ctx context.Context) (string, error) { calls++; return answer(ctx) }}
	if got := l.get(ctx); len(got) != 0 {
		t.Errorf("bases while getMe fails = %+v", got)
	}
	l.get(ctx)
	if calls != 1 {
		t.Errorf("getMe asked %d times within a minute of a failure", calls)
	}
	l.nextTry = l.nextTry.AddDate(0, 0, -1)
	answer = func(context.Context) (string, error) { return "shop_bot", nil }
	l.get(ctx)
	got := l.get(ctx)
	if calls != 2 || len(got) != 1 || got[0].Prefix != "https://t.me/shop_bot?start=" {
		t.Errorf("after getMe answers: calls %d, bases %+v", calls, got)
	}
}

// TestLinkBasesGetMeBlocks: a getMe that hangs never holds the pages up
// past linkWait (nor past a cancelled request), other requests serve the
// cached value at once, a cancelled request is no failed lookup, and the
// answer arriving later is used.
func TestLinkBasesGetMeBlocks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	calls := make(chan context.Context, 4)
	l := &linkBases{log: slog.New(slog.DiscardHandler), me: func(ctx context.Context) (string, error) {
		calls <- ctx
		select {
		case <-release:
			return "shop_bot", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}}
	// The browser gives up at once: the request returns, the lookup goes on.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if got := l.get(cctx); len(got) != 0 {
		t.Errorf("bases while getMe hangs = %+v", got)
	}
	lookupCtx := <-calls
	if lookupCtx.Err() != nil {
		t.Error("the lookup runs on the cancelled request's context")
	}
	// Other requests meanwhile do not wait and do not ask again.
	for range 3 {
		l.get(context.Background())
	}
	if d := time.Since(start); d > linkWait+time.Second {
		t.Errorf("requests waited %v for a hanging getMe", d)
	}
	if len(calls) != 0 {
		t.Errorf("getMe asked again while the first lookup runs")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := l.get(context.Background()); len(got) == 1 && got[0].Prefix == "https://t.me/shop_bot?start=" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late answer of getMe is never used")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
