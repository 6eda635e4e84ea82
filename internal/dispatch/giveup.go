package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// maxFailureEntries bounds the failure ledger: past it the ledger starts
// over, which only gives the updates in it more deliveries.
const maxFailureEntries = 10000

// failures counts, per update, the deliveries that failed with an error
// that was neither permanent (messenger.ErrPermanent) nor an outage of a
// watched store: an error nobody classified. An update that failed in
// Config.MaxDeliveries deliveries is given up at its next one, so such an
// error cannot pin the platform's offset (or its webhook retries) for
// ever. The count lives in this process: a restart gives an update a fresh
// count, which still bounds it.
type failures struct {
	mu sync.Mutex
	n  map[string]int
}

func newFailures() *failures { return &failures{n: map[string]int{}} }

func failureKey(u *messenger.Update) string { return u.Chat.String() + "/" + u.ID }

// count returns how many deliveries of u failed so far; an update without
// an id cannot be told from the next one and is never counted.
func (f *failures) count(u *messenger.Update) int {
	if u.ID == "" {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[failureKey(u)]
}

// add records a failed delivery of u (one with an id).
func (f *failures) add(u *messenger.Update) {
	if u.ID == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.n) >= maxFailureEntries {
		clear(f.n)
	}
	f.n[failureKey(u)]++
}

// forget drops u's count once it is handled or given up.
func (f *failures) forget(u *messenger.Update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.n, failureKey(u))
}

// countsAsFailure reports whether a delivery's final error counts toward
// giving its update up: not an outage (the update is fine, a store is
// not), not a failure known to be temporary (a platform's 5xx or flood
// control, a store's read-only, full-disk, timeout or serialisation error:
// the update would succeed later, so giving it up would lose it), not a
// chat another holder keeps, not the dispatcher stopping. A handler that
// runs out of its HandleTimeout does count: it would do so again.
func (d *Dispatcher) countsAsFailure(err error) bool {
	switch {
	case messenger.Recovery(err) != nil, d.baseCtx.Err() != nil:
		return false
	case errors.Is(err, messenger.ErrTransient), errors.Is(err, crm.ErrUnavailable),
		errors.Is(err, ErrChatBusy):
		return false
	}
	return true
}

// giveUp ends an update that failed in every allowed delivery: it is
// recorded as done in the Gate (a later redelivery is a duplicate) and
// acknowledged without being handled again, logged once with the chat id
// and counted (Stats.GivenUp).
//
// It takes the chat's turn directly, never parking: a parked update would
// be handled again by a drain, not given up.
func (d *Dispatcher) giveUp(j job, deliveries int) error {
	err := d.retry(j, func(ctx context.Context) error {
		if d.cfg.Gate == nil {
			return nil
		}
		leave, dup, err := d.cfg.Gate.Enter(ctx, j.upd.Chat, j.upd.ID, d.cfg.TurnTTL)
		if err != nil || dup {
			return err
		}
		return leave(ctx, true)
	})
	if err != nil {
		d.stats.failed()
		return fmt.Errorf("give up update %s of %s: %w", j.upd.ID, j.upd.Chat, err)
	}
	d.gaveUp(j.upd, deliveries)
	return nil
}

// gaveUp records that upd was given up after deliveries failed ones.
func (d *Dispatcher) gaveUp(upd *messenger.Update, deliveries int) {
	d.failures.forget(upd)
	d.stats.gaveUp()
	d.cfg.Logger.Error("update failed in every delivery; given up without a reply and acknowledged",
		"chat", upd.Chat.String(), "update", upd.ID, "deliveries", deliveries)
}
