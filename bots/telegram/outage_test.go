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
