package broadcast

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Allower is a shared budget that can be tried without waiting
// (internal/store/redis's Limiter implements it).
type Allower interface {
	// Allow tries once: ok when n units were granted, else retryAfter is
	// how long until they may be.
	Allow(ctx context.Context, n int) (ok bool, retryAfter time.Duration, err error)
	// Pause stops grants for every process for d.
	Pause(ctx context.Context, d time.Duration) error
}

// DefaultEagerLead is how early chathub run's Telegram budget tries.
const DefaultEagerLead = 2 * time.Millisecond

// minEagerRetry bounds how often an eager waiter tries.
const minEagerRetry = 200 * time.Microsecond

// EagerLimiter waits on an evenly spaced budget (burst 1) by trying lead
// before each slot opens and then every ~0.2ms until it is
// granted. A waiter that slept exactly until the slot would reach the
// budget late by its wake-up delay and two Redis round trips, and an evenly
// spaced budget loses that lateness every time (the next slot counts from
// the late grant): on a busy machine about 5% of a 30/s Telegram budget.
// Trying early keeps the grants on the budget's own schedule, so the
// achieved rate stays at the limit while the spacing, hence the
// per-second cap, is the budget's.
type EagerLimiter struct {
	budget Allower
	lead   time.Duration

	// Slow start (see SlowStart); spacing 0: off.
	spacing   time.Duration
	mu        sync.Mutex
	lastGrant time.Time
	slowUntil time.Time
	notBefore time.Time // no try before it while slow
}

// Slow start: after slowStartIdle without a grant, grants to this process
// are spaced 2% wider for slowStartSpan.
const (
	slowStartIdle   = time.Second
	slowStartSpan   = 2 * time.Second
	slowStartMargin = 0.02
)

// SlowStart spaces the grants of the first two seconds after an idle
// second at least interval (the budget's spacing: time.Second / 30 for
// Telegram) plus 2% apart, and returns l. The first sends of a campaign
// reach the platform later after their grants than the sends after them
// (new connections, cold caches), so 31 of them could arrive within one
// second of an evenly spaced budget; 2% is 20 ms of room per 30 sends, for
// 40 ms of a campaign's time. It spaces this process's grants only: with
// several processes sending on one budget it has no effect. Set it before
// the first Wait.
func (l *EagerLimiter) SlowStart(interval time.Duration) *EagerLimiter {
	l.spacing = time.Duration(float64(interval) * (1 + slowStartMargin))
	return l
}

// NewEagerLimiter wraps budget; lead is how early to try (DefaultEagerLead
// suits a nearby Redis; 0 tries when the slot opens).
func NewEagerLimiter(budget Allower, lead time.Duration) *EagerLimiter {
	return &EagerLimiter{budget: budget, lead: max(lead, 0)}
}

// Wait implements Limiter: it returns once n units are granted, at once on
// a budget error (nothing granted), or when ctx ends.
func (l *EagerLimiter) Wait(ctx context.Context, n int) error {
	for {
		if err := l.slowDown(ctx); err != nil {
			return fmt.Errorf("wait for %d units: %w", n, err)
		}
		ok, retry, err := l.budget.Allow(ctx, n)
		switch {
		case err != nil:
			return err
		case ok:
			l.granted(time.Now())
			return nil
		}
		t := time.NewTimer(max(retry-l.lead, minEagerRetry))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for %d units: %w", n, ctx.Err())
		}
	}
}

// slowDown waits until a try may go while the limiter starts slow.
func (l *EagerLimiter) slowDown(ctx context.Context) error {
	if l.spacing == 0 {
		return nil
	}
	l.mu.Lock()
	d := time.Until(l.notBefore)
	l.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// granted notes a grant at now: the first after an idle spell starts the
// slow start, and while it lasts the next try waits the spacing.
func (l *EagerLimiter) granted(now time.Time) {
	if l.spacing == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGrant) >= slowStartIdle {
		l.slowUntil = now.Add(slowStartSpan)
	}
	l.lastGrant = now
	if now.Before(l.slowUntil) {
		l.notBefore = now.Add(l.spacing)
	}
}

// Pause implements Limiter.
func (l *EagerLimiter) Pause(ctx context.Context, d time.Duration) error {
	return l.budget.Pause(ctx, d)
}
