package console

import (
	"sync"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// A finished campaign's ledger no longer moves, but counting it is the
// pages' dearest read (an index scan of every row: about 40 ms for 100,000
// rows). finishedStats keeps the counts of campaigns finished a while ago
// for a few minutes, so the list and a finished campaign's page count each
// such ledger once in a while instead of on every view.
const (
	// statsSettle is how long after finishing a campaign's counts are
	// still read afresh (a send in a worker's hands when it was cancelled
	// is recorded within the broadcast lease).
	statsSettle = 5 * time.Minute
	// statsTTL is how long a kept count is used: a client erased since
	// (the ledger row goes with the client) shows within it.
	statsTTL = 10 * time.Minute
	// statsKept bounds the entries; when full, the cache starts afresh.
	statsKept = 4096
)

// finishedStats caches the statistics of campaigns finished more than
// statsSettle ago. It is safe for concurrent use.
type finishedStats struct {
	mu      sync.Mutex
	entries map[int64]statsEntry
	now     func() time.Time
}

type statsEntry struct {
	st  broadcast.Stats
	at  time.Time
	ful bool // full Stats (reasons, rate), not only LedgerCounts' counts
}

func newFinishedStats() *finishedStats {
	return &finishedStats{entries: map[int64]statsEntry{}, now: time.Now}
}

// settled reports whether c's counts can be kept.
func (f *finishedStats) settled(c *broadcast.Campaign) bool {
	return c.State.Final() && c.FinishedAt != nil && f.now().Sub(*c.FinishedAt) > statsSettle
}

// get returns the kept statistics of c (full: with reasons and rate).
func (f *finishedStats) get(c *broadcast.Campaign, full bool) (broadcast.Stats, bool) {
	if !f.settled(c) {
		return broadcast.Stats{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[c.ID]
	if !ok || f.now().Sub(e.at) > statsTTL || (full && !e.ful) {
		return broadcast.Stats{}, false
	}
	return e.st, true
}

// put keeps c's statistics when it finished long enough ago; a full entry
// is not replaced by counts only.
func (f *finishedStats) put(c *broadcast.Campaign, st broadcast.Stats, full bool) {
	if !f.settled(c) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.entries[c.ID]; ok && e.ful && !full && f.now().Sub(e.at) <= statsTTL {
		return
	}
	if len(f.entries) >= statsKept {
		f.entries = map[int64]statsEntry{}
	}
	f.entries[c.ID] = statsEntry{st: st, at: f.now(), ful: full}
}
