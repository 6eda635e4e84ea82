package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// pollLoop tries to take the poller lease every fifth of its TTL and polls
// while it holds it, until ctx ends (Stop) or Poll failed in this process.
func (r *Relay) pollLoop(ctx context.Context) {
	defer close(r.pollDone)
	retry := r.cfg.LeaseTTL / 5
	for ctx.Err() == nil {
		sent := time.Now()
		held, cur, err := r.cfg.Store.AcquireLease(ctx, PollerLease, r.cfg.Holder, r.cfg.LeaseTTL)
		if err == nil && !held && r.dead(cur) {
			r.log.Info("the bot's poller stopped (a predecessor on this host); taking its lease over", "holder", cur)
			sent = time.Now()
			held, cur, err = r.cfg.Store.AcquireLease(ctx, PollerLease, r.cfg.Holder, r.cfg.LeaseTTL, cur)
		}
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.warnThrottled("acquire", "taking the poller lease failed; retrying", "err", err)
			}
		case held:
			r.runPoller(ctx, sent)
			r.mu.Lock()
			failed := r.pollErr != nil
			r.mu.Unlock()
			if failed {
				return
			}
		default:
			r.setHolder(cur, false)
		}
		sleep(ctx, retry)
	}
}

// dead reports a holder proven stopped (Config.Dead).
func (r *Relay) dead(holder string) bool {
	return holder != "" && holder != r.cfg.Holder && r.cfg.Dead != nil && r.cfg.Dead(holder)
}

// setHolder records the poller lease's holder as seen.
func (r *Relay) setHolder(holder string, polling bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.holder != holder && !polling && holder != "" {
		r.log.Debug("bot polled by another process", "holder", holder)
	}
	r.holder, r.polling = holder, polling
}

// runPoller polls while the lease renewed every third of its TTL holds.
// A watchdog cancels polling a third of the TTL before the lease could
// have expired since the last renewal that succeeded (acquired: when the
// acquisition was sent), so a holder cut off from Redis stops polling
// before another process may start. It returns once Poll returned and the
// lease was given up.
func (r *Relay) runPoller(ctx context.Context, acquired time.Time) {
	r.setHolder(r.cfg.Holder, true)
	r.log.Info("bot polling: this process holds the poller lease", "holder", r.cfg.Holder)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchdog := time.AfterFunc(time.Until(acquired.Add(r.cfg.LeaseTTL-r.margin)), cancel)
	defer watchdog.Stop()
	done := make(chan error, 1)
	go func() { done <- r.cfg.Poll(pctx, queueSink{r}) }()
	renew := time.NewTicker(r.tick)
	defer renew.Stop()
	lost := false
	for {
		select {
		case err := <-done:
			watchdog.Stop()
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.LeaseTTL)
			if rerr := r.cfg.Store.ReleaseLease(rctx, PollerLease, r.cfg.Holder); rerr != nil {
				r.warnThrottled("release", "giving the poller lease up failed; another process polls once it expires", "err", rerr)
			}
			rcancel()
			r.setHolder("", false)
			switch {
			case err != nil && pctx.Err() == nil:
				r.mu.Lock()
				r.pollErr = err
				r.mu.Unlock()
				r.log.Error("bot polling stopped; this process polls the bot no more, another may", "err", err)
				if r.cfg.OnPollError != nil {
					r.cfg.OnPollError(err)
				}
			case lost:
				r.log.Warn("bot polling stopped: another process took the poller lease")
			case ctx.Err() == nil:
				// The renewal failures were logged (or the outage was).
				r.log.Info("bot polling paused: the poller lease could not be renewed in time; taking it again")
			default:
				r.log.Info("bot polling stopped; the poller lease was given up")
			}
			return
		case <-renew.C:
			sent := time.Now()
			ok, err := r.cfg.Store.RenewLease(ctx, PollerLease, r.cfg.Holder, r.cfg.LeaseTTL)
			switch {
			case err != nil:
				r.warnThrottled("renew", "renewing the poller lease failed; polling stops before it can expire", "err", err)
			case ok:
				watchdog.Reset(time.Until(sent.Add(r.cfg.LeaseTTL - r.margin)))
			default:
				lost = true
				cancel()
			}
		}
	}
}

// queueSink is the Sink the poller delivers to: it appends each batch to
// the queue, each update to its chat's partition, and returns nil once
// all are stored, so the adapter acknowledges them to the platform only
// then. While the queue holds more than MaxPending entries it waits.
type queueSink struct{ r *Relay }

// Deliver implements messenger.Sink.
func (s queueSink) Deliver(ctx context.Context, batch []*messenger.Update) error {
	r := s.r
	for r.pending.Load() > r.cfg.MaxPending {
		r.warnThrottled("full", "the bot's queue is full; polling waits", "pending", r.pending.Load(), "max", r.cfg.MaxPending)
		if !sleep(ctx, r.tick) {
			return fmt.Errorf("relay: queue updates: %w", ctx.Err())
		}
	}
	entries := make([]Entry, 0, len(batch))
	for _, u := range batch {
		data, err := json.Marshal(u)
		if err != nil {
			return fmt.Errorf("relay: encode update %s of %s: %w", u.ID, u.Chat, err)
		}
		entries = append(entries, Entry{Partition: Partition(u.Chat.ID, r.cfg.Partitions), Data: data})
	}
	seq := r.beginAppend()
	if err := r.cfg.Store.Append(ctx, entries); err != nil {
		r.submitMu.Lock()
		r.endAppend(seq)
		r.submitMu.Unlock()
		err = fmt.Errorf("relay: %w", err)
		if ch := r.outage(); ch != nil {
			return &messenger.OutageError{Recovered: ch, Err: err}
		}
		return err
	}
	r.pending.Add(int64(len(entries)))
	// Stored: the adapter may confirm them to the platform. The ones of
	// partitions this process reads go to the Sink now.
	r.handOver(ctx, seq, entries, batch)
	return nil
}
