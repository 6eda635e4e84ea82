package broadcast_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// slowBudget grants its first unit at once and every later one after gap.
type slowBudget struct {
	gap    time.Duration
	grants atomic.Int64
}

func (b *slowBudget) Wait(ctx context.Context, n int) error {
	if b.grants.Add(1) == 1 {
		return nil
	}
	select {
	case <-time.After(b.gap):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *slowBudget) Pause(context.Context, time.Duration) error { return nil }

// TestOutcomeRecordedWhileWaiting: a send's outcome is written within the
// flush interval even while the worker waits for the budget's next grant,
// so a crash in that wait does not lose the record of the message.
func TestOutcomeRecordedWhileWaiting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 3
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	ch := telegramChannel(t, fake)
	ch.Limiter = &slowBudget{gap: 3 * time.Second}
	e.workers(func(cfg *broadcast.WorkersConfig) {
		cfg.Workers, cfg.FlushInterval, cfg.FlushSize = 1, 20*time.Millisecond, 64
	}, ch)
	deadline := time.Now().Add(20 * time.Second)
	for fake.Calls("sendMessage") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing was sent")
		}
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Now()
	for e.count("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'", c.ID) == 0 {
		if time.Since(sent) > 2*time.Second {
			t.Fatal("the first send is still unrecorded 2 s later, with the worker waiting on the budget")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("recorded %s after the send, while the next grant was %s away", time.Since(sent).Round(time.Millisecond), 3*time.Second)
}
