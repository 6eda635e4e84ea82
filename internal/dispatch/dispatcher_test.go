package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// memGate is an in-memory Gate: per-chat turns that expire like the Redis
// lock, and the set of handled updates.
type memGate struct {
	mu      sync.Mutex
	held    map[messenger.ChatKey]time.Time // turn held until
	done    map[string]bool
	fail    error
	entered atomic.Int64
}

func newMemGate() *memGate {
	return &memGate{held: map[messenger.ChatKey]time.Time{}, done: map[string]bool{}}
}

func (g *memGate) Enter(ctx context.Context, chat messenger.ChatKey, id string, ttl time.Duration) (func(context.Context, bool) error, bool, error) {
	if limit, ok := WaitLimit(ctx); ok {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	for {
		g.mu.Lock()
		if g.fail != nil {
			g.mu.Unlock()
			return nil, false, g.fail
		}
		if id != "" && g.done[chat.String()+"/"+id] {
			g.mu.Unlock()
			return nil, true, nil
		}
		if until, ok := g.held[chat]; !ok || time.Now().After(until) {
			g.held[chat] = time.Now().Add(ttl)
			g.mu.Unlock()
			g.entered.Add(1)
			return func(_ context.Context, handled bool) error {
				g.mu.Lock()
				defer g.mu.Unlock()
				if handled && id != "" {
					g.done[chat.String()+"/"+id] = true
				}
				delete(g.held, chat)
				return nil
			}, false, nil
		}
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func upd(chat, id string) *messenger.Update {
	return &messenger.Update{ID: id, Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: chat}, Kind: messenger.KindMessage, Text: id}
}

func start(t *testing.T, cfg Config) *Dispatcher {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Millisecond
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	return d
}

func TestOrderPerChatAndParallelAcrossChats(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][]string{}
	var running, peak atomic.Int64
	h := HandlerFunc(func(_ context.Context, u *messenger.Update) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(200 * time.Microsecond)
		running.Add(-1)
		mu.Lock()
		seen[u.Chat.ID] = append(seen[u.Chat.ID], u.ID)
		mu.Unlock()
		return nil
	})
	d := start(t, Config{Handler: h, Gate: newMemGate(), Workers: 8, MaxQueued: 4})
	const chats, per = 20, 25
	var batch []*messenger.Update
	for i := range per {
		for c := range chats {
			batch = append(batch, upd(fmt.Sprint(c), fmt.Sprintf("%d-%03d", c, i)))
		}
	}
	if err := d.Deliver(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for c := range chats {
		got := seen[fmt.Sprint(c)]
		if len(got) != per {
			t.Fatalf("chat %d: %d updates", c, len(got))
		}
		for i := range per {
			if want := fmt.Sprintf("%d-%03d", c, i); got[i] != want {
				t.Fatalf("chat %d out of order at %d: %v", c, i, got)
			}
		}
	}
	if p := peak.Load(); p < 2 || p > 8 {
		t.Fatalf("peak of %d updates handled at once, want 2 to 8 (Workers)", p)
	}
	if d.Stats().Handled() != chats*per || d.Stats().QueueDepth() != 0 {
		t.Fatalf("stats: handled %d depth %d", d.Stats().Handled(), d.Stats().QueueDepth())
	}
}

// TestSlowChatHoldsUpOnlyItself: while one chat's update hangs (a retry, a
// slow send), every other chat is served by the remaining workers; no chat
// waits behind another because of where it was routed.
func TestSlowChatHoldsUpOnlyItself(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h := HandlerFunc(func(_ context.Context, u *messenger.Update) error {
		if u.Chat.ID == "slow" {
			<-release
		}
		return nil
	})
	d := start(t, Config{Handler: h, Workers: 2})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before Stop's cleanup, which runs first otherwise
	slow, err := d.Submit(context.Background(), []*messenger.Update{upd("slow", "s1"), upd("slow", "s2")})
	if err != nil {
		t.Fatal(err)
	}
	var others []*messenger.Update
	for c := range 50 {
		others = append(others, upd(fmt.Sprint(c), fmt.Sprint(c)))
	}
	done := make(chan error, 1)
	go func() { done <- d.Deliver(context.Background(), others) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("chats were held up behind a slow chat")
	}
	if got := d.Stats().Handled(); got != 50 {
		t.Fatalf("handled %d of the 50 other chats' updates", got)
	}
	unblock()
	if err := slow(); err != nil {
		t.Fatal(err)
	}
}

// TestChatsTakeTurns: a chat with a backlog goes to the back of the line
// after each of its updates, so a chat that arrives later is not starved.
func TestChatsTakeTurns(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var order []string
	var d *Dispatcher
	h := HandlerFunc(func(_ context.Context, u *messenger.Update) error {
		if u.ID == "a1" {
			// Hold the only worker until the rest of the batch is queued:
			// the test is about the turn taken next, not about how fast
			// Deliver queues.
			deadline := time.Now().Add(10 * time.Second)
			for d.Stats().QueueDepth() < 3 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // the last one counted is pushed right after
		}
		mu.Lock()
		order = append(order, u.ID)
		mu.Unlock()
		return nil
	})
	d = start(t, Config{Handler: h, Workers: 1})
	batch := []*messenger.Update{upd("a", "a1"), upd("a", "a2"), upd("a", "a3"), upd("b", "b1")}
	if err := d.Deliver(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "b1", "a2", "a3"}; !slices.Equal(order, want) {
		t.Fatalf("handled in order %v, want %v", order, want)
	}
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    func(calls int) error // by call number, 1-based
		deliveries int                   // how many times the same batch is delivered
		wantErr    bool                  // of the last delivery
		wantCalls  int
		wantStats  func(s *Stats) bool
	}{
		{"ok once despite redelivery", func(int) error { return nil }, 3, false, 1,
			func(s *Stats) bool { return s.Handled() == 1 && s.Duplicates() == 2 }},
		{"transient failure retried", func(n int) error {
			if n <= 2 {
				return errors.New("postgres is down")
			}
			return nil
		}, 1, false, 3, func(s *Stats) bool { return s.Retries() == 2 && s.Handled() == 1 }},
		{"persistent failure reported and released", func(int) error { return errors.New("redis is down") }, 2, true, 6,
			func(s *Stats) bool { return s.Failed() == 2 && s.Handled() == 0 }},
		{"panic acknowledged, not retried", func(int) error { panic("bad update") }, 2, false, 1,
			func(s *Stats) bool { return s.Failed() == 1 && s.Duplicates() == 1 }},
		{"permanent failure acknowledged, not retried", func(int) error {
			return fmt.Errorf("%w: record changes: integer out of range", messenger.ErrPermanent)
		}, 2, false, 1, func(s *Stats) bool {
			return s.Rejected() == 1 && s.Retries() == 0 && s.Failed() == 0 && s.Duplicates() == 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			h := HandlerFunc(func(context.Context, *messenger.Update) error { return tt.handler(int(calls.Add(1))) })
			d := start(t, Config{Handler: h, Gate: newMemGate(), Workers: 2, MaxAttempts: 3})
			var err error
			for range tt.deliveries {
				err = d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")})
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if int(calls.Load()) != tt.wantCalls || !tt.wantStats(d.Stats()) {
				t.Fatalf("calls %d (want %d), stats %+v", calls.Load(), tt.wantCalls, d.Stats())
			}
		})
	}
}

func TestFailedUpdateDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	var handled sync.Map
	h := HandlerFunc(func(_ context.Context, u *messenger.Update) error {
		if u.ID == "poison" {
			panic("boom")
		}
		handled.Store(u.ID, true)
		return nil
	})
	d := start(t, Config{Handler: h, Workers: 1})
	err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "a"), upd("1", "poison"), upd("1", "b")})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, ok := handled.Load(id); !ok {
			t.Fatalf("%s not handled after a panic", id)
		}
	}
}

