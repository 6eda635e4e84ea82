package relay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// slots is the group's share of the slots its submit acquired (the
	// shares of a submit's groups sum to what it acquired, which is less
	// than its entries when they outnumber Config.MaxInflight).
	slots int
}

// ackTimeout bounds one acknowledgement.
const ackTimeout = 5 * time.Second

// maxAckBatch bounds the outcomes acknowledged in one round trip.
const maxAckBatch = 1024

// ackLinger is how long the acknowledger waits for more outcomes (up to
// BatchSize entries) before it acknowledges those it has: chats finish one
// by one, and one XDEL per chat would cost a round trip per update. The
// entries stay in the queue that much longer (a partition move waits for
// it too); handling is not delayed.
const ackLinger = 20 * time.Millisecond

// partState is the consumer's position in one partition it reads
// (Relay.parts, under submitMu).
type partState struct {
	gen uint64 // the partition's acquisition (ownedPart.gen)
	// after is the last entry taken (handed to the Sink, or found taken
	// already): the reader reads after it.
	after string
	// caught is set once a read found nothing more after `after`.
	caught bool
	// fast is set while the poller hands the partition's entries over
	// itself: the reader does not wait on it, and only looks at it every
	// third of the lease for entries appended by another process.
	fast bool
	// appended is the last entry this process's poller appended to the
	// partition.
	appended string
}

// readCursor is a Cursor with the acquisition it was taken for.
type readCursor struct {
	Cursor
	gen uint64
}

// read reads the leased partitions in batches and hands their updates to
// the Sink, in each partition's order, until ctx ends. A partition leased
// anew, or whose updates failed, is read again from its oldest entry
// (entries handled meanwhile are skipped by the pipeline's dedupe). The
// partitions the poller of this process hands over itself (fast) are only
// swept every third of the lease. At most Config.MaxInflight entries are
// in hand at once.
func (r *Relay) read(ctx context.Context) {
	defer close(r.readDone)
	var backoff time.Duration
	lastSweep := time.Now()
	for ctx.Err() == nil {
		sweep := time.Since(lastSweep) >= r.tick
		list, waiting := r.readList(sweep)
		if len(list) == 0 {
			// Nothing to read, or only fast partitions: wait for the next
			// sweep, a partition to read again (a retry's delay is over,
			// the poller gave one back, one was acquired).
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
			case <-time.After(min(max(time.Until(lastSweep.Add(r.tick)), time.Millisecond), 250*time.Millisecond)):
			}
			continue
		}
		if sweep {
			lastSweep = time.Now()
		}
		block := r.cfg.ReadBlock
		if !waiting {
			block = 0 // a sweep of fast partitions only: do not wait
		}
		cursors := make([]Cursor, len(list))
		for i, c := range list {
			cursors[i] = c.Cursor
		}
		entries, err := r.cfg.Store.Read(ctx, cursors, r.cfg.BatchSize, block)
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
		if !r.take(ctx, list, entries) {
			return
		}
	}
}

// readList lists the partitions to read now with their positions: the
// leased ones, not draining, whose lease cannot expire within the margin,
// not waiting for a retry; the fast ones only when sweeping. waiting
// reports a partition that is not fast among them (a read may then wait
// for entries).
func (r *Relay) readList(sweep bool) (list []readCursor, waiting bool) {
	now := time.Now()
	r.submitMu.Lock()
	defer r.submitMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range r.parts {
		if o, ok := r.owned[p]; !ok || o.draining {
			delete(r.parts, p)
		}
	}
	for p, o := range r.owned {
		if o.draining || now.After(o.validUntil.Add(-r.margin)) {
			continue
		}
		st := r.parts[p]
		if at, ok := r.rewinds[p]; ok {
			if now.Before(at) {
				continue
			}
			delete(r.rewinds, p)
			st = nil
		}
		if st == nil || st.gen != o.gen {
			st = &partState{gen: o.gen, after: Start}
			r.parts[p] = st
		}
		if !r.polling {
			st.fast = false // nothing is handed over: read
		}
		if st.fast && !sweep {
			continue
		}
		waiting = waiting || !st.fast
		list = append(list, readCursor{Cursor{Partition: p, After: st.after}, o.gen})
	}
	return list, waiting
}

