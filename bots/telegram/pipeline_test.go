package telegram

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
)

// goSink is a Submitter that handles every update of a batch in its own
// goroutine, so the tests see the poller's behaviour alone (the pipeline's
// per-chat shards would serialise chats that share a shard).
type goSink struct {
	h func(context.Context, *messenger.Update) error
}

func pipelineSink(_ *testing.T, h func(context.Context, *messenger.Update) error) goSink {
	return goSink{h: h}
}

func (g goSink) Deliver(ctx context.Context, batch []*messenger.Update) error {
	wait, err := g.Submit(ctx, batch)
	if err != nil {
		return err
	}
	return wait()
}

func (g goSink) Submit(ctx context.Context, batch []*messenger.Update) (func() error, error) {
	var wg sync.WaitGroup
	errs := make([]error, len(batch))
	for i, u := range batch {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = g.h(ctx, u) }()
	}
	return func() error { wg.Wait(); return errors.Join(errs...) }, nil
}

var _ messenger.Submitter = goSink{}

// dispatcherSink is the real inbound pipeline (per-chat order) over h.
func dispatcherSink(t *testing.T, h dispatch.HandlerFunc) *dispatch.Dispatcher {
	t.Helper()
	d, err := dispatch.New(dispatch.Config{Handler: h, Workers: 8, RetryBackoff: time.Millisecond, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop(context.Background()) })
	return d
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
	}
}

// TestPipelinedPollingIsNotHeldByASlowUpdate: while one chat's update is
// still being handled, later updates of other chats are fetched and handled
// (no waiting for the whole batch), and the offset never confirms the slow
// one before it is done.
func TestPipelinedPollingIsNotHeldByASlowUpdate(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // a failing test must not leave the handler blocked
	var mu sync.Mutex
	var handled []string
	sink := pipelineSink(t, func(_ context.Context, u *messenger.Update) error {
		if u.Text == "slow" {
			<-release
		}
		mu.Lock()
		handled = append(handled, u.Text)
		mu.Unlock()
		return nil
	})
	stop := runBot(t, b, sink)
	defer stop()
	slow := s.SendText(1, "slow")
	eventually(t, "the slow update is fetched", func() bool { return s.Calls("getUpdates") >= 1 && len(s.Pending()) == 1 })
	time.Sleep(20 * time.Millisecond)
	for i := range 5 {
		s.SendText(int64(10+i), "fast"+strconv.Itoa(i))
	}
	eventually(t, "later updates handled while the slow one runs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 5
	})
	if p := s.Pending(); len(p) == 0 || p[0] != slow {
		t.Fatalf("pending %v: the slow update %d was confirmed before it was handled", p, slow)
	}
	free()
	eventually(t, "everything confirmed once handled", func() bool { return len(s.Pending()) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(handled, "slow") || len(handled) != 6 {
		t.Fatalf("handled %q; want each update once", handled)
	}
}

// TestPipelinedPollingRetriesAFailedBatch: a failing update is taken again
// after the backoff (not confirmed meanwhile) and handled once it succeeds;
// updates of one chat stay in order.
func TestPipelinedPollingRetriesAFailedBatch(t *testing.T) {
	t.Parallel()
	b, s, logs := newTestBot(t, nil)
	var fails atomic.Int32
	var mu sync.Mutex
	var handled []string
	sink := dispatcherSink(t, func(_ context.Context, u *messenger.Update) error {
		if u.Text == "flaky" && fails.Add(1) <= 2 {
			return errors.New("postgres is down")
		}
		mu.Lock()
		handled = append(handled, u.Text)
		mu.Unlock()
		return nil
	})
	stop := runBot(t, b, sink)
	defer stop()
	s.SendText(1, "flaky")
	eventually(t, "the failing update is handled after two failures", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(handled, "flaky")
	})
	eventually(t, "confirmed", func() bool { return len(s.Pending()) == 0 })
	if fails.Load() != 3 {
		t.Fatalf("attempts = %d; want 3", fails.Load())
	}
	if !strings.Contains(logs.String(), "delivering updates failed; retrying them") {
		t.Errorf("no retry logged:\n%s", logs.String())
	}
	for _, text := range []string{"a", "b", "c"} {
		s.SendText(2, text)
	}
	eventually(t, "a chat's updates handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 4
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(handled[1:], []string{"a", "b", "c"}) {
		t.Fatalf("chat 2 handled %q; want in order", handled[1:])
	}
}

// TestPipelinedStopConfirmsOnlyHandled: on stop, Run lets the batches in
// flight finish and confirms exactly the handled updates.
func TestPipelinedStopConfirmsOnlyHandled(t *testing.T) {
	t.Parallel()
	b, s, _ := newTestBot(t, nil)
	release, started := make(chan struct{}), make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	sink := pipelineSink(t, func(_ context.Context, u *messenger.Update) error {
		if u.Text == "slow" {
			close(started)
			<-release
		}
		return nil
	})
	stop := runBot(t, b, sink)
	s.SendText(1, "done")
	eventually(t, "first update confirmed", func() bool { return len(s.Pending()) == 0 })
	s.SendText(2, "slow")
	<-started
	time.AfterFunc(100*time.Millisecond, func() { once.Do(func() { close(release) }) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if p := s.Pending(); len(p) != 0 {
		t.Fatalf("after stop %v pending; the handled slow update must be confirmed", p)
	}
}
