package relay_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
	redisstore "github.com/chathub/chathub/internal/store/redis"
	"github.com/chathub/chathub/internal/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

// backend opens a Store on miniredis or on the real Redis (own prefix).
type backend struct {
	name string
	open func(t *testing.T) *redisstore.Store
}

var backends = []backend{
	{"miniredis", func(t *testing.T) *redisstore.Store { return openStore(t, "") }},
	{"redis", func(t *testing.T) *redisstore.Store {
		storetest.SkipUnlessServices(t)
		return openStore(t, storetest.RedisURL())
	}},
}

func openStore(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	c, closeClient, err := redisstore.Open(context.Background(), url, quiet)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "t_relay_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if url != "" {
		prefix = storetest.RedisPrefix(t)
	}
	s, err := redisstore.New(c, redisstore.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(); _ = closeClient() })
	return s
}

// platform is a fake platform's update queue polled like Telegram's: a
// poll takes the oldest updates and confirms them only once delivered. It
// records how many pollers ran at once.
type platform struct {
	mu      sync.Mutex
	pending []*messenger.Update
	active  int
	maxAct  int
	polls   atomic.Int64 // Poll calls
}

func (p *platform) add(chat string, n int, from int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range n {
		p.pending = append(p.pending, &messenger.Update{
			ID: strconv.Itoa(from + i), Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: chat}, Text: "hi",
		})
	}
}

// poll is a relay.Config.Poll.
func (p *platform) poll(ctx context.Context, sink messenger.Sink) error {
	p.polls.Add(1)
	p.mu.Lock()
	p.active++
	p.maxAct = max(p.maxAct, p.active)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.active--
		p.mu.Unlock()
	}()
	for ctx.Err() == nil {
		p.mu.Lock()
		batch := p.pending[:min(len(p.pending), 7)]
		p.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		if err := sink.Deliver(ctx, batch); err != nil {
			continue
		}
		p.mu.Lock()
		p.pending = p.pending[len(batch):]
		p.mu.Unlock()
	}
	return nil
}

// handler is a fake dispatcher (messenger.Submitter): it records every
// update it handles, per chat in order, and fails the updates fail names
// once each.
type handler struct {
	mu      sync.Mutex
	seen    map[string][]string // chat → update ids handled, in order
	count   map[string]int      // update id → times handled
	failing map[string]bool
}

func newHandler() *handler {
	return &handler{seen: map[string][]string{}, count: map[string]int{}, failing: map[string]bool{}}
}

func (h *handler) Deliver(ctx context.Context, b []*messenger.Update) error {
	w, err := h.Submit(ctx, b)
	if err != nil {
		return err
	}
	return w()
}

func (h *handler) Submit(_ context.Context, b []*messenger.Update) (func() error, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, u := range b {
		if h.failing[u.ID] {
			delete(h.failing, u.ID)
			errs = append(errs, fmt.Errorf("update %s failed", u.ID))
			continue
		}
		if h.count[u.ID] == 0 { // dedupe, as the pipeline's Gate does
			h.seen[u.Chat.ID] = append(h.seen[u.Chat.ID], u.ID)
		}
		h.count[u.ID]++
	}
	err := errors.Join(errs...)
	return func() error { return err }, nil
}

func (h *handler) handled() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ids := range h.seen {
		n += len(ids)
	}
	return n
}

func newRelay(t *testing.T, s relay.Store, p *platform, h messenger.Submitter, holder string, ttl time.Duration) *relay.Relay {
	t.Helper()
	r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: holder, Store: s, Poll: p.poll, Sink: h,
		LeaseTTL: ttl, Partitions: 4, BatchSize: 5, RetryDelay: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func stop(t *testing.T, r *relay.Relay) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Errorf("stop %s: %v", r.Holder(), err)
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func intake(t *testing.T, s *redisstore.Store) *redisstore.Intake {
	t.Helper()
	in, err := s.Intake(messenger.Telegram, "")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// checkOrder fails when a chat's updates were handled out of order.
func checkOrder(t *testing.T, h *handler) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for chat, ids := range h.seen {
		for i := 1; i < len(ids); i++ {
			a, _ := strconv.Atoi(ids[i-1])
			b, _ := strconv.Atoi(ids[i])
			if b < a {
				t.Errorf("chat %s: update %d handled after %d", chat, b, a)
			}
		}
	}
}

func TestRelay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, s *redisstore.Store)
	}{
		{"OneProcessHandlesEverything", testOneProcess},
		{"StandbyTakesOverOnStop", testTakeoverOnStop},
		{"CutOffHolderStopsBeforeTakeover", testCutOffHolder},
		{"BadEntrySkipped", testBadEntry},
		{"DeadPredecessorTakenOverAtOnce", testDeadPredecessor},
		{"FailedBatchReadAgain", testFailedBatch},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b.open(t))
				})
			}
		})
	}
}

