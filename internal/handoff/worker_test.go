package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/handoff/handofftest"
	"github.com/chathub/chathub/internal/messenger"
)

// fakeSender answers each send with fn (nil: sent, id "m<n>") and keeps
// what it sent.
type fakeSender struct {
	fn func(ctx context.Context, msg messenger.OutMessage, n int) (messenger.Sent, error)

	mu    sync.Mutex
	calls int
	sent  []messenger.OutMessage
}

func (f *fakeSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	s := messenger.Sent{MessageID: fmt.Sprintf("m%d", n)}
	var err error
	if f.fn != nil {
		s, err = f.fn(ctx, msg, n)
	}
	if err == nil {
		f.mu.Lock()
		f.sent = append(f.sent, msg)
		f.mu.Unlock()
	}
	return s, err
}

func (f *fakeSender) delivered() []messenger.OutMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]messenger.OutMessage(nil), f.sent...)
}

// fakeReturner records the returns.
type fakeReturner struct {
	mu      sync.Mutex
	err     error
	returns []returned
}

type returned struct {
	req  handoff.Request
	note string
}

func (f *fakeReturner) ReturnToBot(ctx context.Context, r handoff.Request, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.returns = append(f.returns, returned{r, note})
	return nil
}

func (f *fakeReturner) ReleaseChat(context.Context, handoff.Request) error { return nil }

func (f *fakeReturner) got() []returned {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]returned(nil), f.returns...)
}

type tickCounter struct{ n atomic.Int32 }

func (t *tickCounter) Tick(context.Context) error { t.n.Add(1); return nil }

// startWorker runs a Worker over st with sender and returner, stopped at
// the test's end (unless the test stopped it).
func startWorker(t *testing.T, st handoff.Store, svc *handoff.Service, s messenger.Sender, r handoff.Returner, cfg handoff.WorkerConfig) *handoff.Worker {
	t.Helper()
	cfg.Store, cfg.Sender, cfg.Returner, cfg.Service = st, s, r, svc
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	w, err := handoff.NewWorker(cfg)
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
			t.Errorf("stop: %v", err)
		}
	})
	return w
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWorkerSettlesReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fn         func(ctx context.Context, msg messenger.OutMessage, n int) (messenger.Sent, error)
		wantStatus string
		wantErr    string
		wantID     string
	}{
		{"sent", nil, crm.MessageSent, "", "m1"},
		{"blocked", func(context.Context, messenger.OutMessage, int) (messenger.Sent, error) {
			return messenger.Sent{}, fmt.Errorf("telegram: sendMessage: 403 Forbidden: %w", messenger.ErrBlocked)
		}, crm.MessageFailed, handoff.FailBlocked, ""},
		{"too long", func(context.Context, messenger.OutMessage, int) (messenger.Sent, error) {
			return messenger.Sent{}, fmt.Errorf("vk: messages.send (code 914): %w", messenger.ErrTooLong)
		}, crm.MessageFailed, handoff.FailTooLong, ""},
		{"platform words are not read", func(context.Context, messenger.OutMessage, int) (messenger.Sent, error) {
			return messenger.Sent{}, fmt.Errorf("telegram: sendMessage: 400 Bad Request: message is too long: %w", messenger.ErrBadRequest)
		}, crm.MessageFailed, handoff.FailRefused, ""},
		{"refused", func(context.Context, messenger.OutMessage, int) (messenger.Sent, error) {
			return messenger.Sent{}, fmt.Errorf("telegram: sendMessage: 400 Bad Request: chat not found: %w", messenger.ErrBadRequest)
		}, crm.MessageFailed, handoff.FailRefused, ""},
		{"rate limited once", func(_ context.Context, _ messenger.OutMessage, n int) (messenger.Sent, error) {
			if n == 1 {
				return messenger.Sent{}, &messenger.RateLimitError{RetryAfter: 10 * time.Millisecond}
			}
			return messenger.Sent{MessageID: "42"}, nil
		}, crm.MessageSent, "", "42"},
		{"rate limited for ever", func(context.Context, messenger.OutMessage, int) (messenger.Sent, error) {
			return messenger.Sent{}, &messenger.RateLimitError{RetryAfter: time.Millisecond}
		}, crm.MessageFailed, handoff.FailGaveUp, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, messenger.Telegram, "7", time.Now())
			svc := newService(t, f.store, handoff.Config{})
			startWorker(t, f.store, svc, &fakeSender{fn: tt.fn}, &fakeReturner{}, handoff.WorkerConfig{})
			m, err := svc.Reply(context.Background(), f.req, "anna", "Добрый день", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != tt.wantStatus || m.Error != tt.wantErr || m.PlatformMsgID != tt.wantID {
				t.Fatalf("reply: status %q error %q id %q; want %q %q %q", m.Status, m.Error, m.PlatformMsgID, tt.wantStatus, tt.wantErr, tt.wantID)
			}
			r, _ := svc.Get(context.Background(), f.req)
			if answered := r.FirstReplyAt != nil; answered != (tt.wantStatus == crm.MessageSent) {
				t.Fatalf("first reply stamped %v for a %s reply", answered, tt.wantStatus)
			}
		})
	}
}

