package remind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
)

// t0 is the tests' start time: 18:00 UTC, 23:00 in Yekaterinburg.
var t0 = time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)

func chatN(i int) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint(1000 + i)}
}

func reminder(i int, due time.Time) dialog.Reminder {
	return dialog.Reminder{Chat: chatN(i), Scenario: "portrait", Version: "v1", Step: "name", N: 1, Due: due}
}

// startWorker starts a Worker on cfg (a quiet logger, a short poll) and
// stops it when the test ends.
func startWorker(t *testing.T, cfg Config) *Worker {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Millisecond
	}
	w, err := NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return w
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled waits until the chat's entry is gone or waits for a later time
// than now (put back), and returns it.
func settled(t *testing.T, q *queue, chat messenger.ChatKey, now time.Time) (entry, bool) {
	t.Helper()
	var e entry
	var ok bool
	waitFor(t, "the reminder of "+chat.ID+" is settled", func() bool {
		e, ok = q.get(chat)
		return !ok || !e.lease && e.at.After(now)
	})
	return e, ok
}

func TestNewWorkerRequires(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{Clients: &clients{}, Sender: &sender{}}, {Queue: newQueue(), Sender: &sender{}}, {Queue: newQueue(), Clients: &clients{}}} {
		if _, err := NewWorker(cfg); err == nil {
			t.Errorf("NewWorker(%+v) = nil error", cfg)
		}
	}
}

// TestWorkerEtiquette: never to a blocked or unsubscribed client (the
// reminder is dropped); a client who never subscribed is in the middle of
// the conversation they started, and is reminded.
func TestWorkerEtiquette(t *testing.T) {
	t.Parallel()
	at := t0.Add(-time.Hour)
	tests := []struct {
		name   string
		client *crm.Client
		sent   bool
	}{
		{"no record", nil, true},
		{"subscribed", &crm.Client{Subscribed: true}, true},
		{"never subscribed", &crm.Client{}, true},
		{"unsubscribed", &crm.Client{UnsubscribedAt: &at}, false},
		{"blocked", &crm.Client{Subscribed: true, BlockedAt: &at}, false},
		{"subscribed again", &crm.Client{Subscribed: true, UnsubscribedAt: &at}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newQueue(reminder(1, t0))
			s := &sender{}
			clk := &clock{now: t0}
			startWorker(t, Config{Queue: q, Clients: &clients{m: map[messenger.ChatKey]*crm.Client{chatN(1): tt.client}},
				Sender: s, Now: clk.Now})
			waitFor(t, "the reminder is done", func() bool { return q.len() == 0 })
			if got := s.count() == 1; got != tt.sent {
				t.Fatalf("sent = %v; want %v", got, tt.sent)
			}
		})
	}
}

// TestWorkerQuietHours: a reminder due at 23:00 in the client's timezone
// (QUIET_HOURS 21:00-09:00, the campaigns' rule) waits until 09:00 there,
// and goes out then.
func TestWorkerQuietHours(t *testing.T) {
	t.Parallel()
	yekt, err := time.LoadLocation("Asia/Yekaterinburg")
	if err != nil {
		t.Skip(err)
	}
	qh, err := broadcast.ParseQuietHours("21:00-09:00")
	if err != nil {
		t.Fatal(err)
	}
	policy := &broadcast.Policy{Quiet: qh, Location: time.UTC}
	q := newQueue(reminder(1, t0), reminder(2, t0))
	s := &sender{}
	clk := &clock{now: t0} // 23:00 in Yekaterinburg, 18:00 in UTC (no quiet hours there)
	cl := map[messenger.ChatKey]*crm.Client{chatN(1): {Timezone: "Asia/Yekaterinburg"}, chatN(2): {Timezone: ""}}
	w := startWorker(t, Config{Queue: q, Clients: &clients{m: cl}, Sender: s, Quiet: policy, Now: clk.Now})
	e, ok := settled(t, q, chatN(1), t0)
	morning := time.Date(2025, 3, 2, 9, 0, 0, 0, yekt)
	if !ok || !e.at.Equal(morning) || e.r.Attempts != 0 {
		t.Fatalf("the reminder waits until %s (attempts %d, kept %v); want %s", e.at, e.r.Attempts, ok, morning)
	}
	waitFor(t, "the client without a timezone (default UTC: 18:00) is reminded", func() bool { return s.count() == 1 })
	clk.set(morning.Add(-time.Minute))
	w.Wake()
	time.Sleep(50 * time.Millisecond)
	if n := s.count(); n != 1 {
		t.Fatalf("%d sent at 08:59 local; want only the UTC client's", n)
	}
	clk.set(morning)
	w.Wake()
	waitFor(t, "the reminder goes out at 09:00 local", func() bool { return s.count() == 2 })
	if got := s.sent[1].Chat; got != chatN(1) {
		t.Fatalf("sent to %s", got)
	}
}

