package broadcast_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// stallSender holds the send to one chat until released, whatever its
// context says: a process frozen mid-send (a GC pause, a stopped VM).
type stallSender struct {
	messenger.Sender
	chat    string
	held    chan struct{} // closed when the send to chat is being held
	release chan struct{}
	once    sync.Once
	freed   sync.Once
}

// free lets the held send go on (once).
func (s *stallSender) free() { s.freed.Do(func() { close(s.release) }) }

func newStallSender(s messenger.Sender, chat string) *stallSender {
	return &stallSender{Sender: s, chat: chat, held: make(chan struct{}), release: make(chan struct{})}
}

func (s *stallSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	if msg.Chat.ID == s.chat {
		s.once.Do(func() { close(s.held) })
		<-s.release
	}
	return s.Sender.Send(ctx, msg)
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestStalledWorkerPastItsLease: worker A freezes mid-send past its lease;
// B takes the rows over and is still sending them when A wakes up. A's
// frozen send is cut by its deadline (3/4 of the lease), A sends nothing
// more and does not hand B's rows back, so no third claim sends them again:
// everyone gets exactly one message.
func TestStalledWorkerPastItsLease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 20
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	const lease = 2 * time.Second
	one := func(id string) func(*broadcast.WorkersConfig) {
		return func(cfg *broadcast.WorkersConfig) {
			cfg.ID, cfg.Workers, cfg.ClaimSize, cfg.Lease, cfg.PollInterval = id, 1, n, lease, 10*time.Millisecond
		}
	}
	chA, chB := telegramChannel(t, fake), telegramChannel(t, fake)
	stallA := newStallSender(chA.Sender, "1")
	chA.Sender = stallA
	stallB := newStallSender(chB.Sender, "2")
	chB.Sender = stallB
	e.workers(one("a"), chA)
	t.Cleanup(stallA.free) // before the workers' Stop: a failed test must not hang in it
	waitClosed(t, stallA.held, "worker a to send to chat 1")
	time.Sleep(lease + 200*time.Millisecond)
	e.workers(one("b"), chB)
	t.Cleanup(stallB.free)
	waitClosed(t, stallB.held, "worker b to take the rows over")
	if got := e.count("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND claimed_by = 'b:0'", c.ID); got != n {
		t.Fatalf("b holds %d rows, want all %d", got, n)
	}
	stallA.free()
	// A records its send, gives up the rest, and polls again for rows.
	time.Sleep(300 * time.Millisecond)
	if got := e.count("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'queued' AND claimed_by IS NULL", c.ID); got != 0 {
		t.Fatalf("a handed back %d rows b is sending", got)
	}
	stallB.free()
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	for i := 1; i <= n; i++ {
		if got := len(fake.Messages(int64(i))); got != 1 {
			t.Fatalf("user %d got %d messages", i, got)
		}
	}
	if st, _ := e.svc.Stats(context.Background(), c.ID); st.Sent != n {
		t.Fatalf("stats %+v, want %d sent", st, n)
	}
}

// countingLimiter counts the units its Limiter granted.
type countingLimiter struct {
	broadcast.Limiter
	granted atomic.Int64
}

func (l *countingLimiter) Wait(ctx context.Context, n int) error {
	err := l.Limiter.Wait(ctx, n)
	if err == nil {
		l.granted.Add(int64(n))
	}
	return err
}

// countingSender counts the sends it was asked for.
type countingSender struct {
	messenger.Sender
	sends atomic.Int64
}

func (s *countingSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	s.sends.Add(1)
	return s.Sender.Send(ctx, msg)
}

// TestShortLeaseKeepsTheBudget: with the shortest leases BROADCAST_LEASE
// allows, 8 workers on a 30/s Telegram budget (the fake enforces it with
// 429) use every unit the budget grants for a send: a worker's budget wait
// ends when its claim's send window does, instead of being granted a unit
// past it and dropping it (which cut a 1s lease to ~43% of the limit), and
// claims hold no more rows than a worker's share of the window. The rate
// bound is loose for -race on a loaded 2-core machine; the benchmark
// BenchmarkTelegramLease measures it.
func TestShortLeaseKeepsTheBudget(t *testing.T) {
	t.Parallel()
	for _, lease := range []time.Duration{time.Second, 2 * time.Second} {
		t.Run(lease.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "")
			fake := telegramtest.New(t)
			fake.SetRateLimit(30, time.Second, 1)
			const n = 150
			e.telegramUsers(fake, n)
			c := e.started(broadcast.Campaign{})
			ch := telegramChannel(t, fake)
			sender := &countingSender{Sender: ch.Sender}
			limiter := &countingLimiter{Limiter: broadcast.NewEagerLimiter(e.limiter("telegram:lease", 30).(broadcast.Allower), broadcast.DefaultEagerLead).SlowStart(time.Second / 30)}
			ch.Sender, ch.Limiter, ch.RateHint = sender, limiter, 30
			ch.ChatPacer = e.pacer("telegram:lease", 1100*time.Millisecond)
			e.workers(func(cfg *broadcast.WorkersConfig) { cfg.Workers, cfg.Lease = broadcast.DefaultWorkers, lease }, ch)
			e.waitState(c.ID, broadcast.Done, 60*time.Second)
			acc := fake.Accepted()
			span := acc[len(acc)-1].Sub(acc[0]).Seconds()
			// Each 429 pauses the budget for its retry_after (1s): the rate
			// is taken outside those pauses.
			paused := float64(fake.TooManyRequests())
			rate := float64(len(acc)-1) / max(span-paused, 1)
			t.Logf("lease %s: %d granted, %d sent, %d accepted (%d twice) in %.2fs: %.1f msg/s (limit 30) outside %.0fs paused by 429s",
				lease, limiter.granted.Load(), sender.sends.Load(), len(acc), len(acc)-n, span, rate, paused)
			if g, s := limiter.granted.Load(), sender.sends.Load(); g != s {
				t.Errorf("the budget granted %d units and %d sends went out: %d units dropped", g, s, g-s)
			}
			// Not asserted here: a 429 (TestTelegramStaysUnderLimit asserts
			// none). Under -race about one run in ten still gets one, though
			// the slow start took that from 7 runs in 12 (docs/BENCHMARKS.md).
			// Everyone gets the message; a second one is possible when a
			// send outlives a quarter of so short a lease and is retried
			// (docs/BROADCASTS.md), so it is counted, not refused.
			for i := 1; i <= n; i++ {
				if len(fake.Messages(int64(i))) == 0 {
					t.Fatalf("user %d got nothing", i)
				}
			}
			if rate < 0.7*30 {
				t.Errorf("%.1f msg/s, want ≥ 21/s", rate)
			}
		})
	}
}
