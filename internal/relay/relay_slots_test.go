package relay_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// gateSink is a Sink whose updates are handled (recorded, in the order
// submitted) at once but whose outcomes wait until gate is closed: it
// holds every in-flight slot it is given. It records the most updates it
// held at once.
type gateSink struct {
	*handler
	gate chan struct{}

	mu        sync.Mutex
	inHand    int
	maxInHand int
}

func (s *gateSink) Submit(ctx context.Context, b []*messenger.Update) (func() error, error) {
	wait, err := s.handler.Submit(ctx, b)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.inHand += len(b)
	s.maxInHand = max(s.maxInHand, s.inHand)
	s.mu.Unlock()
	return func() error {
		<-s.gate
		s.mu.Lock()
		s.inHand -= len(b)
		s.mu.Unlock()
		return wait()
	}, nil
}

func (s *gateSink) most() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInHand
}

// onePoller is a platform whose poll delivers one update at a time and
// counts those confirmed (delivered without error).
type onePoller struct {
	mu        sync.Mutex
	pending   []*messenger.Update
	confirmed int
}

func (p *onePoller) add(chat string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		id := strconv.Itoa(p.confirmed + len(p.pending))
		p.pending = append(p.pending, &messenger.Update{ID: id, Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: chat}, Text: "hi"})
	}
}

func (p *onePoller) done() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.confirmed
}

func (p *onePoller) poll(ctx context.Context, sink messenger.Sink) error {
	for ctx.Err() == nil {
		p.mu.Lock()
		var next []*messenger.Update
		if len(p.pending) > 0 {
			next = p.pending[:1]
		}
		p.mu.Unlock()
		if next == nil {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		if err := sink.Deliver(ctx, next); err != nil {
			continue
		}
		p.mu.Lock()
		p.pending = p.pending[1:]
		p.confirmed++
		p.mu.Unlock()
	}
	return nil
}

// TestSlowSinkDoesNotStallPolling: a Sink that holds every in-flight slot
// (MaxInflight 2, its outcomes waiting) must not stall polling: the
// poller keeps queueing updates (the queue absorbs them, up to
// MaxPending) instead of waiting for a slot, and no more than MaxInflight
// updates are in hand meanwhile. Once the Sink goes on, every update is
// handled once, in order, and acknowledged.
func TestSlowSinkDoesNotStallPolling(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			in := intake(t, b.open(t))
			p, h := &onePoller{}, &gateSink{handler: newHandler(), gate: make(chan struct{})}
			const maxInflight, n = 2, 20
			r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: "solo", Store: in, Poll: p.poll, Sink: h,
				LeaseTTL: 3 * time.Second, Partitions: 1, BatchSize: 1, MaxInflight: maxInflight,
				RetryDelay: 50 * time.Millisecond, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			opened := false
			defer func() {
				if !opened {
					close(h.gate) // let Stop finish after a failure
				}
				stop(t, r)
			}()
			waitFor(t, "solo polls", 10*time.Second, func() bool { return r.Status().Polling })
			p.add("c", n)
			waitFor(t, "every update polled and queued while the Sink holds the slots", 10*time.Second,
				func() bool { return p.done() == n })
			if m := h.most(); m > maxInflight {
				t.Errorf("the Sink held %d updates at once, want at most MaxInflight %d", m, maxInflight)
			}
			if got := h.handled(); got > maxInflight {
				t.Errorf("%d updates handed to the Sink while it held the slots, want at most %d", got, maxInflight)
			}
			close(h.gate)
			opened = true
			waitFor(t, "every update handled", 10*time.Second, func() bool { return h.handled() == n })
			waitFor(t, "the queue emptied", 10*time.Second, func() bool {
				d, err := in.Depth(context.Background(), 1)
				return err == nil && d == 0
			})
			h.mu.Lock()
			for id, c := range h.count {
				if c != 1 {
					t.Errorf("update %s handled %d times", id, c)
				}
			}
			h.mu.Unlock()
			checkOrder(t, h.handler)
		})
	}
}