// TestWorkerRetries: a failure that may pass puts the reminder back — a
// rate limit for its RetryAfter, a busy chat for 30s, anything else 1m,
// 2m, … — and after MaxAttempts it is given up.
func TestWorkerRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		delay time.Duration
	}{
		{"rate limit", &messenger.RateLimitError{RetryAfter: 3 * time.Second}, 3 * time.Second},
		{"busy chat", fmt.Errorf("wait: %w", dispatch.ErrChatBusy), 30 * time.Second},
		{"network", errors.New("connection reset"), time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newQueue(reminder(1, t0))
			s := &sender{errs: map[messenger.ChatKey][]error{chatN(1): {tt.err}}}
			clk := &clock{now: t0}
			w := startWorker(t, Config{Queue: q, Clients: &clients{}, Sender: s, Now: clk.Now})
			e, ok := settled(t, q, chatN(1), t0)
			if !ok || !e.at.Equal(t0.Add(tt.delay)) || e.r.Attempts != 1 || s.count() != 0 {
				t.Fatalf("after the failure: %+v (kept %v, sent %d); want due in %s with 1 attempt", e, ok, s.count(), tt.delay)
			}
			clk.set(t0.Add(tt.delay))
			w.Wake()
			waitFor(t, "the retry goes out", func() bool { return s.count() == 1 && q.len() == 0 })
		})
	}
	t.Run("given up", func(t *testing.T) {
		t.Parallel()
		q := newQueue(reminder(1, t0))
		fail := errors.New("timeout")
		s := &sender{errs: map[messenger.ChatKey][]error{chatN(1): {fail, fail, fail, fail, fail, fail}}}
		clk := &clock{now: t0}
		w := startWorker(t, Config{Queue: q, Clients: &clients{}, Sender: s, MaxAttempts: 3, Now: clk.Now})
		for i, delay := range []time.Duration{time.Minute, 2 * time.Minute} {
			e, ok := settled(t, q, chatN(1), clk.Now())
			if !ok || e.r.Attempts != i+1 || !e.at.Equal(clk.Now().Add(delay)) {
				t.Fatalf("after failure %d: %+v, %v; want due in %s", i+1, e, ok, delay)
			}
			clk.set(e.at)
			w.Wake()
		}
		waitFor(t, "the reminder is given up", func() bool { return q.len() == 0 })
		if s.count() != 0 {
			t.Fatal("sent")
		}
	})
	t.Run("the client cannot be read", func(t *testing.T) {
		t.Parallel()
		q := newQueue(reminder(1, t0))
		s := &sender{}
		startWorker(t, Config{Queue: q, Clients: &clients{err: errDown}, Sender: s, Now: (&clock{now: t0}).Now})
		if e, ok := settled(t, q, chatN(1), t0); !ok || e.r.Attempts != 1 || s.count() != 0 {
			t.Fatalf("%+v, %v, sent %d; want put back", e, ok, s.count())
		}
	})
}

// TestWorkerClaimRanOut: a reminder whose claim ran out before its turn
// came (the process stalled) is left for whoever claims it next: sent
// once, after its lease.
func TestWorkerClaimRanOut(t *testing.T) {
	t.Parallel()
	q := newQueue(reminder(1, t0), reminder(2, t0.Add(time.Second)))
	s := &sender{block: make(chan struct{}), entered: make(chan messenger.ChatKey, 4)}
	clk := &clock{now: t0.Add(time.Second)}
	w := startWorker(t, Config{Queue: q, Clients: &clients{}, Sender: s, Concurrency: 1, Lease: time.Minute, Now: clk.Now})
	waitFor(t, "both are claimed", func() bool {
		a, _ := q.get(chatN(1))
		b, _ := q.get(chatN(2))
		return a.lease && b.lease
	})
	if got := <-s.entered; got != chatN(1) {
		t.Fatalf("first send to %s", got)
	}
	clk.set(t0.Add(40 * time.Second)) // past lease - send timeout of the second's claim
	s.block <- struct{}{}             // the first goes out
	waitFor(t, "the first is sent", func() bool { return s.count() == 1 })
	time.Sleep(50 * time.Millisecond)
	if e, ok := q.get(chatN(2)); !ok || !e.lease || s.count() != 1 {
		t.Fatalf("second: %+v, %v, sent %d; want left claimed, not sent", e, ok, s.count())
	}
	close(s.block)
	clk.set(t0.Add(time.Minute + time.Second)) // its lease ended
	w.Wake()
	waitFor(t, "the second is sent after its lease", func() bool { return s.count() == 2 && q.len() == 0 })
}

