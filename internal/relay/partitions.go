package relay

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// partitionLease names partition n's lease.
func partitionLease(n int) string { return "part:" + strconv.Itoa(n) }

// balanceLoop renews this process's membership and partition leases every
// third of the lease TTL until ctx ends.
func (r *Relay) balanceLoop(ctx context.Context) {
	defer close(r.balDone)
	t := time.NewTicker(r.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.balance(ctx)
		}
	}
}

// balance refreshes the membership, takes (or renews) the partitions this
// process should handle among the live members, gives up the others and
// looks at the queue's depth. A failure leaves the leases as they are:
// the reader stops using each one before it can expire.
func (r *Relay) balance(ctx context.Context) {
	sent := time.Now()
	live, err := r.cfg.Store.Heartbeat(ctx, r.cfg.Holder, r.cfg.LeaseTTL)
	if err != nil {
		if ctx.Err() == nil {
			r.warnThrottled("heartbeat", "renewing the queue membership failed; retrying", "err", err)
		}
		return
	}
	var dead []string
	live = slices.DeleteFunc(live, func(m string) bool {
		if r.dead(m) {
			dead = append(dead, m)
			return true
		}
		return false
	})
	for _, m := range dead {
		if err := r.cfg.Store.Leave(ctx, m); err != nil {
			r.warnThrottled("leave", "removing a stopped process from the queue's members failed", "err", err)
		}
	}
	want := assigned(live, r.cfg.Holder, r.cfg.Partitions)
	r.mu.Lock()
	var release []int
	for p := range r.owned {
		if !slices.Contains(want, p) {
			release = append(release, p)
		}
	}
	r.mu.Unlock()
	names := make([]string, len(want))
	for i, p := range want {
		names[i] = partitionLease(p)
	}
	relNames := make([]string, len(release))
	for i, p := range release {
		relNames[i] = partitionLease(p)
	}
	held, err := r.cfg.Store.AcquireLeases(ctx, names, relNames, r.cfg.Holder, r.cfg.LeaseTTL, dead...)
	if err != nil {
		if ctx.Err() == nil {
			r.warnThrottled("partitions", "renewing the queue partitions failed; retrying", "err", err)
		}
		return
	}
	r.mu.Lock()
	for _, p := range release {
		delete(r.owned, p)
	}
	for i, p := range want {
		o, had := r.owned[p]
		switch {
		case held[i] && had:
			o.validUntil = sent.Add(r.cfg.LeaseTTL)
			r.owned[p] = o
		case held[i]:
			r.gen++
			r.owned[p] = ownedPart{validUntil: sent.Add(r.cfg.LeaseTTL), gen: r.gen}
		default: // another process still has it; it gives it up at its next turn
			delete(r.owned, p)
		}
	}
	r.mu.Unlock()
	if depth, err := r.cfg.Store.Depth(ctx, r.cfg.Partitions); err == nil {
		r.pending.Store(depth)
	}
	if !r.Status().Polling {
		if h, err := r.cfg.Store.LeaseHolder(ctx, PollerLease); err == nil {
			r.mu.Lock()
			if !r.polling {
				r.holder = h
			}
			r.mu.Unlock()
		}
	}
}

// assigned returns the partitions of n that holder handles among the live
// members: members sorted by name take the partitions in turn, so each
// handles n/len(live) of them, rounded up or down, and every member
// computes the same assignment.
func assigned(live []string, holder string, n int) []int {
	sorted := slices.Clone(live)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	i := slices.Index(sorted, holder)
	if i < 0 {
		return nil
	}
	var out []int
	for p := i; p < n; p += len(sorted) {
		out = append(out, p)
	}
	return out
}