func TestGateDownIsAnError(t *testing.T) {
	t.Parallel()
	g := newMemGate()
	g.fail = errors.New("redis: connection refused")
	var calls atomic.Int64
	d := start(t, Config{Handler: HandlerFunc(func(context.Context, *messenger.Update) error { calls.Add(1); return nil }),
		Gate: g, Workers: 1, MaxAttempts: 2})
	if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "x")}); err == nil || calls.Load() != 0 {
		t.Fatalf("err = %v, calls %d: an update must not be handled (or acked) without its chat's turn", err, calls.Load())
	}
}

func TestStopDrainsThenRefuses(t *testing.T) {
	t.Parallel()
	var handled atomic.Int64
	h := HandlerFunc(func(context.Context, *messenger.Update) error {
		time.Sleep(5 * time.Millisecond)
		handled.Add(1)
		return nil
	})
	d, err := New(Config{Handler: h, Workers: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	_ = d.Start(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var batch []*messenger.Update
		for i := range 20 {
			batch = append(batch, upd(fmt.Sprint(i%3), fmt.Sprint(i)))
		}
		if err := d.Deliver(context.Background(), batch); err != nil {
			t.Errorf("deliver before stop: %v", err)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if handled.Load() != 20 {
		t.Fatalf("handled %d of 20 before stop returned", handled.Load())
	}
	if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "late")}); !errors.Is(err, ErrStopped) {
		t.Fatalf("deliver after stop: %v", err)
	}
}

func TestStopDeadlineCancelsRunningUpdates(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, _ *messenger.Update) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	d, _ := New(Config{Handler: h, Workers: 1, MaxAttempts: 1, Logger: quiet})
	_ = d.Start(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Deliver(context.Background(), []*messenger.Update{upd("1", "slow")}) }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop = %v, want deadline exceeded", err)
	}
	if err := <-errc; err == nil {
		t.Fatal("an update cut short by shutdown must not be acknowledged")
	}
}

