package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// batch is one partition's entries read together, on their way through the
// pipeline: acknowledged (removed from the queue) once all were handled.
type batch struct {
	part int
	ids  []string // every entry's id, the undecodable ones included
	wait func() error
}

// ackTimeout bounds one acknowledgement.
const ackTimeout = 5 * time.Second

// cursor is the reader's position in one partition.
type cursor struct {
	after string
	gen   uint64
}

// read reads the leased partitions in batches and submits their updates
// to the Sink, in each partition's order, until ctx ends; then it closes
// inflight. A partition leased anew, or whose batch failed, is read again
// from its oldest entry (entries handled meanwhile are skipped by the
// pipeline's dedupe).
func (r *Relay) read(ctx context.Context) {
	defer close(r.readDone)
	defer close(r.inflight)
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
			if !r.submit(ctx, p, entries[:n]) {
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
// the ones no longer leased (or whose lease may expire within the margin).
func (r *Relay) cursors(cur map[int]cursor) []Cursor {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range cur {
		if _, ok := r.owned[p]; !ok {
			delete(cur, p)
		}
	}
	var list []Cursor
	for p, o := range r.owned {
		if now.After(o.validUntil.Add(-r.margin)) {
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

// submit decodes a partition's entries and submits the updates; an entry
// that does not decode is logged, counted and acknowledged with the batch
// so it never holds the partition up. False when the Sink refused (Stop).
func (r *Relay) submit(ctx context.Context, part int, entries []Entry) bool {
	b := &batch{part: part, ids: make([]string, len(entries))}
	updates := make([]*messenger.Update, 0, len(entries))
	for i, e := range entries {
		b.ids[i] = e.ID
		u, err := r.decode(e.Data)
		if err != nil {
			r.skipped.Add(1)
			r.log.Error("undecodable entry in the bot's queue skipped", "partition", part, "entry", e.ID, "err", err)
			continue
		}
		updates = append(updates, u)
	}
	if len(updates) > 0 {
		wait, err := r.cfg.Sink.Submit(ctx, updates)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Debug("handing queued updates over failed; they stay queued", "err", err)
			}
			return false
		}
		b.wait = wait
	}
	r.inflight <- b
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

// ack waits for each batch in turn and acknowledges it once handled; a
// batch that failed leaves its partition to be read again after
// RetryDelay. It returns once the reader closed inflight and every batch
// was waited for.
func (r *Relay) ack() {
	defer close(r.ackDone)
	for b := range r.inflight {
		if b.wait != nil {
			if err := b.wait(); err != nil {
				r.log.Debug("queued updates failed; their partition is read again", "partition", b.part, "err", err)
				r.mu.Lock()
				r.rewinds[b.part] = time.Now().Add(r.cfg.RetryDelay)
				r.mu.Unlock()
				continue
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
		err := r.cfg.Store.Ack(ctx, b.part, b.ids)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			r.warnThrottled("ack", "acknowledging handled updates failed; they are read again and skipped as handled", "err", err)
			continue
		}
		r.pending.Add(-int64(len(b.ids)))
	}
}
