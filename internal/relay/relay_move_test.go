package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// slowHandler is a handler whose updates of the chats in hold wait until
// release is closed (one chat stuck in a slow handler), then are handled
// in the order they were submitted.
type slowHandler struct {
	*handler
	hold    map[string]bool
	release chan struct{}

	mu     sync.Mutex
	queued [][]*messenger.Update
	flush  sync.Once
}

func (h *slowHandler) Submit(ctx context.Context, b []*messenger.Update) (func() error, error) {
	stuck := false
	for _, u := range b {
		stuck = stuck || h.hold[u.Chat.ID]
	}
	if !stuck {
		return h.handler.Submit(ctx, b)
	}
	h.mu.Lock()
	h.queued = append(h.queued, b)
	h.mu.Unlock()
	return func() error {
		<-h.release
		h.flush.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			for _, q := range h.queued {
				_, _ = h.handler.Submit(ctx, q)
			}
		})
		return nil
	}, nil
}

// TestSlowChatDoesNotHoldUpOthers: one chat whose handling hangs must not
// hold up the handling or the acknowledgement of the other chats of its
// partition (one partition here), nor stop the reader: only its own
// entries stay in the queue.
func TestSlowChatDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			in := intake(t, s)
			h := &slowHandler{handler: newHandler(), hold: map[string]bool{"slow": true}, release: make(chan struct{})}
			p := &platform{}
			r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: "solo", Store: in, Poll: p.poll, Sink: h,
				LeaseTTL: time.Second, Partitions: 1, BatchSize: 10, MaxInflight: 40, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer stop(t, r)
			p.add("slow", 3, 0)
			// More updates of other chats than MaxInflight: the reader must
			// go on past the stuck chat's batch.
			for c := range 20 {
				p.add("c"+strconv.Itoa(c), 5, 1000+c*10)
			}
			waitFor(t, "the other chats' 100 updates handled", 20*time.Second, func() bool { return h.handled() == 100 })
			waitFor(t, "only the slow chat's 3 entries left in the queue", 10*time.Second, func() bool {
				d, err := in.Depth(context.Background(), 1)
				return err == nil && d == 3
			})
			close(h.release)
			waitFor(t, "the slow chat handled", 10*time.Second, func() bool { return h.handled() == 103 })
			waitFor(t, "the queue emptied", 10*time.Second, func() bool {
				d, err := in.Depth(context.Background(), 1)
				return err == nil && d == 0
			})
			checkOrder(t, h.handler)
		})
	}
}

// moveStore records every Balance turn: who, when, what it gave up and
// what it held afterwards.
type moveStore struct {
	relay.Store
	mu    sync.Mutex
	turns []turn
}

type turn struct {
	holder             string
	sent, at           time.Time
	release, held, dra []int
}

func (m *moveStore) Balance(ctx context.Context, req relay.BalanceRequest) (relay.Balance, error) {
	sent := time.Now()
	b, err := m.Store.Balance(ctx, req)
	if err == nil {
		m.mu.Lock()
		m.turns = append(m.turns, turn{req.Holder, sent, time.Now(), req.Release, b.Held, b.Draining})
		m.mu.Unlock()
	}
	return b, err
}

// AcquireLeases records the partitions a stopping process gives up.
func (m *moveStore) AcquireLeases(ctx context.Context, names, release []string, holder string, ttl time.Duration, dead ...string) ([]bool, error) {
	sent := time.Now()
	held, err := m.Store.AcquireLeases(ctx, names, release, holder, ttl, dead...)
	if err == nil && len(release) > 0 {
		var rel []int
		for _, n := range release {
			if p, err := strconv.Atoi(strings.TrimPrefix(n, "part:")); err == nil {
				rel = append(rel, p)
			}
		}
		m.mu.Lock()
		m.turns = append(m.turns, turn{holder: holder, sent: sent, at: time.Now(), release: rel, dra: rel})
		m.mu.Unlock()
	}
	return held, err
}

// unowned returns, for each partition that moved from one holder to
// another, how long nobody read it: from the turn of the old holder that
// first found it draining (it stops reading then) to the new holder's
// first turn holding it; and how long it was unleased (from the old
// holder's release to the new one's hold).
func (m *moveStore) unowned() (reading, leased []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	owner := map[int]string{}
	drainFrom := map[int]time.Time{}
	releasedAt := map[int]time.Time{}
	for _, tr := range m.turns {
		for _, p := range tr.release {
			releasedAt[p] = tr.at
			if _, ok := drainFrom[p]; !ok { // a stop: reading ended before
				drainFrom[p] = tr.sent
			}
		}
		for _, p := range tr.dra {
			if _, ok := drainFrom[p]; !ok {
				drainFrom[p] = tr.at
			}
		}
		for _, p := range tr.held {
			if o, ok := owner[p]; ok && o != tr.holder {
				if d, ok := drainFrom[p]; ok {
					reading = append(reading, tr.at.Sub(d))
				}
				if r, ok := releasedAt[p]; ok {
					leased = append(leased, tr.at.Sub(r))
				}
			}
			owner[p] = tr.holder
			delete(drainFrom, p)
			delete(releasedAt, p)
		}
	}
	return reading, leased
}