func TestBackpressureRespectsContext(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	h := HandlerFunc(func(context.Context, *messenger.Update) error { <-block; return nil })
	d := start(t, Config{Handler: h, Workers: 1, MaxQueued: 1})
	t.Cleanup(func() { close(block) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	batch := []*messenger.Update{upd("1", "a"), upd("1", "b"), upd("1", "c"), upd("1", "d")}
	errc := make(chan error, 1)
	go func() { errc <- d.Deliver(ctx, batch) }()
	select {
	case err := <-errc:
		t.Fatalf("deliver returned %v before its updates were handled", err)
	case <-time.After(100 * time.Millisecond):
	}
	if depth := d.Stats().QueueDepth(); depth > 1 {
		t.Fatalf("queue depth %d exceeds its bound", depth)
	}
}

func TestChain(t *testing.T) {
	t.Parallel()
	var order []string
	mw := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(ctx context.Context, u *messenger.Update) error {
				order = append(order, name)
				return next.Handle(ctx, u)
			})
		}
	}
	h := Chain(HandlerFunc(func(context.Context, *messenger.Update) error { order = append(order, "h"); return nil }), mw("a"), mw("b"))
	_ = h.Handle(context.Background(), upd("1", "x"))
	if fmt.Sprint(order) != "[a b h]" {
		t.Fatalf("order = %v", order)
	}
}

// TestTwoDispatchersShareChatLock: two dispatchers (two processes) on one
// gate (Redis) never handle one chat at once nor an update twice.
func TestTwoDispatchersShareChatLock(t *testing.T) {
	t.Parallel()
	g := newMemGate()
	var inside, overlap, handled atomic.Int64
	h := HandlerFunc(func(context.Context, *messenger.Update) error {
		if inside.Add(1) > 1 {
			overlap.Add(1)
		}
		time.Sleep(200 * time.Microsecond)
		inside.Add(-1)
		handled.Add(1)
		return nil
	})
	a := start(t, Config{Handler: h, Gate: g, Workers: 4})
	b := start(t, Config{Handler: h, Gate: g, Workers: 4})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := upd("burst", fmt.Sprint(i))
			// Each update reaches both processes, as a retried webhook may.
			_ = a.Deliver(context.Background(), []*messenger.Update{u})
			_ = b.Deliver(context.Background(), []*messenger.Update{u})
		}()
	}
	wg.Wait()
	if overlap.Load() != 0 || handled.Load() != 50 {
		t.Fatalf("overlapping handlings %d, handled %d of 50", overlap.Load(), handled.Load())
	}
}

// TestDeadHoldersTurnExpires: a chat whose turn is held by a process that
// died is handled once the turn's TTL ends, and only once.
func TestDeadHoldersTurnExpires(t *testing.T) {
	t.Parallel()
	g := newMemGate()
	chat := upd("1", "u1").Chat
	g.held[chat] = time.Now().Add(time.Hour) // the dead process's turn
	var calls atomic.Int64
	d := start(t, Config{Handler: HandlerFunc(func(context.Context, *messenger.Update) error { calls.Add(1); return nil }),
		Gate: g, Workers: 1, HandleTimeout: 10 * time.Millisecond, TurnTTL: time.Second, MaxAttempts: 3})
	if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")}); err == nil || calls.Load() != 0 {
		t.Fatalf("deliver during a live turn: err %v, calls %d; want an error and no handling", err, calls.Load())
	}
	g.mu.Lock()
	g.held[chat] = time.Now().Add(-time.Millisecond) // the turn expires
	g.mu.Unlock()
	if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")}); err != nil || calls.Load() != 1 {
		t.Fatalf("redelivery after expiry: err %v, calls %d", err, calls.Load())
	}
	if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")}); err != nil || calls.Load() != 1 {
		t.Fatalf("redelivery after handling: err %v, calls %d; want skipped", err, calls.Load())
	}
}