// take hands the entries read over to the Sink, partition by partition,
// skipping those taken already (by the poller's hand-over), and records
// the partitions found caught up. Entries it has not taken yet wait for
// the poller's appends in flight first: they may be the poller's own, and
// its hand-over decides (whichever of the two got r.submitMu first did
// before, so a read in flight took a batch the poller could have handed
// over, at random). False when ctx ended or the Sink refused (Stop).
func (r *Relay) take(ctx context.Context, list []readCursor, entries []Entry) bool {
	r.submitMu.Lock()
	defer r.submitMu.Unlock()
	if !r.waitAppends(ctx, entries) {
		return false
	}
	for _, c := range list {
		var mine []Entry
		for _, e := range entries {
			if e.Partition == c.Partition {
				mine = append(mine, e)
			}
		}
		if !r.takePartition(ctx, c, mine) {
			return false
		}
	}
	return true
}

// takePartition hands over the entries read of one partition (those after
// the last one taken) and records whether the partition was found caught
// up. Waiting for in-flight slots, it lets r.submitMu go meanwhile (the
// poller's hand-overs go on, leaving their entries to the reader when no
// slot is free). r.submitMu is held. False when ctx ended or the Sink
// refused (Stop).
func (r *Relay) takePartition(ctx context.Context, c readCursor, mine []Entry) bool {
	caught := len(mine) < r.cfg.BatchSize
	st := r.parts[c.Partition]
	if st == nil || st.gen != c.gen {
		return true // given up or leased anew meanwhile
	}
	mine = untaken(mine, st.after)
	if len(mine) > 0 {
		acquired, released, err := r.readerSlots(ctx, len(mine))
		if err != nil {
			return false
		}
		if released { // what r.submitMu guards may have changed meanwhile
			if st = r.parts[c.Partition]; st == nil || st.gen != c.gen {
				r.slots.release(acquired)
				return true
			}
			mine = untaken(mine, st.after)
			surplus := acquired - min(len(mine), cap(r.slots.ch))
			r.slots.release(surplus)
			acquired -= surplus
		}
		if len(mine) > 0 {
			taken, ok := r.submitRead(ctx, c, mine, acquired)
			if !ok {
				return false
			}
			if !taken {
				return true
			}
			st.after = mine[len(mine)-1].ID
			if !caught {
				// A full batch not handed over (appended by another
				// process): read on, not only at the next sweep.
				st.fast = false
			}
		}
	}
	st.caught = caught
	r.mu.Lock()
	polling := r.polling
	r.mu.Unlock()
	// Caught up with everything this process's poller appended: it hands
	// the partition's next entries over itself.
	if caught && polling && (st.appended == "" || compareIDs(st.after, st.appended) >= 0) {
		st.fast = true
	}
	return true
}

// untaken drops the entries up to after (taken already).
func untaken(entries []Entry, after string) []Entry {
	for len(entries) > 0 && compareIDs(entries[0].ID, after) <= 0 {
		entries = entries[1:]
	}
	return entries
}

// readerSlots acquires the in-flight slots of n entries read (see
// semaphore.acquire): at once when they are free, else waiting without
// r.submitMu, so neither the poller nor its hand-overs wait behind the
// reader. r.submitMu is held (released reports it was let go meanwhile).
// An error when ctx ended: none acquired.
func (r *Relay) readerSlots(ctx context.Context, n int) (acquired int, released bool, err error) {
	if acquired = r.slots.tryAcquire(n); acquired > 0 {
		return acquired, false, nil
	}
	r.submitMu.Unlock()
	acquired, err = r.slots.acquire(ctx, n)
	r.submitMu.Lock()
	return acquired, true, err
}

// submitRead decodes the entries read of one partition and hands them to
// the Sink with the slots acquired for them (see submit); the
// undecodable ones are skipped.
func (r *Relay) submitRead(ctx context.Context, c readCursor, mine []Entry, acquired int) (taken, alive bool) {
	ids := make([]string, 0, len(mine))
	updates := make([]*messenger.Update, 0, len(mine))
	var bad []string
	for _, e := range mine {
		u, err := r.decode(e.Data)
		if err != nil {
			r.skipped.Add(1)
			r.log.Error("undecodable entry in the bot's queue skipped", "partition", c.Partition, "entry", e.ID, "err", err)
			bad = append(bad, e.ID)
			continue
		}
		ids, updates = append(ids, e.ID), append(updates, u)
	}
	return r.submit(ctx, c.Partition, c.gen, ids, updates, bad, false, acquired)
}

