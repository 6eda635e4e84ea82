// Package relay shares one bot's long polling between the processes of a
// deployment: exactly one process at a time holds the bot's poller lease
// in Redis and polls the platform; it appends every update to a durable
// queue on Redis (streams, partitioned by chat) and only then lets the
// adapter acknowledge it to the platform. Every process handles the queue:
// each partition is leased by one process at a time, the partitions
// balanced over the live processes, and an entry is removed only after it
// was handled, so a process that dies mid-handling loses nothing: the next
// owner of the partition reads the entry again and the pipeline's dedupe
// skips what was handled already.
//
// The other processes stand by: they try to take the lease every fifth of
// its TTL, so a poller that stops (its lease is released at once) or dies
// (its lease expires) is replaced within about the lease's TTL. A holder
// that cannot renew its lease stops polling before the lease can expire,
// so two processes never poll one bot at once.
package relay

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// PollerLease is the name of a bot's poller lease.
const PollerLease = "lease"

// Relay is one bot's shared long polling in one process: the poller (while
// it holds the lease) and the consumer of the partitions it leases.
type Relay struct {
	cfg    Config
	log    *slog.Logger
	tick   time.Duration // lease renewal period: LeaseTTL / 3
	margin time.Duration // stop using a lease this long before it may expire

	mu          sync.Mutex
	owned       map[int]ownedPart    // partitions leased by this process
	gen         uint64               // counter of partition acquisitions
	rewinds     map[int]time.Time    // partitions to read again from Start, from when
	holder      string               // the poller lease's holder as last seen
	polling     bool                 // this process polls
	pollErr     error                // Poll ended with it: this process polls no more
	inflight    map[int]int          // entries in hand (read, not yet acknowledged) by partition
	pending     atomic.Int64         // entries in the queue at the last look
	skipped     atomic.Int64         // undecodable entries skipped
	errLogged   map[string]time.Time // throttles repeated Redis warnings
	errLoggedMu sync.Mutex

	submitMu   sync.Mutex         // orders the hand-overs to the Sink; guards parts
	parts      map[int]*partState // the consumer's position in each partition it reads
	wake       chan struct{}      // a fast partition is to be read again
	handedOver atomic.Int64       // entries the poller handed over without reading them back
	// handed is signalled (under submitMu) when an append of the poller
	// ended (handed over, or failed): a read that found entries waits for
	// the appends in flight before it, so the hand-over decides first.
	handed *sync.Cond

	appendMu  sync.Mutex
	appendSeq uint64          // counter of the poller's appends
	appending map[uint64]bool // appends in flight (begun, not yet handed over); under appendMu, removed under submitMu too

	slots         *semaphore    // bounds the entries in hand (MaxInflight)
	done          chan done     // outcomes of the groups handed to the Sink
	pendingGroups atomic.Int64  // groups handed to the Sink, not yet acknowledged
	kick          chan struct{} // a draining partition was drained: balance now
	ackQuit       chan struct{} // closed once the reader stopped

	cancelPoll, cancelRead, cancelBalance context.CancelFunc
	pollDone, readDone, ackDone, balDone  chan struct{}
	stopOnce                              sync.Once
	stopErr                               error
}

// ownedPart is a partition this process leases.
type ownedPart struct {
	validUntil time.Time // the lease may expire after this
	gen        uint64    // changes when the partition is acquired anew
	// draining is set once the partition is no longer assigned to this
	// process: it is not read any more and is given up once the entries
	// in hand are acknowledged (or after the lease TTL).
	draining   bool
	drainSince time.Time
}

// New checks cfg and returns a Relay; call Start.
func New(cfg Config) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Relay{
		cfg: cfg, log: cfg.Logger.With("platform", string(cfg.Platform), "bot", displayBot(cfg.Bot)),
		tick: cfg.LeaseTTL / 3, margin: cfg.LeaseTTL / 3,
		owned: map[int]ownedPart{}, rewinds: map[int]time.Time{}, errLogged: map[string]time.Time{},
		inflight: map[int]int{}, slots: newSemaphore(cfg.MaxInflight),
		done: make(chan done, 256), kick: make(chan struct{}, 1), ackQuit: make(chan struct{}),
		parts: map[int]*partState{}, wake: make(chan struct{}, 1), appending: map[uint64]bool{},
	}
	r.handed = sync.NewCond(&r.submitMu)
	return r, nil
}

func displayBot(bot string) string {
	if bot == "" {
		return "default"
	}
	return bot
}

// Start joins the bot's members, takes this process's share of the
// partitions (one round trip to Redis, whose failure is only logged: it is
// tried again every third of the lease) and starts the poller's lease
// loop, the reader and the acknowledger.
func (r *Relay) Start(ctx context.Context) error {
	base := context.WithoutCancel(ctx)
	hurried := r.balance(ctx)
	var balCtx, readCtx, pollCtx context.Context
	balCtx, r.cancelBalance = context.WithCancel(base)
	readCtx, r.cancelRead = context.WithCancel(base)
	pollCtx, r.cancelPoll = context.WithCancel(base)
	r.balDone, r.readDone, r.ackDone, r.pollDone = make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	go r.balanceLoop(balCtx, hurried)
	go r.read(readCtx)
	go r.ack()
	go r.pollLoop(pollCtx)
	return nil
}