func testOneProcess(t *testing.T, s *redisstore.Store) {
	p, h := &platform{}, newHandler()
	r := newRelay(t, intake(t, s), p, h, "solo", time.Second)
	defer stop(t, r)
	for c := range 10 {
		p.add("c"+strconv.Itoa(c), 10, c*100)
	}
	waitFor(t, "100 updates handled", 20*time.Second, func() bool { return h.handled() == 100 })
	checkOrder(t, h)
	st := r.Status()
	if !st.Polling || st.Holder != "solo" || st.Partitions != 4 {
		t.Errorf("status = %+v, want polling with all 4 partitions", st)
	}
	waitFor(t, "the queue emptied", 10*time.Second, func() bool {
		d, err := intake(t, s).Depth(context.Background(), 4)
		return err == nil && d == 0
	})
}

func testTakeoverOnStop(t *testing.T, s *redisstore.Store) {
	p, h := &platform{}, newHandler()
	in := intake(t, s)
	a := newRelay(t, in, p, h, "a", 900*time.Millisecond)
	waitFor(t, "a polls", 10*time.Second, func() bool { return a.Status().Polling })
	b := newRelay(t, in, p, h, "b", 900*time.Millisecond)
	defer stop(t, b)
	waitFor(t, "b sees a as the poller", 10*time.Second, func() bool { return b.Status().Holder == "a" })
	waitFor(t, "the partitions split", 10*time.Second, func() bool {
		return a.Status().Partitions == 2 && b.Status().Partitions == 2
	})
	p.add("x", 20, 0)
	p.add("y", 20, 1000)
	waitFor(t, "40 updates handled", 20*time.Second, func() bool { return h.handled() == 40 })
	stopped := time.Now()
	stop(t, a)
	waitFor(t, "b polls", 10*time.Second, func() bool { return b.Status().Polling })
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("b took over %s after a stopped (a released the lease)", d)
	}
	p.add("x", 20, 100)
	waitFor(t, "60 updates handled", 20*time.Second, func() bool { return h.handled() == 60 })
	waitFor(t, "b has every partition", 10*time.Second, func() bool { return b.Status().Partitions == 4 })
	checkOrder(t, h)
	if p.maxAct > 1 {
		t.Errorf("%d pollers ran at once", p.maxAct)
	}
}

// flaky is a relay.Store that fails every call while down (a process cut
// off from Redis).
type flaky struct {
	relay.Store
	down atomic.Bool
}

var errDown = errors.New("redis unreachable")

func (f *flaky) AcquireLease(ctx context.Context, n, h string, ttl time.Duration, dead ...string) (bool, string, error) {
	if f.down.Load() {
		return false, "", errDown
	}
	return f.Store.AcquireLease(ctx, n, h, ttl, dead...)
}

func (f *flaky) RenewLease(ctx context.Context, n, h string, ttl time.Duration) (bool, error) {
	if f.down.Load() {
		return false, errDown
	}
	return f.Store.RenewLease(ctx, n, h, ttl)
}

func (f *flaky) ReleaseLease(ctx context.Context, n, h string) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.ReleaseLease(ctx, n, h)
}

func (f *flaky) AcquireLeases(ctx context.Context, n, r []string, h string, ttl time.Duration, dead ...string) ([]bool, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.AcquireLeases(ctx, n, r, h, ttl, dead...)
}

func (f *flaky) Balance(ctx context.Context, req relay.BalanceRequest) (relay.Balance, error) {
	if f.down.Load() {
		return relay.Balance{}, errDown
	}
	return f.Store.Balance(ctx, req)
}

func (f *flaky) Append(ctx context.Context, e []relay.Entry) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Append(ctx, e)
}

func (f *flaky) Read(ctx context.Context, c []relay.Cursor, n int, b time.Duration) ([]relay.Entry, error) {
	if f.down.Load() {
		time.Sleep(b)
		return nil, errDown
	}
	return f.Store.Read(ctx, c, n, b)
}

// testCutOffHolder cuts the poller off Redis: it must stop polling before
// its lease can expire, and the standby then polls; never both at once.
func testCutOffHolder(t *testing.T, s *redisstore.Store) {
	p, h := &platform{}, newHandler()
	cut := &flaky{Store: intake(t, s)}
	a := newRelay(t, cut, p, h, "a", 900*time.Millisecond)
	waitFor(t, "a polls", 10*time.Second, func() bool { return a.Status().Polling })
	b := newRelay(t, intake(t, s), p, h, "b", 900*time.Millisecond)
	defer stop(t, b)
	p.add("x", 10, 0)
	waitFor(t, "10 updates handled", 20*time.Second, func() bool { return h.handled() == 10 })
	cut.down.Store(true)
	waitFor(t, "a stops polling", 5*time.Second, func() bool { return !a.Status().Polling })
	waitFor(t, "b polls", 10*time.Second, func() bool { return b.Status().Polling })
	p.add("x", 10, 100)
	waitFor(t, "20 updates handled", 20*time.Second, func() bool { return h.handled() == 20 })
	checkOrder(t, h)
	if p.maxAct > 1 {
		t.Errorf("%d pollers ran at once", p.maxAct)
	}
	cut.down.Store(false)
	stop(t, a)
}

