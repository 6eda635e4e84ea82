package relay

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// refusingSink refuses every Submit (as the pipeline does once stopping),
// calling before first.
type refusingSink struct{ before func() }

func (s refusingSink) Deliver(ctx context.Context, b []*messenger.Update) error {
	_, err := s.Submit(ctx, b)
	return err
}

func (s refusingSink) Submit(context.Context, []*messenger.Update) (func() error, error) {
	s.before()
	return nil, errors.New("stopping")
}

// nopStore is a Store never called (the relay is not started).
type nopStore struct{ Store }

// TestSubmitRefusedDrainsLikeAck: updates the Sink refused are no longer
// in hand; a draining partition left with none in hand is dropped from
// the count and the balance is kicked, as when its last update is
// acknowledged, and every slot comes back.
func TestSubmitRefusedDrainsLikeAck(t *testing.T) {
	t.Parallel()
	var r *Relay
	// The partition starts draining (a balance turn) while its updates
	// are handed over.
	drain := func() {
		r.mu.Lock()
		o := r.owned[0]
		o.draining, o.drainSince = true, time.Now()
		r.owned[0] = o
		r.mu.Unlock()
	}
	r, err := New(Config{Platform: messenger.Telegram, Holder: "h", Store: nopStore{}, Sink: refusingSink{before: drain},
		Poll: func(context.Context, messenger.Sink) error { return nil }, Partitions: 1, BatchSize: 1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r.owned[0] = ownedPart{validUntil: time.Now().Add(time.Minute), gen: 1}
	chat := messenger.ChatKey{Platform: messenger.Telegram, ID: "c"}
	r.submitMu.Lock()
	taken, alive := r.submit(context.Background(), 0, 1, []string{"1-0", "2-0", "3-0"},
		[]*messenger.Update{{ID: "1", Chat: chat}, {ID: "2", Chat: chat}, {ID: "3", Chat: chat}}, nil, false, r.slots.tryAcquire(3))
	r.submitMu.Unlock()
	if !taken || alive {
		t.Fatalf("submit = taken %v, alive %v; want taken, not alive (the Sink refused)", taken, alive)
	}
	if n, ok := r.inflight[0]; ok {
		t.Errorf("inflight[0] = %d, want the partition gone from the count", n)
	}
	if got := len(r.slots.ch); got != 0 {
		t.Errorf("%d slots still taken, want none", got)
	}
	select {
	case <-r.kick:
	default:
		t.Error("the draining partition has nothing in hand any more, but the balance was not kicked")
	}
}