// handOver is the poller's fast path: the entries it just appended (ID
// and Prev set, append seq) of the partitions this process reads, whose
// Prev is the last entry the consumer took (so nothing lies between),
// go to the Sink at once instead of being read back (the acknowledgement
// is the same: once handled). Other entries are left to the readers. It
// ends the append (waking the reads that wait for it). r.submitMu is
// taken here.
func (r *Relay) handOver(ctx context.Context, seq uint64, entries []Entry, updates []*messenger.Update) {
	r.submitMu.Lock()
	defer r.submitMu.Unlock()
	defer r.endAppend(seq)
	now := time.Now()
	done := map[int]bool{}
	for i, e := range entries {
		p := e.Partition
		if done[p] {
			continue
		}
		done[p] = true
		var ids []string
		var ups []*messenger.Update
		for j := i; j < len(entries); j++ {
			if entries[j].Partition == p {
				ids, ups = append(ids, entries[j].ID), append(ups, updates[j])
			}
		}
		st := r.parts[p]
		if st != nil {
			st.appended = ids[len(ids)-1]
		}
		r.mu.Lock()
		o, owned := r.owned[p]
		_, rewinding := r.rewinds[p]
		ok := owned && !o.draining && !rewinding && now.Before(o.validUntil.Add(-r.margin)) && st != nil && st.gen == o.gen
		r.mu.Unlock()
		switch {
		case !ok:
			if st != nil { // the reader must look at it again
				r.leaveToReader(st)
			}
		case e.Prev != "" && st.after == e.Prev:
			// The entry before them is the last one taken: every entry up
			// to it was taken, and none lies between (whether a read found
			// the partition caught up since does not matter; it may be
			// waiting in a blocking read that would only take these).
			// No waiting for slots here (under r.submitMu, holding up the
			// poller, the reader and every hand-over behind a slow Sink):
			// with none free, the reader takes the entries from the queue
			// once some are.
			acquired := r.slots.tryAcquire(len(ids))
			if acquired == 0 {
				r.leaveToReader(st)
				continue
			}
			taken, alive := r.submit(ctx, p, st.gen, ids, ups, nil, true, acquired)
			if !alive {
				return
			}
			if taken {
				st.after = ids[len(ids)-1]
				st.fast = true
			}
		case compareIDs(ids[len(ids)-1], st.after) == 0 && st.caught:
			// The reader took them first, and nothing else is behind:
			// the next ones can be handed over.
			st.fast = true
		case compareIDs(ids[len(ids)-1], st.after) <= 0:
			// A read took them already.
		default:
			// Another process appended in between (or a read is behind):
			// the reader takes the partition back.
			r.leaveToReader(st)
		}
	}
}

// leaveToReader gives a partition the poller hands over back to the
// reader, which reads its entries from the queue. r.submitMu is held.
func (r *Relay) leaveToReader(st *partState) {
	if !st.fast {
		return
	}
	st.fast = false
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// beginAppend records an append of the poller in flight and returns its
// seq; handOver (or endAppend, when the append failed) ends it.
func (r *Relay) beginAppend() uint64 {
	r.appendMu.Lock()
	defer r.appendMu.Unlock()
	r.appendSeq++
	r.appending[r.appendSeq] = true
	return r.appendSeq
}

// endAppend ends an append and wakes the reads waiting for it.
// r.submitMu is held.
func (r *Relay) endAppend(seq uint64) {
	r.appendMu.Lock()
	delete(r.appending, seq)
	r.appendMu.Unlock()
	r.handed.Broadcast()
}

// waitAppends waits, when the entries read include some not taken yet,
// until the poller's appends begun before now ended (an entry read was
// stored by one of them at the latest): their hand-over may take the
// entries, and must decide before the reader does. r.submitMu is held
// (released while waiting). False when ctx ended.
func (r *Relay) waitAppends(ctx context.Context, entries []Entry) bool {
	fresh := false
	for _, e := range entries {
		if st := r.parts[e.Partition]; st == nil || compareIDs(e.ID, st.after) > 0 {
			fresh = true
			break
		}
	}
	if !fresh {
		return true
	}
	r.appendMu.Lock()
	upTo := r.appendSeq
	r.appendMu.Unlock()
	inFlight := func() bool {
		r.appendMu.Lock()
		defer r.appendMu.Unlock()
		for seq := range r.appending {
			if seq <= upTo {
				return true
			}
		}
		return false
	}
	if !inFlight() {
		return true
	}
	stop := context.AfterFunc(ctx, func() {
		r.submitMu.Lock()
		r.handed.Broadcast()
		r.submitMu.Unlock()
	})
	defer stop()
	for inFlight() {
		if ctx.Err() != nil {
			return false
		}
		r.handed.Wait()
	}
	return ctx.Err() == nil
}

// compareIDs compares two stream ids ("ms-seq").
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am != bm:
		return cmp.Compare(am, bm)
	default:
		return cmp.Compare(as, bs)
	}
}