func TestWorkerOneFailingChatHoldsUpNoOther(t *testing.T) {
	t.Parallel()
	now := time.Now()
	st := handofftest.New()
	var reqs []int64
	for _, id := range []string{"slow", "ok"} {
		c := st.AddClient(handofftest.Client{Chat: messenger.ChatKey{Platform: messenger.VK, ID: id}})
		r, _ := st.AddRequest(crm.Handoff{ClientID: c, CreatedAt: now})
		reqs = append(reqs, r)
	}
	release := make(chan struct{})
	sender := &fakeSender{fn: func(ctx context.Context, msg messenger.OutMessage, n int) (messenger.Sent, error) {
		if msg.Chat.ID == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return messenger.Sent{}, ctx.Err()
			}
		}
		return messenger.Sent{MessageID: msg.Chat.ID}, nil
	}}
	svc := newService(t, st, handoff.Config{})
	startWorker(t, st, svc, sender, &fakeReturner{}, handoff.WorkerConfig{})
	ctx := context.Background()
	if _, err := svc.Reply(ctx, reqs[0], "anna", "первый", 0); err != nil {
		t.Fatal(err)
	}
	m, err := svc.Reply(ctx, reqs[1], "anna", "второй", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != crm.MessageSent {
		t.Fatalf("the other chat's reply is %s while the first chat hangs", m.Status)
	}
	close(release)
	eventually(t, "the slow chat's reply", func() bool { return len(sender.delivered()) == 2 })
}

func TestWorkerKeepsAChatsRepliesInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.Telegram, "7", time.Now())
	svc := newService(t, f.store, handoff.Config{})
	sender := &fakeSender{fn: func(_ context.Context, msg messenger.OutMessage, n int) (messenger.Sent, error) {
		if n == 1 {
			return messenger.Sent{}, fmt.Errorf("boom: %w", messenger.ErrTransient)
		}
		return messenger.Sent{MessageID: fmt.Sprint(n)}, nil
	}}
	texts := []string{"раз", "два", "три"}
	for _, text := range texts {
		if _, err := svc.Reply(context.Background(), f.req, "anna", text, 0); err != nil {
			t.Fatal(err)
		}
	}
	startWorker(t, f.store, svc, sender, &fakeReturner{}, handoff.WorkerConfig{})
	eventually(t, "three replies", func() bool { return len(sender.delivered()) == 3 })
	for i, m := range sender.delivered() {
		if m.Text != texts[i] {
			t.Fatalf("reply %d is %q, want %q", i, m.Text, texts[i])
		}
	}
}

func TestWorkerReturnsChats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		prepare  func(t *testing.T, f fixture, svc *handoff.Service)
		wantNote string
		wantScen string
	}{
		{"idle", func(t *testing.T, f fixture, _ *handoff.Service) {
			f.store.SetLastActivity(f.req, time.Now().Add(-25*time.Hour))
		}, "Диалог вернулся к боту: 24 ч без сообщений", ""},
		{"by a manager", func(t *testing.T, f fixture, svc *handoff.Service) {
			if err := svc.Return(context.Background(), f.req, "anna", "b2b"); err != nil {
				t.Fatal(err)
			}
		}, "Диалог вернулся к боту (anna)", "b2b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, messenger.Telegram, "7", time.Now().Add(-25*time.Hour))
			svc := newService(t, f.store, handoff.Config{Idle: 24 * time.Hour})
			tt.prepare(t, f, svc)
			ret := &fakeReturner{}
			startWorker(t, f.store, svc, &fakeSender{}, ret, handoff.WorkerConfig{})
			eventually(t, "the return", func() bool {
				r, _ := svc.Get(context.Background(), f.req)
				return r.Status == handoff.StatusClosed
			})
			got := ret.got()
			if len(got) != 1 || got[0].note != tt.wantNote || got[0].req.ReturnScenario != tt.wantScen || got[0].req.Chat.ID != "7" {
				t.Fatalf("returns: %+v", got)
			}
		})
	}
}

