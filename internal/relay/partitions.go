package relay

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// PartitionLease names partition n's lease.
func PartitionLease(n int) string { return "part:" + strconv.Itoa(n) }

// hurry is how soon the balance runs again while a partition move is under
// way (a partition to give up once drained, or one assigned to this
// process that another still holds), instead of a third of the lease.
const hurry = 100 * time.Millisecond

// balanceLoop renews this process's membership and partition leases every
// third of the lease TTL until ctx ends; sooner while a partition moves,
// and at once when a draining partition's last update was handled.
// hurried is the first balance's answer (Start's).
func (r *Relay) balanceLoop(ctx context.Context, hurried bool) {
	defer close(r.balDone)
	next := r.tick
	if hurried {
		next = min(next, hurry)
	}
	t := time.NewTimer(next)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		next = r.tick
		if r.balance(ctx) {
			next = min(next, hurry)
		}
		t.Reset(next)
	}
}

// balance runs one turn (Store.Balance: membership, partition leases,
// queue depth, poller holder in one round trip) and updates the
// partitions this process reads: the ones assigned to it that it holds,
// and stops reading the ones no longer assigned (draining: given up at a
// later turn, once their updates in hand are handled and acknowledged,
// so the next owner does not read them again). A failure leaves the
// leases as they are: the reader stops using each one before it can
// expire. It reports whether a move is under way (balance again soon).
func (r *Relay) balance(ctx context.Context) (hurried bool) {
	var dead []string
	for range 2 {
		sent := time.Now()
		r.mu.Lock()
		release := r.drained(sent)
		r.mu.Unlock()
		res, err := r.cfg.Store.Balance(ctx, BalanceRequest{
			Holder: r.cfg.Holder, TTL: r.cfg.LeaseTTL, Partitions: r.cfg.Partitions, Release: release, Dead: dead,
		})
		if err != nil {
			if ctx.Err() == nil {
				r.warnThrottled("balance", "renewing the queue membership and partitions failed; retrying", "err", err)
			}
			return true
		}
		r.apply(sent, release, res)
		// A member proven stopped (a predecessor on this host) is removed
		// and its leases taken over at once: one more turn.
		var newDead []string
		for _, m := range res.Live {
			if r.dead(m) && !slices.Contains(dead, m) {
				newDead = append(newDead, m)
			}
		}
		if len(newDead) == 0 {
			r.mu.Lock()
			hurried = len(r.drained(time.Now())) > 0 || len(res.Held) < len(Assigned(res.Live, r.cfg.Holder, r.cfg.Partitions))
			r.mu.Unlock()
			return hurried
		}
		dead = append(dead, newDead...)
	}
	return true
}

// apply records a turn's outcome.
func (r *Relay) apply(sent time.Time, released []int, res Balance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range released {
		if o, ok := r.owned[p]; ok && o.draining {
			r.log.Debug("queue partition given up", "partition", p, "drained_in", time.Since(o.drainSince).Round(time.Millisecond))
			delete(r.owned, p)
		}
	}
	keep := map[int]bool{}
	for _, p := range res.Held {
		keep[p] = true
		o, had := r.owned[p]
		if had && !o.draining {
			o.validUntil = sent.Add(r.cfg.LeaseTTL)
			r.owned[p] = o
			continue
		}
		r.gen++
		r.owned[p] = ownedPart{validUntil: sent.Add(r.cfg.LeaseTTL), gen: r.gen}
		select { // the reader reads it from now on
		case r.wake <- struct{}{}:
		default:
		}
	}
	for _, p := range res.Draining {
		keep[p] = true
		o := r.owned[p]
		if !o.draining {
			o.draining, o.drainSince = true, sent
		}
		o.validUntil = sent.Add(r.cfg.LeaseTTL)
		r.owned[p] = o
	}
	for p := range r.owned {
		if !keep[p] { // another process has it, or it expired
			delete(r.owned, p)
		}
	}
	r.pending.Store(res.Depth)
	if !r.polling {
		r.holder = res.Poller
	}
}

// drained lists the draining partitions to give up now: every update read
// from them was handled and acknowledged, or they drained for longer than
// the lease (a handler stuck on one chat must not hold a move up for
// good; the next owner reads what is left, and the pipeline's dedupe skips
// what was handled meanwhile). r.mu is held.
func (r *Relay) drained(now time.Time) []int {
	var out []int
	for p, o := range r.owned {
		if o.draining && (r.inflight[p] == 0 || now.Sub(o.drainSince) > r.cfg.LeaseTTL) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