// testDeadPredecessor: a process proven stopped (a predecessor on the
// host) holds the poller lease and a membership for a minute; its
// successor takes both over at once.
func testDeadPredecessor(t *testing.T, s *redisstore.Store) {
	ctx := context.Background()
	in := intake(t, s)
	if held, _, err := in.AcquireLease(ctx, relay.PollerLease, "ghost", time.Minute); err != nil || !held {
		t.Fatal(held, err)
	}
	if _, err := in.AcquireLeases(ctx, []string{"part:0", "part:1"}, nil, "ghost", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Balance(ctx, relay.BalanceRequest{Holder: "ghost", TTL: time.Minute, Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	p, h := &platform{}, newHandler()
	r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: "next", Store: in, Poll: p.poll, Sink: h,
		Partitions: 4, LeaseTTL: 30 * time.Second, Logger: quiet, Dead: func(h string) bool { return h == "ghost" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop(t, r)
	waitFor(t, "the successor polls", 5*time.Second, func() bool { return r.Status().Polling })
	if st := r.Status(); st.Partitions != 4 {
		t.Errorf("status = %+v, want all 4 partitions (the dead member's included)", st)
	}
	p.add("c", 3, 0)
	waitFor(t, "3 updates handled", 10*time.Second, func() bool { return h.handled() == 3 })
}

func testBadEntry(t *testing.T, s *redisstore.Store) {
	p, h := &platform{}, newHandler()
	in := intake(t, s)
	chat := "c1"
	part := relay.Partition(chat, 4)
	other := `{"ID":"9","Chat":{"Platform":"vk","ID":"c1"}}`
	if err := in.Append(context.Background(), []relay.Entry{{Partition: part, Data: []byte("{not json")},
		{Partition: part, Data: []byte(other)}}); err != nil {
		t.Fatal(err)
	}
	r := newRelay(t, in, p, h, "solo", time.Second)
	defer stop(t, r)
	p.add(chat, 3, 0)
	waitFor(t, "3 updates handled", 20*time.Second, func() bool { return h.handled() == 3 })
	waitFor(t, "2 entries skipped", 5*time.Second, func() bool { return r.Status().Skipped == 2 })
	waitFor(t, "the queue emptied", 10*time.Second, func() bool {
		d, err := in.Depth(context.Background(), 4)
		return err == nil && d == 0
	})
}

func testFailedBatch(t *testing.T, s *redisstore.Store) {
	p, h := &platform{}, newHandler()
	h.failing["3"] = true
	r := newRelay(t, intake(t, s), p, h, "solo", time.Second)
	defer stop(t, r)
	p.add("c", 6, 0)
	waitFor(t, "6 updates handled", 20*time.Second, func() bool { return h.handled() == 6 })
	h.mu.Lock()
	defer h.mu.Unlock()
	// The fake handles a batch's other updates though one failed (the real
	// pipeline retries the failed one first, holding its chat's next ones).
	if h.count["3"] < 1 {
		t.Errorf("the failed update was never handled again: %v", h.seen["c"])
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := relay.Config{Platform: messenger.Telegram, Holder: "h", Store: &flaky{}, Sink: newHandler(),
		Poll: func(context.Context, messenger.Sink) error { return nil }}
	cases := []struct {
		name string
		edit func(c *relay.Config)
		want string // "" valid
	}{
		{"defaults", func(*relay.Config) {}, ""},
		{"no holder", func(c *relay.Config) { c.Holder = "" }, "Holder"},
		{"no store", func(c *relay.Config) { c.Store = nil }, "required"},
		{"bad platform", func(c *relay.Config) { c.Platform = "icq" }, "platform"},
		{"short lease", func(c *relay.Config) { c.LeaseTTL = 100 * time.Millisecond }, "lease TTL"},
		{"too many partitions", func(c *relay.Config) { c.Partitions = relay.MaxPartitions + 1 }, "partitions"},
		{"long read block", func(c *relay.Config) { c.ReadBlock = 3 * time.Second }, "read block"},
		{"huge batch", func(c *relay.Config) { c.BatchSize = relay.MaxBatchSize + 1 }, "batch size"},
		{"in flight below batch", func(c *relay.Config) { c.BatchSize, c.MaxInflight = 10, 9 }, "max in flight"},
		{"in flight of one batch", func(c *relay.Config) { c.BatchSize, c.MaxInflight = 10, 10 }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			_, err := relay.New(c)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPartitionStable(t *testing.T) {
	t.Parallel()
	// Pinned values (FNV-1a 32 of the chat id, modulo n): processes of
	// different versions must agree on a chat's partition, or one chat's
	// updates would be split over two streams during a rolling upgrade.
	for _, tc := range []struct {
		chat    string
		n, want int
	}{{"123", 16, 11}, {"123", 1, 0}, {"-100500", 16, 2}, {"", 7, 2}} {
		if p := relay.Partition(tc.chat, tc.n); p != tc.want {
			t.Errorf("Partition(%q, %d) = %d, want %d", tc.chat, tc.n, p, tc.want)
		}
	}
}
