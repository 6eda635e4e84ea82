// Package pollloop runs the polling side of a background worker: a round
// at Start, then one on every tick of a period and on every Wake, until
// Stop; and the context the worker's own work runs in, which outlives
// Start's context so that Stop can drain it.
//
// A worker (internal/handoff, internal/remind) embeds a Loop, gives it the
// round to run and builds its Stop from Halt (no new rounds) and Drain
// (wait for the work in hand until a deadline, then cancel it).
package pollloop

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStarted is returned by Start on a Loop already started.
var ErrStarted = errors.New("pollloop: started twice")

// Loop runs round at Start and then every Poll and on Wake until Halt.
// The zero value is not usable; build one with New.
type Loop struct {
	poll  time.Duration
	round func(ctx context.Context)

	wake chan struct{}
	quit chan struct{} // closed by Halt: no new rounds, no retry waits
	done chan struct{} // closed when the loop goroutine ends

	work       context.Context // the work's context: see Work
	cancelWork context.CancelFunc
	cancelLoop context.CancelFunc

	mu      sync.Mutex
	started bool
	halted  bool
}

// New returns a Loop that runs round every poll (which must be positive)
// and on Wake, once started.
func New(poll time.Duration, round func(ctx context.Context)) *Loop {
	return &Loop{
		poll: poll, round: round,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		work: context.Background(),
	}
}

// Start runs the first round now and the next ones every poll and on
// Wake, until Halt or the end of ctx. The work context (Work) starts here:
// it keeps ctx's values but not its cancellation.
func (l *Loop) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return ErrStarted
	}
	l.started = true
	l.work, l.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	loopCtx, cancel := context.WithCancel(ctx)
	l.cancelLoop = cancel
	go l.run(loopCtx)
	return nil
}

func (l *Loop) run(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.poll)
	defer t.Stop()
	for {
		l.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-l.quit:
			return
		case <-l.wake:
		case <-t.C:
		}
	}
}

// Wake makes the loop run a round now (or right after the round in
// progress); wakes that come together run one round.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Work is the context the worker's work runs in: started by Start, it
// outlives Start's ctx and ends when Drain's deadline passes. Before
// Start it is context.Background().
func (l *Loop) Work() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.work
}

// Quit is closed by Halt: the worker takes no new work and stops waiting
// to retry.
func (l *Loop) Quit() <-chan struct{} { return l.quit }

// Running reports whether Halt was not called yet.
func (l *Loop) Running() bool {
	select {
	case <-l.quit:
		return false
	default:
		return true
	}
}

// Halt stops the rounds: it closes Quit and waits for the round in
// progress, cancelling its context if ctx ends first. It reports false
// when the Loop was never started or was halted before, so the caller's
// Stop has nothing to drain.
func (l *Loop) Halt(ctx context.Context) bool {
	l.mu.Lock()
	if !l.started || l.halted {
		l.mu.Unlock()
		return false
	}
	l.halted = true
	l.mu.Unlock()
	close(l.quit)
	defer l.cancelLoop()
	select {
	case <-l.done:
	case <-ctx.Done():
		l.cancelLoop()
		<-l.done
	}
	return true
}

// Drain waits for wait (the worker's work in hand) to return. If ctx ends
// first it cancels Work, waits for wait all the same and returns ctx's
// error; Work is cancelled on return in any case.
func (l *Loop) Drain(ctx context.Context, wait func()) error {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	defer l.cancelWork()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		l.cancelWork()
		<-done
		return ctx.Err()
	}
}
