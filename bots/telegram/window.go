package telegram

import (
	"context"
	"sync"
	"time"
)

// maxBatchesInFlight bounds how many fetched batches wait for the pipeline
// at once when polling is pipelined (one goroutine each).
const maxBatchesInFlight = 16

// window tracks, for pipelined long polling, the updates fetched but not yet
// confirmed: getUpdates is called with the lowest of them as its offset (so
// Telegram confirms only what was handled) and returns them again with the
// newer ones; take keeps only the updates not already being handled.
type window struct {
	mu       sync.Mutex
	inflight map[int]bool      // submitted, not finished
	handled  map[int]bool      // finished, above the lowest unfinished id
	retryAt  map[int]time.Time // failed: taken again after this time
	next     int               // one past the highest update id seen
	batches  int               // batches submitted, not finished
	changed  chan struct{}     // closed (and replaced) when a batch finishes
	failures int               // batches failed in a row, for the backoff
}

func newWindow() *window {
	return &window{inflight: map[int]bool{}, handled: map[int]bool{}, retryAt: map[int]time.Time{}, changed: make(chan struct{})}
}

// offset is the getUpdates offset: the lowest update not yet handled, or one
// past the highest seen when everything seen was handled.
func (w *window) offset() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.offsetLocked()
}

func (w *window) offsetLocked() int {
	low := w.next
	for id := range w.inflight {
		low = min(low, id)
	}
	for id := range w.retryAt {
		low = min(low, id)
	}
	for id := range w.handled {
		if id < low {
			delete(w.handled, id) // confirmed by the next getUpdates
		}
	}
	return low
}

// busy reports whether the window holds updates that Telegram will return
// again (so a long poll would return at once) and how many batches are out,
// with the channel that closes at the next change (take it before acting
// on the answer, so a change in between is not missed).
func (w *window) busy() (pending bool, batches int, changed <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.inflight)+len(w.retryAt) > 0, w.batches, w.changed
}

// take returns the updates of raw that are neither being handled, nor
// handled, nor waiting for their retry time, and marks them in flight.
func (w *window) take(raw []rawUpdate, now time.Time) []rawUpdate {
	w.mu.Lock()
	defer w.mu.Unlock()
	var fresh []rawUpdate
	for _, u := range raw {
		id := u.id
		w.next = max(w.next, id+1)
		if w.inflight[id] || w.handled[id] {
			continue
		}
		if at, ok := w.retryAt[id]; ok {
			if now.Before(at) {
				continue
			}
			delete(w.retryAt, id)
		}
		w.inflight[id] = true
		fresh = append(fresh, u)
	}
	if len(fresh) > 0 {
		w.batches++
	}
	return fresh
}

// finish records a submitted batch's outcome: handled, or failed (its
// updates are taken again after retry) or abandoned (stopping: neither).
// Only an own failure (not an outage of a backing service) counts toward
// failuresInARow.
func (w *window) finish(ids []int, failed bool, retry time.Duration, now time.Time, ownFailure bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		delete(w.inflight, id)
		if failed {
			w.retryAt[id] = now.Add(retry)
		} else {
			w.handled[id] = true
		}
	}
	switch {
	case failed && ownFailure:
		w.failures++
	case !failed:
		w.failures = 0
	}
	w.batches--
	close(w.changed)
	w.changed = make(chan struct{})
}

// retryNow makes those of ids still waiting for their retry time due at
// once (their backing service answers again) and wakes the poll loop.
func (w *window) retryNow(ids []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	woke := false
	for _, id := range ids {
		if _, ok := w.retryAt[id]; ok {
			w.retryAt[id] = time.Time{}
			woke = true
		}
	}
	if woke {
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

// failuresInARow is how many batches failed since the last success.
func (w *window) failuresInARow() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failures
}

// wait blocks until changed (from busy) closes, d passes or ctx ends.
func wait(ctx context.Context, changed <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-ctx.Done():
	}
}

// idle waits until no batch is out or d passes.
func (w *window) idle(d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		_, n, changed := w.busy()
		if n == 0 || time.Now().After(deadline) {
			return
		}
		wait(context.Background(), changed, time.Until(deadline))
	}
}