// Stop stops polling (giving the poller lease up at once, so a standby
// takes over), stops reading, waits until ctx ends for the updates read to
// be handled and acknowledged, then gives the partitions up and leaves the
// members. Entries not acknowledged by then are handled by the partitions'
// next owners. Calls after the first return its result.
func (r *Relay) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { r.stopErr = r.stop(ctx) })
	return r.stopErr
}

func (r *Relay) stop(ctx context.Context) error {
	var errs []error
	r.cancelPoll()
	errs = append(errs, wait(ctx, r.pollDone, "poller"))
	r.cancelRead()
	errs = append(errs, wait(ctx, r.readDone, "reader"))
	close(r.ackQuit)
	errs = append(errs, wait(ctx, r.ackDone, "handling of the updates read"))
	r.cancelBalance()
	<-r.balDone
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.LeaseTTL)
	defer cancel()
	r.mu.Lock()
	var names []string
	for p := range r.owned {
		names = append(names, PartitionLease(p))
	}
	r.owned = map[int]ownedPart{}
	r.mu.Unlock()
	if _, err := r.cfg.Store.AcquireLeases(rctx, nil, names, r.cfg.Holder, r.cfg.LeaseTTL); err != nil {
		r.warnThrottled("release-parts", "giving the queue partitions up failed; they are taken over once their leases expire", "err", err)
	}
	if err := r.cfg.Store.Leave(rctx, r.cfg.Holder); err != nil {
		r.warnThrottled("leave", "leaving the queue's members failed; the membership expires by itself", "err", err)
	}
	return errors.Join(errs...)
}

// wait waits for done until ctx ends.
func wait(ctx context.Context, done <-chan struct{}, what string) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("relay: stop: " + what + " cut short: " + ctx.Err().Error())
	}
}

// Status is a Relay's view of its bot's shared polling, for /readyz and
// /metrics.
type Status struct {
	// Holder is the process polling the bot as last seen ("" when none).
	Holder string
	// Polling is set when this process polls the bot.
	Polling bool
	// PollError is why Poll ended in this process (it polls no more).
	PollError error
	// Pending is how many updates the bot's queue held at the last look
	// (every third of the lease), all partitions together.
	Pending int64
	// Partitions is how many of the queue's partitions this process handles.
	Partitions int
	// Skipped counts the undecodable entries this process skipped.
	Skipped int64
	// HandedOver counts the entries this process's poller handed to its
	// own consumer without reading them back from the queue.
	HandedOver int64
}

// Status returns the current Status.
func (r *Relay) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Status{Holder: r.holder, Polling: r.polling, PollError: r.pollErr, Pending: r.pending.Load(),
		Partitions: len(r.owned), Skipped: r.skipped.Load(), HandedOver: r.handedOver.Load()}
}

// Holder is this process's name in the leases.
func (r *Relay) Holder() string { return r.cfg.Holder }

// Partition returns the queue partition of a chat: FNV-1a of its id modulo
// n, stable across processes and restarts.
func Partition(chatID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(chatID))
	return int(h.Sum32() % uint32(n))
}

// warnThrottled logs a warning at most once a minute per key (a Redis
// outage would otherwise log every third of the lease), debug otherwise;
// debug too while Config.Outages knows a backing service down.
func (r *Relay) warnThrottled(key, msg string, args ...any) {
	if r.outage() != nil {
		r.log.Debug(msg, args...)
		return
	}
	r.errLoggedMu.Lock()
	last, ok := r.errLogged[key]
	now := time.Now()
	loud := !ok || now.Sub(last) > time.Minute
	if loud {
		r.errLogged[key] = now
	}
	r.errLoggedMu.Unlock()
	if loud {
		r.log.Warn(msg, args...)
	} else {
		r.log.Debug(msg, args...)
	}
}

// outageCheckTimeout bounds the check of the backing services.
const outageCheckTimeout = 2 * time.Second

// outage returns Config.Outages' channel: non-nil while a backing service
// is down.
func (r *Relay) outage() <-chan struct{} {
	if r.cfg.Outages == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), outageCheckTimeout)
	defer cancel()
	return r.cfg.Outages.Outage(ctx)
}

// semaphore bounds the entries in hand. A hand-over bigger than the
// capacity takes all of it (so it never waits for ever); whoever acquired
// slots releases exactly as many, never more.
type semaphore struct{ ch chan struct{} }

func newSemaphore(n int) *semaphore { return &semaphore{ch: make(chan struct{}, n)} }

// acquire takes n slots (at most the capacity), waiting until ctx ends,
// and returns how many it took (none when ctx ended).
func (s *semaphore) acquire(ctx context.Context, n int) (int, error) {
	n = min(n, cap(s.ch))
	for i := range n {
		select {
		case s.ch <- struct{}{}:
		case <-ctx.Done():
			s.release(i)
			return 0, ctx.Err()
		}
	}
	return n, nil
}

// tryAcquire takes n slots (at most the capacity) if that many are free
// now, without waiting, and returns how many it took: all or none.
func (s *semaphore) tryAcquire(n int) int {
	n = min(n, cap(s.ch))
	for i := range n {
		select {
		case s.ch <- struct{}{}:
		default:
			s.release(i)
			return 0
		}
	}
	return n
}

// release gives back n slots acquired before.
func (s *semaphore) release(n int) {
	for range n {
		<-s.ch
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var _ messenger.Sink = queueSink{}
