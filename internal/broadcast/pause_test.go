package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestPauseStopsClaimedRows: a pause takes effect within a tick and a
// send: the rows workers had claimed ahead of the rate are handed back,
// not sent, and go out once, after Resume.
func TestPauseStopsClaimedRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	fake := telegramtest.New(t)
	const n = 60
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	ch := telegramChannel(t, fake)
	ch.Limiter = e.limiter(storetestBucket(t), 10)
	e.workers(func(w *broadcast.WorkersConfig) {
		w.PollInterval, w.Lease = 100*time.Millisecond, broadcast.DefaultLease
	}, ch)
	sent := func() int {
		return e.count(`SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, c.ID)
	}
	for deadline := time.Now().Add(20 * time.Second); sent() < 5; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing sent within 20 s")
		}
	}
	if err := e.svc.Pause(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a tick, a send in flight and the records
	settled := sent()
	time.Sleep(1500 * time.Millisecond)
	if after := sent(); after != settled || settled > 25 {
		t.Fatalf("sent %d a second after the pause and %d 1.5 s later (rate 10/s); want the pause to hold within a second", settled, after)
	}
	if err := e.svc.Resume(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	e.waitState(c.ID, broadcast.Done, 30*time.Second)
	for i := int64(1); i <= n; i++ {
		if got := len(fake.Messages(i)); got != 1 {
			t.Errorf("user %d got %d messages, want 1", i, got)
		}
	}
}

func storetestBucket(t *testing.T) string { return "pause-test:" + t.Name() }
