package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// done is the outcome of a group of entries of one partition handed to the
// Sink together (one chat's updates of a batch, or the undecodable entries
// of one): acknowledged once handled.
type done struct {
	part int
	ids  []string
	err  error
}

// ackTimeout bounds one acknowledgement.
const ackTimeout = 5 * time.Second

// maxAckBatch bounds the outcomes acknowledged in one round trip.
const maxAckBatch = 1024

// cursor is the reader's position in one partition.
type cursor struct {
	after string
	gen   uint64
}

// read reads the leased partitions in batches and submits their updates
// to the Sink, in each partition's order, until ctx ends. A partition
// leased anew, or whose updates failed, is read again from its oldest
// entry (entries handled meanwhile are skipped by the pipeline's dedupe).
// At most Config.MaxInflight entries are in hand at once.
func (r *Relay) read(ctx context.Context) {
	defer close(r.readDone)
	cursors := map[int]cursor{}
	var backoff time.Duration
	for ctx.Err() == nil {
		list := r.cursors(cursors)
		if len(list) == 0 {
			sleep(ctx, min(r.tick, 100*time.Millisecond))
			continue
		}
		entries, err := r.cfg.Store.Read(ctx, list, r.cfg.BatchSize, r.cfg.ReadBlock)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 50*time.Millisecond), r.tick)
			r.warnThrottled("read", "reading the bot's queue failed; retrying", "err", err, "retry_in", backoff)
			sleep(ctx, backoff)
			continue
		}
		backoff = 0
		for len(entries) > 0 {
			p := entries[0].Partition
			n := 1
			for n < len(entries) && entries[n].Partition == p {
				n++
			}
			if !r.submit(ctx, p, cursors[p].gen, entries[:n]) {
				return
			}
			c := cursors[p]
			c.after = entries[n-1].ID
			cursors[p] = c
			entries = entries[n:]
		}
	}
}

// cursors lists the partitions to read now with their positions, dropping
// the ones no longer leased, draining, or whose lease may expire within
// the margin.
func (r *Relay) cursors(cur map[int]cursor) []Cursor {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range cur {
		if o, ok := r.owned[p]; !ok || o.draining {
			delete(cur, p)
		}
	}
	var list []Cursor
	for p, o := range r.owned {
		if o.draining || now.After(o.validUntil.Add(-r.margin)) {
			continue
		}
		if at, ok := r.rewinds[p]; ok {
			if now.Before(at) {
				continue
			}
			delete(r.rewinds, p)
			cur[p] = cursor{after: Start, gen: o.gen}
		}
		c, ok := cur[p]
		if !ok || c.gen != o.gen {
			c = cursor{after: Start, gen: o.gen}
			cur[p] = c
		}
		list = append(list, Cursor{Partition: p, After: c.after})
	}
	return list
}