// TestWorkerStopGivesBack: Stop finishes the send in progress and gives
// back the reminders claimed and not started, due at once.
func TestWorkerStopGivesBack(t *testing.T) {
	t.Parallel()
	q := newQueue(reminder(1, t0), reminder(2, t0)) // one sending, one waiting: a worker holds 2 × Concurrency
	s := &sender{block: make(chan struct{}), entered: make(chan messenger.ChatKey, 4)}
	clk := &clock{now: t0}
	w, err := NewWorker(Config{Queue: q, Clients: &clients{}, Sender: s, Concurrency: 1, Poll: 5 * time.Millisecond,
		Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all are claimed", func() bool {
		for i := 1; i <= 2; i++ {
			if e, _ := q.get(chatN(i)); !e.lease {
				return false
			}
		}
		return true
	})
	<-s.entered // one send is in progress
	stopped := make(chan error, 1)
	go func() { stopped <- w.Stop(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	s.block <- struct{}{} // the send in progress finishes
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if s.count() != 1 || q.len() != 1 {
		t.Fatalf("sent %d, left %d; want the one in progress sent, the other given back", s.count(), q.len())
	}
	left := s.sent[0].Chat == chatN(1)
	e, ok := q.get(chatN(map[bool]int{true: 2, false: 1}[left]))
	if !ok || e.lease || e.at.After(t0) || e.r.Attempts != 0 {
		t.Errorf("%+v, %v; want given back, due now", e, ok)
	}
}

// TestWorkerStopDeadline: a send still running when Stop's deadline
// passes is cut short and its reminder given back unchanged.
func TestWorkerStopDeadline(t *testing.T) {
	t.Parallel()
	q := newQueue(reminder(1, t0))
	s := &sender{block: make(chan struct{}), entered: make(chan messenger.ChatKey, 4)}
	clk := &clock{now: t0}
	w, err := NewWorker(Config{Queue: q, Clients: &clients{}, Sender: s, Poll: 5 * time.Millisecond, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-s.entered // the send is in progress
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v; want the deadline", err)
	}
	if e, ok := q.get(chatN(1)); !ok || e.lease || e.r.Attempts != 0 || s.count() != 0 {
		t.Fatalf("%+v, %v, sent %d; want given back unsent with no attempt counted", e, ok, s.count())
	}
}

// TestWorkersShareTheQueue: two workers (two processes) on one queue
// send each reminder once.
func TestWorkersShareTheQueue(t *testing.T) {
	t.Parallel()
	const n = 200
	var rs []dialog.Reminder
	for i := range n {
		rs = append(rs, reminder(i, t0.Add(-time.Duration(i)*time.Millisecond)))
	}
	q := newQueue(rs...)
	s := &sender{}
	clk := &clock{now: t0}
	for range 2 {
		startWorker(t, Config{Queue: q, Clients: &clients{}, Sender: s, Now: clk.Now})
	}
	waitFor(t, "every reminder is done", func() bool { return q.len() == 0 })
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[messenger.ChatKey]int{}
	for _, r := range s.sent {
		seen[r.Chat]++
	}
	if len(seen) != n || len(s.sent) != n {
		t.Fatalf("%d sends to %d chats; want %d once each", len(s.sent), len(seen), n)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	for attempts, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 6: 30 * time.Minute, 9: 30 * time.Minute} {
		if got := retryDelay(errors.New("x"), attempts); got != want {
			t.Errorf("retryDelay(attempt %d) = %s; want %s", attempts, got, want)
		}
	}
}
