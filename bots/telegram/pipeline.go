package telegram

import (
	"context"
	"log/slog"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// drainTimeout bounds how long a stopping pipelined Run waits for the
// batches still being handled before it confirms what was handled.
const drainTimeout = 10 * time.Second

// pollSpacing is the least time between two getUpdates calls while updates
// are in flight. Telegram answers such a call at once, since its offset is
// the lowest update not yet handled, and the answer repeats every update in
// flight; polling again as soon as each batch is queued would download them
// over and over with hardly a new one. A new update waits at most this long.
const pollSpacing = 2 * time.Millisecond

// runPipelined is Run over a Submitter (see Run).
func (b *Bot) runPipelined(ctx context.Context, sub messenger.Submitter) error {
	w := newWindow()
	retry := backoff{min: b.minGap, max: b.maxGap}
	acked := 0
	var polled time.Time
	for ctx.Err() == nil {
		pending, batches, changed := w.busy()
		if batches >= maxBatchesInFlight {
			wait(ctx, changed, b.maxGap)
			continue
		}
		if d := pollSpacing - time.Since(polled); pending && d > 0 {
			sleepCtx(ctx, d)
		}
		offset := w.offset()
		polled = time.Now()
		raw, err := b.getRawUpdates(ctx, offset, b.cfg.PollLimit, b.cfg.PollTimeout)
		if err != nil {
			stop, err := b.pollFailed(ctx, err, &retry)
			if stop && err != nil {
				w.idle(drainTimeout)
				return err
			}
			continue // on stop, the loop ends and the handled updates are confirmed
		}
		retry.reset()
		b.state.Set(messenger.BotOK)
		acked = offset
		fresh := w.take(raw, b.clock())
		if len(fresh) == 0 {
			if pending || len(raw) > 0 {
				// Only updates in flight (or waiting for a retry) came back:
				// poll again once one of them is done.
				wait(ctx, changed, b.minGap)
			}
			continue
		}
		b.submit(ctx, sub, w, b.decodeUpdates(fresh))
	}
	w.idle(drainTimeout)
	if offset := w.offset(); offset > acked {
		b.commit(ctx, offset)
	}
	return nil
}

// submit queues fresh updates on the pipeline and finishes them in w when
// they are handled and their callback answers done, from a goroutine per
// batch (at most maxBatchesInFlight).
func (b *Bot) submit(ctx context.Context, sub messenger.Submitter, w *window, fresh []tgbotapi.Update) {
	ids := make([]int, len(fresh))
	for i, u := range fresh {
		ids[i] = u.UpdateID
	}
	bt := b.prepare(ctx, fresh)
	if len(bt.updates) == 0 {
		w.finish(ids, false, 0, b.clock(), false)
		return
	}
	wait, err := sub.Submit(ctx, bt.updates)
	if err != nil {
		bt.side.wait() // the answers prepare started: none outlives its batch
		b.batchFailed(w, ids, err)
		return
	}
	go func() {
		err := wait()
		bt.side.wait()
		if err != nil {
			b.batchFailed(w, ids, err)
			return
		}
		w.finish(ids, false, 0, b.clock(), false)
	}()
}

// batchFailed schedules a failed batch's updates for another try after a
// backoff that doubles with every batch in a row that failed on its own.
// When the failure is an outage of a backing service
// (*messenger.OutageError), the outage is logged where it is watched: the
// batch is logged at debug level and taken again as soon as the service
// answers (the longest backoff is only the fallback), and it does not grow
// the backoff of the batches that fail after the recovery: a batch that
// fails once more while the connections come back is retried after the
// shortest delay, not after the 16-30 s the outage's failures would add up
// to.
func (b *Bot) batchFailed(w *window, ids []int, err error) {
	recovered := messenger.Recovery(err)
	d := b.maxGap
	if recovered == nil {
		d = b.minGap
		for i := 1; i < w.failuresInARow()+1 && d < b.maxGap; i++ {
			d *= 2
		}
		d = min(d, b.maxGap)
	}
	level := slog.LevelWarn
	if recovered != nil {
		level = slog.LevelDebug
	}
	b.log.Log(context.Background(), level, "delivering updates failed; retrying them", "err", err, "updates", len(ids), "retry_in", d)
	w.finish(ids, true, d, b.clock(), recovered == nil)
	if recovered != nil {
		go retryAtRecovery(w, ids, recovered, d)
	}
}

// retryAtRecovery makes failed updates due at once when recovered closes
// before their retry time d has passed.
func retryAtRecovery(w *window, ids []int, recovered <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-recovered:
		w.retryNow(ids)
	case <-t.C:
	}
}
