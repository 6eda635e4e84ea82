package dispatch

import "sync/atomic"

// Stats are the dispatcher's live counters, read by metrics and tests.
type Stats struct {
	workers    int
	depth      atomic.Int64
	handledN   atomic.Int64
	failedN    atomic.Int64
	duplicateN atomic.Int64
	retriedN   atomic.Int64
	rejectedN  atomic.Int64
	parkedN    atomic.Int64
	gaveUpN    atomic.Int64
}

func newStats(workers int) *Stats { return &Stats{workers: workers} }

func (s *Stats) queued(n int64) { s.depth.Add(n) }
func (s *Stats) handled()       { s.handledN.Add(1) }
func (s *Stats) failed()        { s.failedN.Add(1) }
func (s *Stats) duplicate()     { s.duplicateN.Add(1) }
func (s *Stats) retried()       { s.retriedN.Add(1) }
func (s *Stats) rejected()      { s.rejectedN.Add(1) }
func (s *Stats) parked()        { s.parkedN.Add(1) }
func (s *Stats) gaveUp()        { s.gaveUpN.Add(1) }

// GivenUp counts updates given up after failing in Config.MaxDeliveries
// deliveries with an unclassified error: acknowledged without a reply.
func (s *Stats) GivenUp() int64 { return s.gaveUpN.Load() }

// QueueDepth is the number of updates waiting for a worker.
func (s *Stats) QueueDepth() int64 { return s.depth.Load() }

// Handled counts updates handled successfully.
func (s *Stats) Handled() int64 { return s.handledN.Load() }

// Failed counts updates that failed after every attempt (or panicked).
func (s *Stats) Failed() int64 { return s.failedN.Load() }

// Duplicates counts updates skipped because they were already taken.
func (s *Stats) Duplicates() int64 { return s.duplicateN.Load() }

// Rejected counts updates that failed for good (the handler reported
// messenger.ErrPermanent): not retried, acknowledged.
func (s *Stats) Rejected() int64 { return s.rejectedN.Load() }

// Parked counts updates parked behind a chat another holder kept
// (acknowledged, handled later from the Gate; see Config.ParkAfter).
func (s *Stats) Parked() int64 { return s.parkedN.Load() }

// Retries counts retry attempts.
func (s *Stats) Retries() int64 { return s.retriedN.Load() }

// Workers is the number of workers (updates handled at once).
func (s *Stats) Workers() int { return s.workers }
