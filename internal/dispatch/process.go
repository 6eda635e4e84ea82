package dispatch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// errPanic marks an update whose handler panicked; it is not retried.
var errPanic = errors.New("dispatch: handler panicked")

// outcome is how one attempt ended.
type outcome int

const (
	outcomeHandled outcome = iota
	outcomeDuplicate
	outcomePoison
)

// process handles a job with retries and reports its final outcome: nil
// once it is handled, skipped as a duplicate or dropped as poison (a
// panicking handler, logged with its stack), else the last error.
func (d *Dispatcher) process(j job) error {
	var out outcome
	err := d.retry(j, func(ctx context.Context) error {
		var err error
		out, err = d.attempt(ctx, j)
		return err
	})
	switch {
	case err != nil:
		d.stats.failed()
		return fmt.Errorf("update %s of %s: %w", j.upd.ID, j.upd.Chat, err)
	case out == outcomeDuplicate:
		d.stats.duplicate()
	case out == outcomePoison:
		d.stats.failed()
	default:
		d.stats.handled()
	}
	return nil
}

// attempt is one try: take the chat's turn (skipping a handled update), run
// the handler, leave the turn recording whether the update is done.
func (d *Dispatcher) attempt(ctx context.Context, j job) (outcome, error) {
	if d.cfg.Gate == nil {
		if err := d.safeHandle(ctx, j); errors.Is(err, errPanic) {
			return outcomePoison, nil
		} else if err != nil {
			return 0, err
		}
		return outcomeHandled, nil
	}
	leave, dup, err := d.cfg.Gate.Enter(ctx, j.upd.Chat, j.upd.ID, d.cfg.TurnTTL)
	switch {
	case err != nil:
		return 0, err // the gate names the operation and the chat
	case dup:
		return outcomeDuplicate, nil
	}
	// The wait for the turn must not eat the handler's time: it gets a full
	// HandleTimeout from now, which the turn's TTL covers.
	hctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
	defer cancel()
	err = d.safeHandle(hctx, j)
	poison := errors.Is(err, errPanic)
	if lerr := leave(ctx, err == nil || poison); lerr != nil {
		// The update stays handled; a failed leave only delays the chat's
		// next turn (until the TTL) or, if the handled mark was not written,
		// lets a redelivery send the recorded replies again.
		d.cfg.Logger.Error("leaving the chat's turn failed", "chat", j.upd.Chat.String(), "update", j.upd.ID, "err", lerr)
	}
	switch {
	case poison:
		return outcomePoison, nil
	case err != nil:
		return 0, err
	}
	return outcomeHandled, nil
}

// retry runs fn up to MaxAttempts times with exponential backoff; a
// cancelled dispatcher ends it early.
func (d *Dispatcher) retry(j job, fn func(ctx context.Context) error) error {
	backoff := d.cfg.RetryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
		err = fn(ctx)
		cancel()
		if err == nil || attempt >= d.cfg.MaxAttempts {
			return err
		}
		d.stats.retried()
		d.cfg.Logger.Warn("update failed, retrying", "chat", j.upd.Chat.String(), "update", j.upd.ID,
			"attempt", attempt, "backoff", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-d.baseCtx.Done():
			return err
		}
		backoff = min(2*backoff, d.cfg.MaxBackoff)
	}
}

// safeHandle runs the handler, turning a panic into errPanic.
func (d *Dispatcher) safeHandle(ctx context.Context, j job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			d.cfg.Logger.Error("update handler panicked", "chat", j.upd.Chat.String(), "update", j.upd.ID,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return d.cfg.Handler.Handle(ctx, j.upd)
}
