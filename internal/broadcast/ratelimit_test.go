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
// 1 msg/s per chat with 429; the shared bot budget keeps the broadcaster
// under it (zero 429s) and close to it. The chat pacer has its own test
// (TestTelegramChatSpacing); the 60 s benchmark runs both together.
func TestTelegramStaysUnderLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	fake.SetRateLimit(30, time.Second, 1)
	const n = 120
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	ch := telegramChannel(t, fake)
	// As chathub run paces a bot: the eager budget, the default pool.
	ch.Limiter = broadcast.NewEagerLimiter(e.limiter("telegram:rate", 30).(broadcast.Allower), broadcast.DefaultEagerLead).
		SlowStart(time.Second / 30)
	start := time.Now()
	e.workers(func(cfg *broadcast.WorkersConfig) { cfg.RateHint, cfg.Workers = 30, broadcast.DefaultWorkers }, ch)
	e.waitState(c.ID, broadcast.Done, 30*time.Second)
	took := time.Since(start)
	if got := fake.TooManyRequests(); got > allowed429s {
		t.Fatalf("%d sends got 429, want at most %d", got, allowed429s)
	} else if got > 0 {
		t.Logf("%d send got 429 (allowed under the race detector)", got)
	}
	acc := fake.Accepted()
	span := acc[len(acc)-1].Sub(acc[0]).Seconds()
	rate := float64(len(acc)-1) / span
	t.Logf("%d messages in %.2fs: %.1f msg/s (limit 30), whole campaign %s", len(acc), span, rate, took)
	// Loose: -race on a shared 2-core machine gives 26.5–28.8 msg/s alone
	// and 20.3 under the whole suite's load; the 60 s benchmark without
	// -race is the real number (98.8 %). The bound still catches a limiter
	// that paces at half the budget or worse.
	if len(acc) != n || rate < 0.6*30 {
		t.Fatalf("%d accepted at %.1f msg/s, want %d at ≥ 18/s", len(acc), rate, n)
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
	c := e.started(broadcast.Campaign{Text: "Новости недели"})
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

// TestTelegramChatSpacing: two campaigns without a frequency cap reach the
// same clients at once; the fake answers 429 to a second message to a chat
// within a second, and the chat pacer keeps every send clear of it: each
// client gets both messages, zero 429s.
func TestTelegramChatSpacing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.svc = e.service(func(cfg *broadcast.Config) { cfg.FrequencyCap = -1 })
	fake := telegramtest.New(t)
	fake.SetRateLimit(30, time.Second, 1)
	const n = 12
	e.telegramUsers(fake, n)
	var ids []int64
	for _, text := range []string{"Первая новость", "Вторая новость"} {
		c := e.create(broadcast.Campaign{Text: text})
		if err := e.svc.Start(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	ch := telegramChannel(t, fake)
	ch.Limiter = e.limiter("telegram:spacing", 30)
	ch.ChatPacer = e.pacer("telegram:spacing", 1100*time.Millisecond) // chathub run's spacing
	e.workers(nil, ch)
	for _, id := range ids {
		e.waitState(id, broadcast.Done, 30*time.Second)
	}
	if got := fake.TooManyRequests(); got != 0 {
		t.Fatalf("%d sends got 429: the chat pacer let a chat have two messages within a second", got)
	}
	for i := 1; i <= n; i++ {
		if got := len(fake.Messages(int64(i))); got != 2 {
			t.Fatalf("user %d got %d messages, want one of each campaign", i, got)
		}
	}
}
