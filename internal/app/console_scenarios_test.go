package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"

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
