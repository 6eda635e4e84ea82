package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestTelegramStaysUnderLimit: the fake enforces 30 msg/s per bot and
// 1 msg/s per chat with 429; the shared budget keeps the broadcaster under
// it (zero 429s) and close to it.
func TestTelegramStaysUnderLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	fake.SetRateLimit(30, time.Second, 1)
	const n = 120
	e.seed(messenger.Telegram, 0, n)
	for i := 1; i <= n; i++ {
		fake.AddUser(int64(i))
	}
	c := e.create(broadcast.Campaign{})
	if err := e.svc.Start(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	ch := telegramChannel(t, fake)
	ch.Limiter = e.limiter("telegram:rate", 30)
	ch.ChatLimiter = func(chat messenger.ChatKey) (broadcast.Limiter, error) {
		return e.limiter("telegram:chat:"+chat.ID, 1), nil
	}
	start := time.Now()
	e.workers(func(cfg *broadcast.WorkersConfig) { cfg.RateHint = 30 }, ch)
	e.waitState(c.ID, broadcast.Done, 30*time.Second)
	took := time.Since(start)
	if got := fake.TooManyRequests(); got != 0 {
		t.Fatalf("%d sends got 429", got)
	}
	acc := fake.Accepted()
	span := acc[len(acc)-1].Sub(acc[0]).Seconds()
	rate := float64(len(acc)-1) / span
	t.Logf("%d messages in %.2fs: %.1f msg/s (limit 30), whole campaign %s", len(acc), span, rate, took)
	if len(acc) != n || rate < 0.75*30 { // loose: -race on a shared 2-core machine; the 60 s benchmark is the real number
		t.Fatalf("%d accepted at %.1f msg/s, want %d at ≥ 22.5/s", len(acc), rate, n)
	}
}

// TestVKPeerBatches: 20 requests/s enforced by the fake (error 6), 100
// peers a request.
func TestVKPeerBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := vktest.New(t)
	fake.SetRateLimit(20)
	const n = 6000
	e.seed(messenger.VK, 0, n)
	c := e.create(broadcast.Campaign{Text: "Новости недели"})
	if err := e.svc.Start(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.workers(func(cfg *broadcast.WorkersConfig) { cfg.ClaimSize = 500 }, vkChannel(t, e, fake, 20))
	e.waitState(c.ID, broadcast.Done, 60*time.Second)
	took := time.Since(start).Seconds()
	t.Logf("%d messages in %.2fs: %.0f msg/s; %d requests, %d refused with error 6, max %d in 1s",
		n, took, n/took, fake.Requests(), fake.RateLimited(), fake.MaxRequestsIn(time.Second))
	if fake.RateLimited() != 0 || fake.MaxRequestsIn(time.Second) > 20 {
		t.Fatalf("over the limit: %d refused, max %d in 1s", fake.RateLimited(), fake.MaxRequestsIn(time.Second))
	}
	for _, id := range []int{1, n / 2, n} {
		if len(fake.Messages(id)) != 1 {
			t.Fatalf("user %d: %d messages", id, len(fake.Messages(id)))
		}
	}
}
