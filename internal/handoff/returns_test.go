package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// returnScript is how a failingReturner fails: its first returns with the
// errors of fails (one a try, nil: success) and every later one with rest
// (nil: success); its releases with releaseFails first.
type returnScript struct {
	fails        []error
	rest         error
	releaseFails []error
}

// failingReturner is a Returner that fails as its script says.
type failingReturner struct {
	returnScript

	mu       sync.Mutex
	returns  int
	releases int
	notes    []string
}

func (f *failingReturner) ReturnToBot(_ context.Context, _ handoff.Request, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.returns++
	err := f.rest
	if f.returns <= len(f.fails) {
		err = f.fails[f.returns-1]
	}
	if err == nil {
		f.notes = append(f.notes, note)
	}
	return err
}

func (f *failingReturner) ReleaseChat(context.Context, handoff.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases++
	if f.releases <= len(f.releaseFails) {
		return f.releaseFails[f.releases-1]
	}
	return nil
}

func (f *failingReturner) counts() (returns, releases int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.returns, f.releases
}

// TestWorkerBoundsFailingReturns: a return that fails on something that
// may pass is tried again (the tries counted in the store) until it works
// or MaxReturnAttempts tries failed; one that will fail again is given up
// at once. A given-up request is closed as return_failed with the reason
// and a note in the transcript, after its chat's hand-off mark is cleared.
func TestWorkerBoundsFailingReturns(t *testing.T) {
	t.Parallel()
	transient := fmt.Errorf("telegram: sendMessage: 502: %w", messenger.ErrTransient)
	noBot := fmt.Errorf("return request 1: no telegram bot shop runs in this process: %w", handoff.ErrNoBot)
	tests := []struct {
		name         string
		script       returnScript
		wantReturns  int
		wantReleases int
		wantReason   string // close reason
		wantWhy      string // ReturnError
		wantAttempts int
	}{
		{"transient, then returned", returnScript{fails: []error{transient, transient, &messenger.RateLimitError{RetryAfter: time.Millisecond}}},
			4, 0, handoff.CloseManager, handoff.FailGaveUp, 3},
		{"blocked: given up at once", returnScript{rest: fmt.Errorf("send: %w", messenger.ErrBlocked)},
			1, 1, handoff.CloseReturnFailed, handoff.FailBlocked, 1},
		{"refused for good: given up at once", returnScript{rest: fmt.Errorf("record: %w", messenger.ErrPermanent)},
			1, 1, handoff.CloseReturnFailed, handoff.FailRefused, 1},
		{"always transient: given up at the bound", returnScript{rest: transient},
			handoff.MaxReturnAttempts, 1, handoff.CloseReturnFailed, handoff.FailGaveUp, handoff.MaxReturnAttempts},
		{"the bot runs nowhere: given up at the bound", returnScript{rest: noBot},
			handoff.MaxReturnAttempts, 1, handoff.CloseReturnFailed, handoff.ReturnNoBot, handoff.MaxReturnAttempts},
		{"the mark cannot be cleared at first", returnScript{rest: noBot, releaseFails: []error{errors.New("redis down")}},
			handoff.MaxReturnAttempts + 1, 2, handoff.CloseReturnFailed, handoff.ReturnNoBot, handoff.MaxReturnAttempts + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f, svc := returningFixture(t)
			ret := &failingReturner{returnScript: tt.script}
			startWorker(t, f.store, svc, &fakeSender{}, ret, handoff.WorkerConfig{ReturnBackoff: time.Millisecond})
			eventually(t, "the request closed", func() bool {
				r, _ := svc.Get(ctx, f.req)
				return r.Status == handoff.StatusClosed
			})
			time.Sleep(50 * time.Millisecond) // a closed request is tried no more
			r, _ := svc.Get(ctx, f.req)
			returns, releases := ret.counts()
			if returns != tt.wantReturns || releases != tt.wantReleases {
				t.Fatalf("%d returns and %d releases, want %d and %d", returns, releases, tt.wantReturns, tt.wantReleases)
			}
			if r.CloseReason != tt.wantReason || r.ReturnError != tt.wantWhy || r.ReturnAttempts != tt.wantAttempts-btoi(tt.wantReason == handoff.CloseReturnFailed) {
				t.Fatalf("closed %q (%q) after %d failed tries; want %q (%q) after %d", r.CloseReason, r.ReturnError, r.ReturnAttempts,
					tt.wantReason, tt.wantWhy, tt.wantAttempts)
			}
			var notes []string
			for _, m := range f.store.Messages(f.client) {
				if m.AuthorKind == crm.AuthorSystem {
					notes = append(notes, m.Text)
				}
			}
			if tt.wantReason != handoff.CloseReturnFailed {
				if len(notes) != 0 || len(ret.notes) != 1 || ret.notes[0] != "Диалог вернулся к боту (anna)" {
					t.Fatalf("notes %q, the bot's %q", notes, ret.notes)
				}
				return
			}
			if len(notes) != 1 || notes[0] != handoff.ReturnFailedNote(tt.wantWhy) || !strings.HasPrefix(notes[0], "Не удалось вернуть диалог боту: ") {
				t.Fatalf("transcript notes %q", notes)
			}
		})
	}
}

// returningFixture is a fixture whose request manager anna gave back to
// the bot, with its Service.
func returningFixture(t *testing.T) (fixture, *handoff.Service) {
	t.Helper()
	f := newFixture(t, messenger.Telegram, "7", time.Now())
	svc := newService(t, f.store, handoff.Config{})
	if err := svc.Return(context.Background(), f.req, "anna", ""); err != nil {
		t.Fatal(err)
	}
	return f, svc
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestWorkerReturnCutByStopIsNotCounted: a return that Stop's deadline cut
// short is left to its claim's lease, its tries not counted.
func TestWorkerReturnCutByStopIsNotCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, svc := returningFixture(t)
	started := make(chan struct{})
	ret := &blockingReturner{started: started}
	w := startWorker(t, f.store, svc, &fakeSender{}, ret, handoff.WorkerConfig{})
	<-started
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.Stop(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop past its deadline: %v", err)
	}
	r, _ := svc.Get(ctx, f.req)
	if r.Status != handoff.StatusReturning || r.ReturnAttempts != 0 {
		t.Fatalf("a return cut by Stop left the request %s after %d counted tries", r.Status, r.ReturnAttempts)
	}
}

// blockingReturner's returns wait for their context.
type blockingReturner struct{ started chan struct{} }

func (b *blockingReturner) ReturnToBot(ctx context.Context, _ handoff.Request, _ string) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

func (b *blockingReturner) ReleaseChat(context.Context, handoff.Request) error { return nil }

func TestReturnFailedNote(t *testing.T) {
	t.Parallel()
	for why, want := range map[string]string{
		handoff.FailBlocked: "клиент заблокировал бота",
		handoff.ReturnNoBot: "бот этого клиента не запущен",
		handoff.FailGaveUp:  fmt.Sprintf("сбой не прошёл за %d попыток", handoff.MaxReturnAttempts),
	} {
		if got := handoff.ReturnFailedNote(why); !strings.Contains(got, want) || !strings.Contains(got, "ответит бот") {
			t.Errorf("ReturnFailedNote(%s) = %q", why, got)
		}
	}
}
