package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// TestHandOverBiggerThanMaxInflight: the poller hands over more updates
// at once than MaxInflight (one partition, batches of 1: MaxInflight 2),
// each chat's acknowledged on its own; the slots released must match
// those acquired, or the acknowledger blocks and nothing more is
// acknowledged.
func TestHandOverBiggerThanMaxInflight(t *testing.T) {
	t.Parallel()
	s := openStore(t, "")
	p, h := &platform{}, newHandler()
	in := intake(t, s)
	r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: "a", Store: in, Poll: p.poll, Sink: h,
		LeaseTTL: time.Second, Partitions: 1, BatchSize: 1, RetryDelay: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	drained := func(n int) func() bool {
		return func() bool {
			d, err := in.Depth(context.Background(), 1)
			return err == nil && d == 0 && h.handled() == n
		}
	}
	p.add("c0", 1, 0)
	waitFor(t, "the first update", 10*time.Second, drained(1))
	for round := range 3 {
		p.mu.Lock()
		for i := range 3 { // one Deliver of 3 chats
			p.pending = append(p.pending, &messenger.Update{ID: string(rune('a'+round)) + string(rune('0'+i)),
				Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "c" + string(rune('1'+i))}, Text: "hi"})
		}
		p.mu.Unlock()
		waitFor(t, "the updates handed over acknowledged", 10*time.Second, drained(1+3*(round+1)))
	}
	stop(t, r)
	checkOrder(t, h)
}
