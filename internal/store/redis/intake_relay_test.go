package redis

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// countingSink is a messenger.Submitter counting how often each update
// was handled.
type countingSink struct {
	mu    sync.Mutex
	count map[string]int
}

func (s *countingSink) Deliver(ctx context.Context, b []*messenger.Update) error {
	w, err := s.Submit(ctx, b)
	if err != nil {
		return err
	}
	return w()
}

func (s *countingSink) Submit(_ context.Context, b []*messenger.Update) (func() error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range b {
		s.count[u.ID]++
	}
	return func() error { return nil }, nil
}

func (s *countingSink) times(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[id]
}

// TestRelayForeignAppendOnFastPath: while the poller hands its own
// entries over (the fast path), a previous version's process appends an
// entry with a plain XADD (rolling deploy); the poller's next append must
// not let the consumer skip it: it is handled exactly once.
func TestRelayForeignAppendOnFastPath(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{{"ForeignAppend", testRelayForeignAppend}})
}

func testRelayForeignAppend(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	updates := make(chan *messenger.Update, 16)
	poll := func(ctx context.Context, sink messenger.Sink) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case u := <-updates:
				for sink.Deliver(ctx, []*messenger.Update{u}) != nil && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
	}
	sink := &countingSink{count: map[string]int{}}
	r, err := relay.New(relay.Config{Platform: messenger.Telegram, Holder: "a", Store: in, Poll: poll, Sink: sink,
		LeaseTTL: time.Second, Partitions: 1, BatchSize: 10, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = r.Stop(sctx)
	}()
	update := func(id string) *messenger.Update {
		return &messenger.Update{ID: id, Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "c"}, Text: "hi"}
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Updates until the poller hands its own over (the fast path).
	n := 0
	for r.Status().HandedOver == 0 {
		id := "u" + strconv.Itoa(n)
		updates <- update(id)
		wait(id, func() bool { return sink.times(id) == 1 })
		n++
		if n > 200 {
			t.Fatal("the poller never handed its entries over")
		}
	}
	data, err := json.Marshal(update("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.XAdd(ctx, &goredis.XAddArgs{Stream: in.keys.intakeStream(in.base, 0), Values: []any{entryField, data}}).Err(); err != nil {
		t.Fatal(err)
	}
	updates <- update("after")
	wait("the update after the foreign one", func() bool { return sink.times("after") == 1 })
	wait("the foreign update", func() bool { return sink.times("x") >= 1 })
	wait("the queue drained", func() bool { d, err := in.Depth(ctx, 1); return err == nil && d == 0 })
	if got := sink.times("x"); got != 1 {
		t.Errorf("the foreign update was handled %d times, want once", got)
	}
}