func TestConfigRejectsTurnShorterThanAttempt(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Handler: HandlerFunc(func(context.Context, *messenger.Update) error { return nil }),
		HandleTimeout: time.Second, TurnTTL: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("a turn TTL shorter than the handling timeout was accepted")
	}
}

// TestPermanentFailureWithoutGate: without a Gate too, an update that fails
// for good is not retried and its batch is acknowledged.
func TestPermanentFailureWithoutGate(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	h := HandlerFunc(func(_ context.Context, u *messenger.Update) error {
		calls.Add(1)
		if u.ID == "poison" {
			return fmt.Errorf("%w: value too long", messenger.ErrPermanent)
		}
		return nil
	})
	d := start(t, Config{Handler: h, Workers: 1, MaxAttempts: 5})
	if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "poison"), upd("2", "b")}); err != nil {
		t.Fatalf("batch with a permanent failure: %v", err)
	}
	if calls.Load() != 2 || d.Stats().Rejected() != 1 || d.Stats().Handled() != 1 {
		t.Fatalf("calls %d, rejected %d, handled %d", calls.Load(), d.Stats().Rejected(), d.Stats().Handled())
	}
}

// TestUnclassifiedFailureGivenUp: an update whose handler fails with an
// error that is neither permanent nor an outage fails MaxDeliveries
// deliveries (the adapter redelivers it), then is given up at the next one:
// marked done, acknowledged without calling the handler again, counted.
// During an outage its failed deliveries do not count.
func TestUnclassifiedFailureGivenUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outage   bool
		wantGive bool
	}{
		{"own failure", false, true},
		{"outage", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			h := HandlerFunc(func(context.Context, *messenger.Update) error {
				calls.Add(1)
				return errors.New("unexpected reply from a script")
			})
			svc := &fakeOutages{}
			if tt.outage {
				svc.down()
			}
			gate := newMemGate()
			d := start(t, Config{Handler: h, Gate: gate, Outages: svc, MaxAttempts: 2, MaxDeliveries: 3,
				MaxBackoff: time.Millisecond})
			deliver := func() error {
				return d.Deliver(context.Background(), []*messenger.Update{upd("1", "bad")})
			}
			for i := 1; i <= 3; i++ {
				if err := deliver(); err == nil {
					t.Fatalf("delivery %d succeeded, want the handler's error", i)
				}
			}
			err := deliver()
			if !tt.wantGive {
				if err == nil || calls.Load() != 8 || d.Stats().GivenUp() != 0 {
					t.Fatalf("4th delivery during an outage: %v, %d calls, %d given up; want an error, 8 calls, 0", err, calls.Load(), d.Stats().GivenUp())
				}
				return
			}
			if err != nil || calls.Load() != 6 || d.Stats().GivenUp() != 1 {
				t.Fatalf("4th delivery: %v, %d calls, %d given up; want nil, 6 calls, 1", err, calls.Load(), d.Stats().GivenUp())
			}
			if err := deliver(); err != nil || calls.Load() != 6 || d.Stats().Duplicates() != 1 {
				t.Fatalf("a redelivery after giving up: %v, %d calls, %d duplicates; want a duplicate", err, calls.Load(), d.Stats().Duplicates())
			}
		})
	}
}