// submit hands a partition's entries to the Sink, each chat's updates as
// one group whose outcome is acknowledged on its own, so a slow chat holds
// up the acknowledgement of its own updates only. An entry that does not
// decode is logged, counted and acknowledged so it never holds the
// partition up. Entries of a partition no longer read (given up, draining,
// leased anew: gen) are left in the queue for its owner. False when ctx
// ended or the Sink refused (Stop).
func (r *Relay) submit(ctx context.Context, part int, gen uint64, entries []Entry) bool {
	if err := r.slots.acquire(ctx, len(entries)); err != nil {
		return false
	}
	r.mu.Lock()
	o, ok := r.owned[part]
	if !ok || o.draining || o.gen != gen {
		r.mu.Unlock()
		r.slots.release(len(entries))
		return true
	}
	r.inflight[part] += len(entries)
	r.mu.Unlock()

	type group struct {
		ids     []string
		updates []*messenger.Update
	}
	var groups []*group
	byChat := map[messenger.ChatKey]*group{}
	var bad []string
	for _, e := range entries {
		u, err := r.decode(e.Data)
		if err != nil {
			r.skipped.Add(1)
			r.log.Error("undecodable entry in the bot's queue skipped", "partition", part, "entry", e.ID, "err", err)
			bad = append(bad, e.ID)
			continue
		}
		g := byChat[u.Chat]
		if g == nil {
			g = &group{}
			byChat[u.Chat] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, e.ID)
		g.updates = append(g.updates, u)
	}
	if len(bad) > 0 {
		r.pendingGroups.Add(1)
		r.done <- done{part: part, ids: bad}
	}
	for i, g := range groups {
		wait, err := r.cfg.Sink.Submit(ctx, g.updates)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Debug("handing queued updates over failed; they stay queued", "err", err)
			}
			// The groups not submitted stay queued; they are not in hand.
			n := 0
			for _, g := range groups[i:] {
				n += len(g.ids)
			}
			r.mu.Lock()
			r.inflight[part] -= n
			r.mu.Unlock()
			r.slots.release(n)
			return false
		}
		r.pendingGroups.Add(1)
		go func() { r.done <- done{part: part, ids: g.ids, err: wait()} }()
	}
	return true
}

// decode reads one entry, which must be an update of this bot.
func (r *Relay) decode(data []byte) (*messenger.Update, error) {
	var u messenger.Update
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, err
	}
	if u.Chat.Platform != r.cfg.Platform || u.Chat.Bot != r.cfg.Bot || u.Chat.ID == "" {
		return nil, fmt.Errorf("update of chat %q is not one of this bot", u.Chat.String())
	}
	return &u, nil
}

// ack acknowledges the groups handled, as they finish (whatever their
// partition or order), those that finished together in one round trip; a
// group that failed leaves its partition to be read again after
// RetryDelay. It returns once every group submitted before Stop finished
// and was acknowledged.
func (r *Relay) ack() {
	defer close(r.ackDone)
	for {
		var first done
		select {
		case first = <-r.done:
		case <-r.ackQuit:
			if r.pendingGroups.Load() == 0 {
				return
			}
			first = <-r.done
		}
		outcomes := []done{first}
	more:
		for len(outcomes) < maxAckBatch {
			select {
			case d := <-r.done:
				outcomes = append(outcomes, d)
			default:
				break more
			}
		}
		r.acknowledge(outcomes)
		r.pendingGroups.Add(-int64(len(outcomes)))
	}
}

// acknowledge removes the entries of the outcomes that succeeded from the
// queue and releases all of them from the entries in hand.
func (r *Relay) acknowledge(outcomes []done) {
	ids := map[int][]string{}
	n := 0
	var failed []int
	for _, d := range outcomes {
		if d.err != nil {
			r.log.Debug("queued updates failed; their partition is read again", "partition", d.part, "err", d.err)
			failed = append(failed, d.part)
			continue
		}
		ids[d.part] = append(ids[d.part], d.ids...)
		n += len(d.ids)
	}
	if n > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
		err := r.cfg.Store.Ack(ctx, ids)
		cancel()
		switch {
		case err == nil:
			r.pending.Add(-int64(n))
		case !errors.Is(err, context.Canceled):
			r.warnThrottled("ack", "acknowledging handled updates failed; they are read again and skipped as handled", "err", err)
			for p := range ids {
				failed = append(failed, p)
			}
		}
	}
	total := 0
	kick := false
	r.mu.Lock()
	for _, p := range failed {
		r.rewinds[p] = time.Now().Add(r.cfg.RetryDelay)
	}
	for _, d := range outcomes {
		total += len(d.ids)
		r.inflight[d.part] -= len(d.ids)
		if r.inflight[d.part] <= 0 {
			delete(r.inflight, d.part)
			if o, ok := r.owned[d.part]; ok && o.draining {
				kick = true
			}
		}
	}
	r.mu.Unlock()
	r.slots.release(total)
	if kick {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}