func TestWorkerStopDrains(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.Telegram, "7", time.Now())
	svc := newService(t, f.store, handoff.Config{})
	started := make(chan struct{}, 1)
	sender := &fakeSender{fn: func(ctx context.Context, _ messenger.OutMessage, n int) (messenger.Sent, error) {
		started <- struct{}{}
		time.Sleep(100 * time.Millisecond)
		return messenger.Sent{MessageID: "1"}, nil
	}}
	w := startWorker(t, f.store, svc, sender, &fakeReturner{}, handoff.WorkerConfig{Poll: 10 * time.Millisecond})
	m, err := svc.Reply(context.Background(), f.req, "anna", "ответ", 0)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetMessage(context.Background(), m.ID)
	if got.Status != crm.MessageSent {
		t.Fatalf("after Stop the reply in hand is %s, want sent", got.Status)
	}
}

func TestWorkerStopDeadlineLeavesTheReplyQueued(t *testing.T) {
	t.Parallel()
	f := newFixture(t, messenger.Telegram, "7", time.Now())
	svc := newService(t, f.store, handoff.Config{})
	started := make(chan struct{}, 1)
	sender := &fakeSender{fn: func(ctx context.Context, _ messenger.OutMessage, n int) (messenger.Sent, error) {
		started <- struct{}{}
		<-ctx.Done()
		return messenger.Sent{}, ctx.Err()
	}}
	w := startWorker(t, f.store, svc, sender, &fakeReturner{}, handoff.WorkerConfig{Lease: time.Minute})
	m, _ := svc.Reply(context.Background(), f.req, "anna", "ответ", 0)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop past its deadline: %v", err)
	}
	got, _ := f.store.GetMessage(context.Background(), m.ID)
	if got.Status != crm.MessageQueued {
		t.Fatalf("a reply cut by Stop is %s, want queued for another process", got.Status)
	}
}

func TestWorkerPurgesOldMessagesAndTicksTheTeamChat(t *testing.T) {
	t.Parallel()
	now := time.Now()
	f := newFixture(t, messenger.Telegram, "7", now)
	old := f.store.AddInbound(f.client, "старое", now.Add(-400*24*time.Hour))
	fresh := f.store.AddInbound(f.client, "новое", now.Add(-time.Hour))
	svc := newService(t, f.store, handoff.Config{})
	tc := &tickCounter{}
	startWorker(t, f.store, svc, &fakeSender{}, &fakeReturner{}, handoff.WorkerConfig{TeamChat: tc})
	eventually(t, "the purge", func() bool { return len(f.store.Messages(f.client)) == 1 })
	if ms := f.store.Messages(f.client); ms[0].ID != fresh || ms[0].ID == old {
		t.Fatalf("kept %+v", ms)
	}
	eventually(t, "team chat ticks", func() bool { return tc.n.Load() >= 2 })
}

func TestNewWorkerNeedsItsParts(t *testing.T) {
	t.Parallel()
	st := handofftest.New()
	for name, cfg := range map[string]handoff.WorkerConfig{
		"no store":    {Sender: &fakeSender{}, Returner: &fakeReturner{}},
		"no sender":   {Store: st, Returner: &fakeReturner{}},
		"no returner": {Store: st, Sender: &fakeSender{}},
	} {
		if _, err := handoff.NewWorker(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFormatIdle(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24 ч", 90 * time.Minute: "1 ч 30 мин", 45 * time.Minute: "45 мин", 30 * time.Second: "30 с",
	} {
		if got := handoff.FormatIdle(d); got != want {
			t.Errorf("FormatIdle(%s) = %q, want %q", d, got, want)
		}
	}
}
