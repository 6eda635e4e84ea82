package pollloop

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoopRunsAtStartOnWakeAndStopsOnHalt(t *testing.T) {
	t.Parallel()
	rounds := make(chan struct{}, 16)
	l := New(time.Hour, func(context.Context) { rounds <- struct{}{} })
	if l.Halt(context.Background()) {
		t.Fatal("Halt before Start reported work to drain")
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	waitRound(t, rounds, "the first round at Start")
	l.Wake()
	waitRound(t, rounds, "a round on Wake")
	if !l.Running() {
		t.Fatal("Running is false before Halt")
	}
	if !l.Halt(context.Background()) {
		t.Fatal("Halt after Start reported nothing to drain")
	}
	if l.Running() {
		t.Fatal("Running is true after Halt")
	}
	if l.Halt(context.Background()) {
		t.Fatal("a second Halt reported work to drain")
	}
	l.Wake() // no round after Halt, and no block
	select {
	case <-rounds:
		t.Fatal("a round ran after Halt")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestLoopTicks(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	l := New(time.Millisecond, func(context.Context) { n.Add(1) })
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	l.Halt(context.Background())
	if n.Load() < 3 {
		t.Fatalf("%d rounds in 10 s at a 1-ms period", n.Load())
	}
}

func TestHaltCancelsARoundPastItsDeadline(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	l := New(time.Hour, func(ctx context.Context) {
		close(started)
		<-ctx.Done() // a round that only ends when cancelled
	})
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if !l.Halt(ctx) {
		t.Fatal("Halt reported nothing to drain")
	}
}

func TestDrain(t *testing.T) {
	t.Parallel()
	t.Run("work ends in time", func(t *testing.T) {
		t.Parallel()
		l := New(time.Hour, func(context.Context) {})
		if err := l.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.Halt(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); time.Sleep(5 * time.Millisecond) }()
		if err := l.Drain(context.Background(), wg.Wait); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if l.Work().Err() == nil {
			t.Fatal("Work is not cancelled after Drain")
		}
	})
	t.Run("deadline cancels the work", func(t *testing.T) {
		t.Parallel()
		l := New(time.Hour, func(context.Context) {})
		if err := l.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.Halt(context.Background())
		work := l.Work()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := l.Drain(ctx, func() { <-work.Done() }) // work that ends only when cancelled
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Drain: %v, want the deadline", err)
		}
	})
	t.Run("work outlives Start's context", func(t *testing.T) {
		t.Parallel()
		l := New(time.Hour, func(context.Context) {})
		ctx, cancel := context.WithCancel(context.Background())
		if err := l.Start(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if l.Work().Err() != nil {
			t.Fatal("Work ended with Start's context")
		}
		l.Halt(context.Background())
		_ = l.Drain(context.Background(), func() {})
	})
}

func waitRound(t *testing.T, rounds <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-rounds:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
}