// TestTemporaryFailureNeverGivenUp: a failure known to be temporary (a
// read-only or full database, a platform's 5xx or flood control) does not
// count toward giving up, so the update is retried, never lost.
func TestTemporaryFailureNeverGivenUp(t *testing.T) {
	t.Parallel()
	for _, cause := range []error{
		fmt.Errorf("save: %w", crm.ErrUnavailable),
		fmt.Errorf("send: %w", messenger.ErrTransient),
		fmt.Errorf("send: %w", &messenger.RateLimitError{RetryAfter: time.Minute}),
	} {
		t.Run(cause.Error(), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			h := HandlerFunc(func(context.Context, *messenger.Update) error {
				calls.Add(1)
				return cause
			})
			d := start(t, Config{Handler: h, Gate: newMemGate(), MaxAttempts: 1, MaxDeliveries: 2, MaxBackoff: time.Millisecond})
			for i := 1; i <= 5; i++ {
				if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "u")}); err == nil {
					t.Fatalf("delivery %d succeeded, want the temporary error", i)
				}
			}
			if calls.Load() != 5 || d.Stats().GivenUp() != 0 {
				t.Fatalf("%d calls, %d given up; want 5 calls (every delivery handled) and nothing given up", calls.Load(), d.Stats().GivenUp())
			}
		})
	}
}

// TestUpdatesWithoutIDNeverGivenUp: updates without an id cannot be told
// apart, so their failures are not counted: a chat's next such update is
// handled, not given up for its predecessors' failures.
func TestUpdatesWithoutIDNeverGivenUp(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	h := HandlerFunc(func(context.Context, *messenger.Update) error {
		calls.Add(1)
		return errors.New("unexpected reply from a script")
	})
	d := start(t, Config{Handler: h, MaxAttempts: 1, MaxDeliveries: 1, MaxBackoff: time.Millisecond})
	for i := 1; i <= 3; i++ {
		if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "")}); err == nil {
			t.Fatalf("delivery %d of an update without id succeeded, want the handler's error", i)
		}
	}
	if calls.Load() != 3 || d.Stats().GivenUp() != 0 {
		t.Fatalf("%d calls, %d given up; want every update handled (3), none given up", calls.Load(), d.Stats().GivenUp())
	}
}

// unsavedGate is a memGate whose first leave reports that the turn's state
// could not be written (ErrTurnUnsaved) while the turn is finished later,
// as the Redis store finishes a kept leave at the chat's next Enter.
type unsavedGate struct {
	*memGate
	failed atomic.Bool
	err    error
}

func (g *unsavedGate) Enter(ctx context.Context, chat messenger.ChatKey, id string, ttl time.Duration) (func(context.Context, bool) error, bool, error) {
	leave, dup, err := g.memGate.Enter(ctx, chat, id, ttl)
	if leave == nil {
		return leave, dup, err
	}
	return func(ctx context.Context, handled bool) error {
		if err := leave(ctx, handled); err != nil || g.failed.Swap(true) {
			return err
		}
		return g.err
	}, dup, err
}

// TestUnsavedTurnIsNotDone: an update whose leave could not write the
// turn's state is not done: it is tried again (and then found handled),
// while any other failed leave leaves the update handled.
func TestUnsavedTurnIsNotDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		leaveErr  error
		wantStats func(s *Stats) bool
	}{
		{"state not written: tried again", fmt.Errorf("leave: %w: connection reset", ErrTurnUnsaved),
			func(s *Stats) bool { return s.Retries() == 1 && s.Duplicates() == 1 && s.Handled() == 0 }},
		{"only the mark not written: handled", errors.New("leave: connection reset"),
			func(s *Stats) bool { return s.Retries() == 0 && s.Handled() == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			g := &unsavedGate{memGate: newMemGate(), err: tt.leaveErr}
			h := HandlerFunc(func(context.Context, *messenger.Update) error { calls.Add(1); return nil })
			d := start(t, Config{Handler: h, Gate: g, Workers: 1, MaxAttempts: 3})
			if err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")}); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 1 || !tt.wantStats(d.Stats()) {
				t.Fatalf("handler calls %d (want 1), stats %+v", calls.Load(), d.Stats())
			}
		})
	}
}

// TestQueueRoomDefaults: MaxQueued defaults to 16 × Workers plus Reserve,
// and a MaxQueued that is set wins over both.
func TestQueueRoomDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want int
	}{
		{"workers only", Config{Workers: 4}, 64},
		{"with the relays' reserve", Config{Workers: 4, Reserve: 3200}, 3264},
		{"negative reserve ignored", Config{Workers: 4, Reserve: -5}, 64},
		{"set wins", Config{Workers: 4, Reserve: 3200, MaxQueued: 10}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.cfg
			c.setDefaults()
			if c.MaxQueued != tt.want {
				t.Errorf("MaxQueued = %d, want %d", c.MaxQueued, tt.want)
			}
		})
	}
}
