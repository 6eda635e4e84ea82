package broadcast_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// fakeAllower grants from opensAt on; it records when each try came.
type fakeAllower struct {
	mu      sync.Mutex
	opensAt time.Time
	err     error
	tries   []time.Time
	paused  time.Duration
}

func (f *fakeAllower) Allow(_ context.Context, n int) (bool, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.tries = append(f.tries, now)
	if f.err != nil {
		return false, 0, f.err
	}
	if now.Before(f.opensAt) {
		return false, f.opensAt.Sub(now), nil
	}
	return true, 0, nil
}

func (f *fakeAllower) Pause(_ context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = d
	return f.err
}

func TestEagerLimiter(t *testing.T) {
	t.Parallel()
	down := errors.New("redis: connection refused")
	tests := []struct {
		name      string
		wait      time.Duration // until the slot opens
		err       error
		ctxAfter  time.Duration // 0: no deadline
		wantErr   error
		wantTries int // at least
	}{
		{"granted at once", 0, nil, 0, nil, 1},
		{"tries early, then until granted", 30 * time.Millisecond, nil, 0, nil, 2},
		{"budget error returned at once", 0, down, 0, down, 1},
		{"context ends first", time.Hour, nil, 20 * time.Millisecond, context.DeadlineExceeded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeAllower{opensAt: time.Now().Add(tt.wait), err: tt.err}
			ctx := context.Background()
			if tt.ctxAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxAfter)
				defer cancel()
			}
			err := broadcast.NewEagerLimiter(f, 5*time.Millisecond).Wait(ctx, 1)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Wait = %v, want %v", err, tt.wantErr)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.tries) < tt.wantTries {
				t.Fatalf("%d tries, want at least %d", len(f.tries), tt.wantTries)
			}
			if tt.wantErr == nil && tt.wait > 0 {
				// Granted at the slot, not before; after the first refusal it
				// slept until the lead before the slot (no busy polling).
				if last := f.tries[len(f.tries)-1]; last.Before(f.opensAt) {
					t.Fatalf("granted at %v, before the slot at %v", last, f.opensAt)
				}
				if second := f.tries[1]; f.opensAt.Sub(second) > 6*time.Millisecond {
					t.Fatalf("second try %s before the slot, want within the 5ms lead", f.opensAt.Sub(second))
				}
			}
		})
	}
}

func TestEagerLimiterPause(t *testing.T) {
	t.Parallel()
	f := &fakeAllower{}
	if err := broadcast.NewEagerLimiter(f, 0).Pause(context.Background(), 3*time.Second); err != nil || f.paused != 3*time.Second {
		t.Fatalf("Pause: %v, budget paused for %s", err, f.paused)
	}
}

// TestEagerLimiterSlowStart: on a budget that grants whenever asked, the
// grants of the first 2 s are spaced at least the interval + 2% apart,
// later ones are not, and an idle second starts the slow start again.
func TestEagerLimiterSlowStart(t *testing.T) {
	t.Parallel()
	const interval = 20 * time.Millisecond
	l := broadcast.NewEagerLimiter(&fakeAllower{}, 0).SlowStart(interval)
	ctx := context.Background()
	grants := func(n int) []time.Time {
		out := make([]time.Time, n)
		for i := range out {
			if err := l.Wait(ctx, 1); err != nil {
				t.Fatal(err)
			}
			out[i] = time.Now()
		}
		return out
	}
	// spaced checks the grants of at's first 1.9 s (the slow start lasts 2)
	// against the first: grant i comes at least i spacings after it. The
	// limiter keeps a schedule, so a grant that a busy machine returned
	// late is followed by one sooner; only the first grant's own lateness
	// (slack) can shorten the distance.
	spaced := func(what string, at []time.Time) {
		t.Helper()
		const slack = 5 * time.Millisecond
		for i := 1; i < len(at) && at[i].Sub(at[0]) < 1900*time.Millisecond; i++ {
			want := time.Duration(i)*interval*102/100 - slack
			if d := at[i].Sub(at[0]); d < want {
				t.Fatalf("%s: grant %d came %s after the first, want ≥ %s", what, i, d, want)
			}
		}
	}
	// 100 spaced grants take just over the 2 s of the slow start.
	spaced("start", grants(100))
	// Past it: 50 grants at once (a generous bound for a loaded machine).
	if at := grants(50); at[len(at)-1].Sub(at[0]) > 25*interval {
		t.Fatalf("after the slow start 50 grants took %s, want no spacing", at[len(at)-1].Sub(at[0]))
	}
	time.Sleep(1100 * time.Millisecond)
	spaced("after an idle second", grants(10))
}
