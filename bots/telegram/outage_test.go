package telegram

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// TestOutageRetriedAtRecovery: a batch that failed because a backing
// service is down (*messenger.OutageError) is delivered again as soon as
// the service answers, not at the end of the adapter's backoff (here an
// hour), in both polling modes; the failure is logged at debug level only.
func TestOutageRetriedAtRecovery(t *testing.T) {
	t.Parallel()
	for _, pipelined := range []bool{false, true} {
		name := "plain"
		if pipelined {
			name = "pipelined"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, s, logs := newTestBot(t, func(c *Config) { c.RetryDelay, c.MaxRetryDelay = time.Hour, time.Hour })
			recovered := make(chan struct{})
			var mu sync.Mutex
			down, failures := true, 0
			handle := func(_ context.Context, _ *messenger.Update) error {
				mu.Lock()
				defer mu.Unlock()
				if down {
					failures++
					return &messenger.OutageError{Recovered: recovered, Err: errors.New("PostgreSQL is unreachable")}
				}
				return nil
			}
			rec := newSink()
			var sink messenger.Sink = rec
			if pipelined {
				sink = pipelineSink(t, func(ctx context.Context, u *messenger.Update) error {
					if err := handle(ctx, u); err != nil {
						return err
					}
					return rec.Deliver(ctx, []*messenger.Update{u})
				})
			} else {
				rec.fail = func(ctx context.Context, _ int, batch []*messenger.Update) error { return handle(ctx, batch[0]) }
			}
			s.SendText(1, "a")
			runBot(t, b, sink)
			eventually(t, "the update failed", func() bool { mu.Lock(); defer mu.Unlock(); return failures > 0 })
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			down = false
			mu.Unlock()
			close(recovered)
			rec.waitUpdates(t, 1)
			waitPending(t, s, 0)
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
					t.Errorf("outage failure logged as a warning: %s", line)
				}
			}
		})
	}
}

// TestOutageFailuresDoNotGrowTheBackoff: batches that failed during an
// outage are retried at its recovery, so they do not count toward the
// backoff of the batches that fail on their own afterwards (a retry that
// fails once more while the connections come back): that one is retried
// after the shortest delay, not after the 16-30 s that ten outage failures
// in a row would add up to.
func TestOutageFailuresDoNotGrowTheBackoff(t *testing.T) {
	t.Parallel()
	b, _, _ := newTestBot(t, func(c *Config) { c.RetryDelay, c.MaxRetryDelay = time.Second, 30*time.Second })
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	b.clock = func() time.Time { return now }
	w := newWindow()
	outage := &messenger.OutageError{Recovered: make(chan struct{}), Err: errors.New("Redis is unreachable")}
	for id := range 10 {
		b.batchFailed(w, []int{id}, outage)
	}
	b.batchFailed(w, []int{100}, errors.New("redis store: enter chat telegram:1: context deadline exceeded"))
	if got := w.retryAt[100].Sub(now); got != time.Second {
		t.Fatalf("a batch failing on its own after ten outage failures is retried in %s, want 1s", got)
	}
	b.batchFailed(w, []int{101}, errors.New("still failing"))
	if got := w.retryAt[101].Sub(now); got != 2*time.Second {
		t.Fatalf("the second own failure in a row is retried in %s, want 2s", got)
	}
}
