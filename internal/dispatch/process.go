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

// process dedupes, handles with retries, and reports the final outcome of a job.
func (d *Dispatcher) process(j job) error {
	upd := j.upd
	if d.cfg.Dedupe != nil && upd.ID != "" {
		first, err := d.claim(j)
		if err != nil {
			return err
		}
		if !first {
			d.stats.duplicate()
			return nil
		}
	}
	err := d.handleLocked(j)
	switch {
	case err == nil:
		d.stats.handled()
		d.complete(j)
		return nil
	case errors.Is(err, errPanic):
		// A poison update: acknowledged (marked handled) so it cannot stop
		// the chat or the adapter; the panic is logged with its stack.
		d.stats.failed()
		d.complete(j)
		return nil
	}
	d.stats.failed()
	if d.cfg.Dedupe != nil && upd.ID != "" {
		if rerr := d.cfg.Dedupe.ReleaseUpdate(context.WithoutCancel(j.ctx), upd.Chat.Platform, upd.ID); rerr != nil {
			d.cfg.Logger.Error("release update claim failed", "chat", upd.Chat.String(), "update", upd.ID, "err", rerr)
		}
	}
	return fmt.Errorf("update %s of %s: %w", upd.ID, upd.Chat, err)
}

// complete marks a claimed update handled. If that fails the claim expires
// and a redelivery would be handled again: logged, as the one duplicate risk.
func (d *Dispatcher) complete(j job) {
	if d.cfg.Dedupe == nil || j.upd.ID == "" {
		return
	}
	if err := d.cfg.Dedupe.CompleteUpdate(context.WithoutCancel(j.ctx), j.upd.Chat.Platform, j.upd.ID); err != nil {
		d.cfg.Logger.Error("mark update handled failed", "chat", j.upd.Chat.String(), "update", j.upd.ID, "err", err)
	}
}

// claim takes the update's dedupe key, retrying while the store is down.
func (d *Dispatcher) claim(j job) (bool, error) {
	var first bool
	err := d.retry(j, func(ctx context.Context) error {
		var err error
		first, err = d.cfg.Dedupe.ClaimUpdate(ctx, j.upd.Chat.Platform, j.upd.ID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("dedupe update %s of %s: %w", j.upd.ID, j.upd.Chat, err)
	}
	return first, nil
}

// handleLocked holds the chat's lock (when a Locker is set) while the
// update is handled with retries.
func (d *Dispatcher) handleLocked(j job) error {
	if d.cfg.Locker == nil {
		return d.handleWithRetry(j)
	}
	var unlock func()
	err := d.retry(j, func(ctx context.Context) error {
		var err error
		unlock, err = d.cfg.Locker.LockChat(ctx, j.upd.Chat)
		return err
	})
	if err != nil {
		return fmt.Errorf("lock chat: %w", err)
	}
	defer unlock()
	return d.handleWithRetry(j)
}

func (d *Dispatcher) handleWithRetry(j job) error {
	return d.retry(j, func(ctx context.Context) error { return d.safeHandle(ctx, j) })
}

// retry runs fn up to MaxAttempts times with exponential backoff; a panic
// or a cancelled dispatcher ends it early.
func (d *Dispatcher) retry(j job, fn func(ctx context.Context) error) error {
	backoff := d.cfg.RetryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
		err = fn(ctx)
		cancel()
		if err == nil || errors.Is(err, errPanic) || attempt >= d.cfg.MaxAttempts {
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
