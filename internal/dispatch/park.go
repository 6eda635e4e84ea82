package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// enterOrPark takes the chat's turn for j like Gate.Enter, but when the
// Gate parks (Parker) and another holder keeps the chat past ParkAfter, or
// updates of the chat are parked already, it parks j: parked true, nothing
// held, the update counts as taken.
func (d *Dispatcher) enterOrPark(ctx context.Context, j job) (leave func(context.Context, bool) error, dup, parked bool, err error) {
	p, ok := d.cfg.Gate.(Parker)
	if !ok || j.upd.ID == "" {
		leave, dup, err = d.cfg.Gate.Enter(ctx, j.upd.Chat, j.upd.ID, d.cfg.TurnTTL)
		return leave, dup, false, err
	}
	for {
		leave, dup, err = d.cfg.Gate.Enter(WithWaitLimit(ctx, d.cfg.ParkAfter), j.upd.Chat, j.upd.ID, d.cfg.TurnTTL)
		if !errors.Is(err, ErrChatBusy) || ctx.Err() != nil {
			return leave, dup, false, err
		}
		parked, dup, err = p.Park(ctx, j.upd)
		if err != nil || parked || dup {
			return nil, dup, parked, err
		}
		// The chat became free with nothing parked: enter again.
	}
}

// sweepParked looks for chats with parked updates every DrainInterval and
// queues a turn at each (one at a time per chat) until Stop.
func (d *Dispatcher) sweepParked(p Parker) {
	defer d.workers.Done()
	t := time.NewTicker(d.cfg.DrainInterval)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-d.baseCtx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(d.baseCtx, d.cfg.HandleTimeout)
		chats, err := p.ParkedChats(ctx, 64)
		cancel()
		if err != nil {
			d.cfg.Logger.Log(d.baseCtx, d.failureLevel(slog.LevelWarn), "looking for parked updates failed", "err", err)
			continue
		}
		for _, chat := range chats {
			d.queueDrain(chat)
		}
	}
}

// queueDrain queues a turn at chat's parked updates unless one is queued
// or running, the queue is full or the dispatcher is stopping.
func (d *Dispatcher) queueDrain(chat messenger.ChatKey) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.stopping || !d.chats.markDraining(chat) {
		return
	}
	select {
	case d.slots <- struct{}{}:
	default:
		d.chats.doneDraining(chat)
		return
	}
	b := &batch{}
	b.wg.Add(1)
	d.pending.Add(1)
	d.stats.queued(1)
	d.chats.push(job{chat: chat, done: b})
}

// drain handles the chat's parked updates, oldest first, while the chat is
// free: each is retried like an update (a failure leaves it parked for a
// later turn) and a handled, rejected or poison one leaves the parked list.
// A parked update that failed in Config.MaxDeliveries turns (failures
// during an outage do not count) is given up like a live one, so it cannot
// hold the chat's later updates for ever.
func (d *Dispatcher) drain(j job) error {
	defer d.chats.doneDraining(j.chat)
	p := d.cfg.Gate.(Parker)
	for range 100 {
		var upd *messenger.Update
		var out outcome
		gaveUp := 0
		err := d.retry(job{chat: j.chat}, func(ctx context.Context) error {
			var leave func(context.Context, bool) error
			var busy bool
			var err error
			upd, leave, busy, err = p.EnterParked(ctx, j.chat, d.cfg.TurnTTL)
			if err != nil || busy || upd == nil {
				return err
			}
			if n := d.failures.count(upd); n >= d.cfg.MaxDeliveries {
				gaveUp = n
				return leave(ctx, true)
			}
			out, err = d.handleTurn(ctx, job{chat: j.chat, upd: upd}, leave)
			return err
		})
		switch {
		case err != nil:
			if upd != nil && gaveUp == 0 && d.countsAsFailure(err) {
				d.failures.add(upd)
			}
			d.stats.failed()
			return fmt.Errorf("parked updates of %s: %w", j.chat, err)
		case upd == nil:
			return nil // nothing parked, or the chat is busy: the next sweep
		case gaveUp > 0:
			d.gaveUp(upd, gaveUp)
			continue
		}
		d.failures.forget(upd)
		d.count(out)
	}
	return nil
}