func splitID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}

// submit hands a partition's updates (ids[i] is updates[i]'s entry) to
// the Sink with the in-flight slots acquired for them (see
// semaphore.acquire; submit releases them when it does not hand the
// updates over), each chat's updates as one group whose outcome is
// acknowledged on its own, so a slow chat holds up the acknowledgement of
// its own updates only; the undecodable entries (bad) are acknowledged at
// once so they never hold the partition up. Updates of a partition no
// longer read (given up, draining, leased anew: gen) are left in the
// queue for its owner (taken false). handed counts them in HandedOver
// (the poller's hand-over), before the Sink sees them. alive is false
// when ctx ended or the Sink refused (Stop). r.submitMu is held.
func (r *Relay) submit(ctx context.Context, part int, gen uint64, ids []string, updates []*messenger.Update, bad []string, handed bool, acquired int) (taken, alive bool) {
	n := len(ids) + len(bad)
	r.mu.Lock()
	o, ok := r.owned[part]
	if !ok || o.draining || o.gen != gen {
		r.mu.Unlock()
		r.slots.release(acquired)
		return false, true
	}
	r.inflight[part] += n
	r.mu.Unlock()
	if handed {
		r.handedOver.Add(int64(len(ids)))
	}

	type group struct {
		ids     []string
		updates []*messenger.Update
		slots   int // its share of acquired
	}
	var groups []*group
	byChat := map[messenger.ChatKey]*group{}
	for i, u := range updates {
		g := byChat[u.Chat]
		if g == nil {
			g = &group{}
			byChat[u.Chat] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, ids[i])
		g.updates = append(g.updates, u)
	}
	// Each group carries its share of the slots acquired, released when
	// it is acknowledged: the shares sum to acquired.
	left := acquired
	share := func(k int) int {
		s := min(k, left)
		left -= s
		return s
	}
	badSlots := share(len(bad))
	for _, g := range groups {
		g.slots = share(len(g.ids))
	}
	if len(bad) > 0 {
		r.pendingGroups.Add(1)
		r.done <- done{part: part, ids: bad, slots: badSlots}
	}
	for i, g := range groups {
		wait, err := r.cfg.Sink.Submit(ctx, g.updates)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Debug("handing queued updates over failed; they stay queued", "err", err)
			}
			// The groups not submitted stay queued; they are not in hand.
			left, slots := 0, 0
			for _, g := range groups[i:] {
				left += len(g.ids)
				slots += g.slots
			}
			r.mu.Lock()
			kick := r.dropInflight(part, left)
			r.mu.Unlock()
			r.slots.release(slots)
			if kick {
				r.kickBalance()
			}
			if handed {
				r.handedOver.Add(-int64(left))
			}
			return true, false
		}
		r.pendingGroups.Add(1)
		go func() { r.done <- done{part: part, ids: g.ids, err: wait(), slots: g.slots} }()
	}
	return true, true
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
		n := len(first.ids)
		linger := time.NewTimer(ackLinger)
	more:
		for len(outcomes) < maxAckBatch && n < r.cfg.BatchSize {
			select {
			case d := <-r.done:
				outcomes = append(outcomes, d)
				n += len(d.ids)
			case <-linger.C:
				break more
			}
		}
		linger.Stop()
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
	slots := 0
	kick := false
	r.mu.Lock()
	for _, p := range failed {
		r.rewinds[p] = time.Now().Add(r.cfg.RetryDelay)
	}
	for _, d := range outcomes {
		slots += d.slots
		if r.dropInflight(d.part, len(d.ids)) {
			kick = true
		}
	}
	r.mu.Unlock()
	r.slots.release(slots)
	if kick {
		r.kickBalance()
	}
}

// dropInflight takes n entries of part out of the entries in hand; true
// when that drained a draining partition (balance now). r.mu is held.
func (r *Relay) dropInflight(part, n int) bool {
	r.inflight[part] -= n
	if r.inflight[part] > 0 {
		return false
	}
	delete(r.inflight, part)
	o, ok := r.owned[part]
	return ok && o.draining
}

// kickBalance asks the balance loop to balance now.
func (r *Relay) kickBalance() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}
