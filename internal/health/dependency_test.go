package health

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
)

// fakeService is a probe target a test takes down and brings back.
type fakeService struct {
	down   atomic.Bool
	probes atomic.Int64
}

func (f *fakeService) ping(context.Context) error {
	f.probes.Add(1)
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newDep(t *testing.T, svc *fakeService, logs *syncBuffer) *Dependency {
	t.Helper()
	d, err := New(Config{Name: "PostgreSQL", Probe: svc.ping, ProbeInterval: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ping := func(context.Context) error { return nil }
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"valid", Config{Name: "Redis", Probe: ping}, ""},
		{"no name", Config{Probe: ping}, "Name is required"},
		{"no probe", Config{Name: "Redis"}, "Probe is required"},
		{"neither", Config{}, "Name is required\nhealth: Config.Probe is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestOutageLoggedOnceAndLeftAtOnce: many callers see failures during an
// outage; the outage is logged once each way, waiters wake at the recovery.
func TestOutageLoggedOnceAndLeftAtOnce(t *testing.T) {
	t.Parallel()
	svc, logs := &fakeService{}, &syncBuffer{}
	d := newDep(t, svc, logs)
	ctx := context.Background()
	if err := d.Check(ctx); err != nil || d.Down() || d.Outage() != nil {
		t.Fatalf("healthy service: Check = %v, Down = %v", err, d.Down())
	}

	svc.down.Store(true)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = d.Check(ctx)
		}()
	}
	wg.Wait()
	if !d.Down() {
		t.Fatal("not down after failed probes")
	}
	if err := d.Check(ctx); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Check while down = %v, want ErrUnreachable", err)
	}
	recovered := d.Outage()
	if recovered == nil {
		t.Fatal("no outage channel while down")
	}
	select {
	case <-recovered:
		t.Fatal("recovered while still down")
	case <-time.After(50 * time.Millisecond):
	}

	svc.down.Store(false)
	select {
	case <-recovered:
	case <-time.After(10 * time.Second):
		t.Fatal("recovery not noticed")
	}
	if d.Down() || d.Outage() != nil {
		t.Fatal("still down after the recovery")
	}
	out := logs.String()
	if n := strings.Count(out, "PostgreSQL unreachable"); n != 1 {
		t.Errorf("%d unreachable lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "PostgreSQL recovered"); n != 1 || !strings.Contains(out, "after=") {
		t.Errorf("%d recovered lines (with after=), want 1:\n%s", n, out)
	}

	// A second outage is noticed and logged again.
	svc.down.Store(true)
	if d.Check(ctx) == nil {
		t.Fatal("second outage not noticed")
	}
	if n := strings.Count(logs.String(), "PostgreSQL unreachable"); n != 2 {
		t.Errorf("%d unreachable lines after two outages", n)
	}
}

// TestChecksShareOneProbe: concurrent checks of a slow service share one
// probe.
func TestChecksShareOneProbe(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var probes atomic.Int64
	d, err := New(Config{Name: "Redis", Probe: func(context.Context) error {
		probes.Add(1)
		<-release
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Check(context.Background()) }()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := probes.Load(); n > 2 {
		t.Fatalf("%d probes for 20 concurrent checks", n)
	}
}

func TestSetOutage(t *testing.T) {
	t.Parallel()
	pg, rd := &fakeService{}, &fakeService{}
	logs := &syncBuffer{}
	set := Set{newDep(t, pg, logs), newDep(t, rd, logs)}
	ctx := context.Background()
	if set.Outage(ctx) != nil || set.Down() {
		t.Fatal("outage with every service up")
	}
	rd.down.Store(true)
	ch := set.Outage(ctx)
	if ch == nil || !set.Down() {
		t.Fatal("no outage with one service down")
	}
	rd.down.Store(false)
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("recovery not noticed")
	}
	if set.Outage(ctx) != nil {
		t.Fatal("outage after the recovery")
	}
	if (Set)(nil).Outage(ctx) != nil {
		t.Fatal("empty set has an outage")
	}
}
