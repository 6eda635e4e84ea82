package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// errPanic marks an update whose handler panicked; it is not retried.
var errPanic = errors.New("dispatch: handler panicked")

// outcome is how one attempt ended.
type outcome int

const (
	outcomeHandled outcome = iota
	outcomeDuplicate
	outcomePoison
	outcomeRejected
	outcomeParked
)

// finalOutcome reports whether err ends an update for good, so it is
// recorded as done and acknowledged rather than retried: a panic (poison)
// or an error wrapping messenger.ErrPermanent (rejected). A transient
// failure (a lost connection, a timeout, a serialisation conflict: anything
// else) is retried.
func finalOutcome(err error) (outcome, bool) {
	switch {
	case errors.Is(err, errPanic):
		return outcomePoison, true
	case errors.Is(err, messenger.ErrPermanent):
		return outcomeRejected, true
	}
	return 0, false
}

// process handles a job with retries and reports its final outcome: nil
// once it is handled, skipped as a duplicate, dropped as poison (a
// panicking handler, logged with its stack) or rejected (the handler
// reported messenger.ErrPermanent), else the last error.
func (d *Dispatcher) process(j job) error {
	if j.upd == nil {
		return d.drain(j)
	}
	if n := d.failures.count(j.upd); n >= d.cfg.MaxDeliveries {
		return d.giveUp(j, n)
	}
	var out outcome
	err := d.retry(j, func(ctx context.Context) error {
		var err error
		out, err = d.attempt(ctx, j)
		return err
	})
	if err != nil {
		if d.countsAsFailure(err) {
			d.failures.add(j.upd)
		}
		d.stats.failed()
		return fmt.Errorf("update %s of %s: %w", j.upd.ID, j.upd.Chat, err)
	}
	d.failures.forget(j.upd)
	d.count(out)
	return nil
}

// count records an update's final outcome in the stats.
func (d *Dispatcher) count(out outcome) {
	switch out {
	case outcomeDuplicate:
		d.stats.duplicate()
	case outcomePoison:
		d.stats.failed()
	case outcomeRejected:
		d.stats.rejected()
	case outcomeParked:
		d.stats.parked()
	default:
		d.stats.handled()
	}
}

// attempt is one try: take the chat's turn (skipping a handled update, or
// parking it behind a chat another holder keeps), run the handler, leave
// the turn recording whether the update is done.
func (d *Dispatcher) attempt(ctx context.Context, j job) (outcome, error) {
	if d.cfg.Gate == nil {
		err := d.safeHandle(ctx, j)
		if out, final := finalOutcome(err); final {
			d.logFinal(j, out, err)
			return out, nil
		} else if err != nil {
			return 0, err
		}
		return outcomeHandled, nil
	}
	leave, dup, parked, err := d.enterOrPark(ctx, j)
	switch {
	case err != nil:
		return 0, err // the gate names the operation and the chat
	case dup:
		return outcomeDuplicate, nil
	case parked:
		d.cfg.Logger.Info("chat busy elsewhere; update parked behind it", "chat", j.upd.Chat.String(), "update", j.upd.ID)
		return outcomeParked, nil
	}
	return d.handleTurn(ctx, j, leave)
}

// handleTurn runs the handler for j under a chat turn just taken and leaves
// the turn, recording whether the update is done.
func (d *Dispatcher) handleTurn(ctx context.Context, j job, leave func(context.Context, bool) error) (outcome, error) {
	// The wait for the turn must not eat the handler's time: it gets a full
	// HandleTimeout from now, which the turn's TTL covers.
	hctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
	defer cancel()
	err := d.safeHandle(hctx, j)
	out, final := finalOutcome(err)
	if lerr := leave(ctx, err == nil || final); lerr != nil {
		// The update stays handled; a failed leave only delays the chat's
		// next turn (until the TTL) or, if the handled mark was not written,
		// lets a redelivery send the recorded replies again. When the leave
		// was to write the turn's state too, the update is not done: it is
		// tried again (and found handled once the gate finished the turn).
		if errors.Is(lerr, ErrTurnUnsaved) && err == nil {
			err = lerr
		}
		d.cfg.Logger.Log(d.baseCtx, d.failureLevel(slog.LevelError), "leaving the chat's turn failed",
			"chat", j.upd.Chat.String(), "update", j.upd.ID, "err", lerr)
	}
	switch {
	case final:
		d.logFinal(j, out, err)
		return out, nil
	case err != nil:
		return 0, err
	}
	return outcomeHandled, nil
}

// logFinal logs, once, an update that failed for good and is acknowledged
// without being retried; a panic was logged with its stack already.
func (d *Dispatcher) logFinal(j job, out outcome, err error) {
	if out != outcomeRejected {
		return
	}
	d.cfg.Logger.Warn("update failed permanently; not retried, acknowledged", "chat", j.upd.Chat.String(),
		"update", j.upd.ID, "err", err)
}

// retry runs fn up to MaxAttempts times with exponential backoff; a
// cancelled dispatcher ends it early. During an outage of a backing service
// (Config.Outages) the wait ends when the service answers again, and when
// an attempt failed during an outage the last error is an
// *messenger.OutageError (its channel already closed if the service came
// back meanwhile, so the adapter delivers again at once).
func (d *Dispatcher) retry(j job, fn func(ctx context.Context) error) error {
	backoff := d.cfg.RetryBackoff
	var err error
	var outage <-chan struct{} // the last outage an attempt failed in
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
		err = fn(ctx)
		cancel()
		if err == nil {
			return nil
		}
		recovered := d.outage()
		if recovered != nil {
			outage = recovered
		}
		if attempt >= d.cfg.MaxAttempts {
			if outage != nil {
				return &messenger.OutageError{Recovered: outage, Err: err}
			}
			return err
		}
		d.stats.retried()
		level := slog.LevelWarn
		if recovered != nil {
			level = slog.LevelDebug // the outage is logged once by its watcher
		}
		id := "parked"
		if j.upd != nil {
			id = j.upd.ID
		}
		d.cfg.Logger.Log(d.baseCtx, level, "update failed, retrying", "chat", j.chat.String(), "update", id,
			"attempt", attempt, "backoff", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
			backoff = min(2*backoff, d.cfg.MaxBackoff)
		case <-recovered:
			t.Stop()
			backoff = d.cfg.RetryBackoff
		case <-d.baseCtx.Done():
			t.Stop()
			return err
		}
	}
}

// failureLevel is the level to log a failure at: debug while a backing
// service is down (its watcher logs the outage once), else level.
func (d *Dispatcher) failureLevel(level slog.Level) slog.Level {
	if d.outage() != nil {
		return slog.LevelDebug
	}
	return level
}

// outage asks Config.Outages whether a backing service is down: the channel
// closed at its recovery, or nil.
func (d *Dispatcher) outage() <-chan struct{} {
	if d.cfg.Outages == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
	defer cancel()
	return d.cfg.Outages.Outage(ctx)
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
