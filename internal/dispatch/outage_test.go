package dispatch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// fakeOutages is a backing service a test takes down and brings back.
type fakeOutages struct {
	mu        sync.Mutex
	recovered chan struct{} // nil while up
}

func (f *fakeOutages) Outage(context.Context) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recovered == nil {
		return nil
	}
	return f.recovered
}

func (f *fakeOutages) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recovered = make(chan struct{})
}

func (f *fakeOutages) up() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.recovered)
	f.recovered = nil
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRetryDuringOutage: while a backing service is down, a failing update
// is retried without a warning per attempt, the wait ends when the service
// answers again (not at the end of a long backoff), and an update that runs
// out of attempts fails with an OutageError carrying the recovery channel;
// a failure with every service up is warned about and carries none.
func TestRetryDuringOutage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		outage      bool
		maxAttempts int
		wantOutage  bool
		wantWarn    bool
	}{
		{"outage, recovered before the last attempt", true, 5, false, false},
		{"outage, out of attempts", true, 1, true, false},
		{"own failure", false, 2, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeOutages{}
			var broken atomic.Bool
			broken.Store(true)
			logs := &lockedBuffer{}
			h := HandlerFunc(func(context.Context, *messenger.Update) error {
				if broken.Load() {
					return errors.New("connection refused")
				}
				return nil
			})
			// During an outage only the recovery can end an hour's backoff.
			backoff := time.Hour
			if tt.outage {
				svc.down()
			} else {
				backoff = time.Millisecond
			}
			d := start(t, Config{Handler: h, Outages: svc, MaxAttempts: tt.maxAttempts,
				RetryBackoff: backoff, MaxBackoff: backoff,
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			result := make(chan error, 1)
			go func() { result <- d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")}) }()
			if tt.outage && !tt.wantOutage {
				eventually(t, func() bool { return d.Stats().Retries() >= 1 })
				broken.Store(false)
				svc.up()
			}
			var err error
			select {
			case err = <-result:
			case <-time.After(10 * time.Second):
				t.Fatal("Deliver still waiting: the recovery did not end the backoff")
			}
			switch {
			case tt.wantOutage:
				rec := messenger.Recovery(err)
				if rec == nil {
					t.Fatalf("Deliver = %v, want an OutageError", err)
				}
				svc.up()
				select {
				case <-rec:
				case <-time.After(5 * time.Second):
					t.Fatal("the OutageError's channel did not close at the recovery")
				}
			case tt.outage:
				if err != nil {
					t.Fatalf("Deliver after the recovery = %v", err)
				}
			default:
				if err == nil || messenger.Recovery(err) != nil {
					t.Fatalf("Deliver = %v, want the update's own error", err)
				}
			}
			warned := strings.Contains(logs.String(), "level=WARN")
			if warned != tt.wantWarn {
				t.Fatalf("warning logged: %v, want %v:\n%s", warned, tt.wantWarn, logs.String())
			}
		})
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestOutageEndingBetweenAttempts: an update whose attempt failed during an
// outage and whose last attempt failed just after the recovery still fails
// as an outage, with the recovery channel already closed, so the adapter
// delivers it again at once instead of after its (possibly long) backoff.
func TestOutageEndingBetweenAttempts(t *testing.T) {
	t.Parallel()
	svc := &fakeOutages{}
	svc.down()
	var calls atomic.Int64
	h := HandlerFunc(func(context.Context, *messenger.Update) error {
		if calls.Add(1) == 1 {
			return errors.New("connection refused")
		}
		return errors.New("connection reset") // the service answered the probe since
	})
	recoverOnRetry := &recoveringOutages{fakeOutages: svc}
	d := start(t, Config{Handler: h, Outages: recoverOnRetry, MaxAttempts: 2, RetryBackoff: time.Millisecond})
	err := d.Deliver(context.Background(), []*messenger.Update{upd("1", "u1")})
	rec := messenger.Recovery(err)
	if rec == nil {
		t.Fatalf("Deliver = %v, want an OutageError", err)
	}
	select {
	case <-rec:
	default:
		t.Fatal("the recovery channel is open though the service is back")
	}
}

// recoveringOutages reports the outage once, then the service is back.
type recoveringOutages struct {
	*fakeOutages
	asked atomic.Int64
}

func (r *recoveringOutages) Outage(ctx context.Context) <-chan struct{} {
	ch := r.fakeOutages.Outage(ctx)
	if r.asked.Add(1) == 1 {
		r.up()
	}
	return ch
}