// TestPartitionMovesNeitherRepeatNorLose: while updates flow, a second
// process joins (half the partitions move to it) and leaves again (they
// move back); every update is handled exactly once (a partition is given
// up only after the updates read from it were handled and acknowledged,
// so its next owner does not read them again), in order, and the test
// logs how long the moved partitions were not read.
func TestPartitionMovesNeitherRepeatNorLose(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ms := &moveStore{Store: intake(t, b.open(t))}
			p, h := &platform{}, newHandler()
			const ttl = 3 * time.Second
			a := newMoveRelay(t, ms, p, h, "a", ttl)
			defer stop(t, a)
			waitFor(t, "a polls", 10*time.Second, func() bool { return a.Status().Polling })
			stopFeed := make(chan struct{})
			fed := make(chan int)
			go func() { // 40 chats, one update each every few ms
				n := 0
				defer func() { fed <- n }()
				for {
					select {
					case <-stopFeed:
						return
					case <-time.After(2 * time.Millisecond):
					}
					p.add("c"+strconv.Itoa(n%40), 1, n)
					n++
				}
			}()
			time.Sleep(300 * time.Millisecond)
			bb := newMoveRelay(t, ms, p, h, "b", ttl)
			waitFor(t, "the partitions split", 10*time.Second, func() bool {
				return a.Status().Partitions == 4 && bb.Status().Partitions == 4
			})
			time.Sleep(300 * time.Millisecond)
			stop(t, bb)
			waitFor(t, "a has every partition again", 10*time.Second, func() bool { return a.Status().Partitions == 8 })
			time.Sleep(200 * time.Millisecond)
			close(stopFeed)
			n := <-fed
			waitFor(t, fmt.Sprintf("all %d updates handled", n), 20*time.Second, func() bool { return h.handled() == n })
			h.mu.Lock()
			for id, c := range h.count {
				if c != 1 {
					t.Errorf("update %s handled %d times", id, c)
				}
			}
			h.mu.Unlock()
			checkOrder(t, h)
			reading, leased := ms.unowned()
			if len(reading) == 0 {
				t.Error("no partition move was recorded")
			}
			slices.Sort(reading)
			slices.Sort(leased)
			t.Logf("%d updates; %d partition moves; not read for %v; unleased for %v (lease %s)", n, len(reading), reading, leased, ttl)
		})
	}
}

func newMoveRelay(t *testing.T, s relay.Store, p *platform, h messenger.Submitter, holder string, ttl time.Duration) *relay.Relay {
	t.Helper()
	r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: holder, Store: s, Poll: p.poll, Sink: h,
		LeaseTTL: ttl, Partitions: 8, BatchSize: 5, RetryDelay: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPollerHandsOverItsOwnPartitions: a process that polls and reads
// every partition hands the updates it appends to its consumer without
// reading them back: once its consumer took the first round, every later
// round is handed over, whatever the reader is doing meanwhile (each
// round is two full read batches, so a read that caught up never comes
// back before the next round: the hand-over must not depend on it); an
// entry another process appended meanwhile (a stale poller) is still
// handled, by the sweep or when the reader takes the partition back, and
// nothing is handled twice or out of order.
func TestPollerHandsOverItsOwnPartitions(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			in := intake(t, b.open(t))
			p, h := &platform{}, newHandler()
			// A lease of 3s: the partition stays usable (a third of the
			// lease before it may expire) even when a renewal is late
			// under load; the sweep runs every second.
			r := newRelay(t, in, p, h, "solo", 3*time.Second)
			defer stop(t, r)
			waitFor(t, "solo polls", 10*time.Second, func() bool { return r.Status().Polling })
			var first int64
			for round := range 5 {
				p.add("c", 10, round*100) // polled as batches of 7 and 3; read in batches of 5
				waitFor(t, "the updates handled", 10*time.Second, func() bool { return h.handled() == (round+1)*10 })
				if round == 0 {
					// Counted before the handler sees them: final now.
					first = r.Status().HandedOver
				}
			}
			if n := r.Status().HandedOver - first; n != 40 {
				t.Errorf("rounds 2-5: handed over %d of their 40 entries, want all (round 1: %d of 10)", n, first)
			}
			foreign := &messenger.Update{ID: "5000", Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "c"}, Text: "hi"}
			data, _ := json.Marshal(foreign)
			if err := in.Append(context.Background(), []relay.Entry{{Partition: relay.Partition("c", 4), Data: data}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the foreign entry handled (sweep)", 10*time.Second, func() bool { return h.handled() == 51 })
			if err := in.Append(context.Background(), []relay.Entry{{Partition: relay.Partition("c", 4), Data: data}}); err != nil {
				t.Fatal(err)
			}
			p.add("c", 10, 6000)
			waitFor(t, "the next updates handled", 10*time.Second, func() bool { return h.handled() == 61 })
			waitFor(t, "the queue emptied", 10*time.Second, func() bool {
				d, err := in.Depth(context.Background(), 4)
				return err == nil && d == 0
			})
			h.mu.Lock()
			for id, c := range h.count {
				if c != 1 && id != "5000" {
					t.Errorf("update %s handled %d times", id, c)
				}
			}
			h.mu.Unlock()
			checkOrder(t, h)
			n := r.Status().HandedOver
			if n == 0 {
				t.Error("nothing was handed over without reading it back")
			}
			t.Logf("handed over %d of the 60 entries the poller appended (round 1: %d)", n, first)
		})
	}
}
