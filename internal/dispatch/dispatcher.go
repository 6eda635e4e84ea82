package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// ErrStopped is returned by Deliver after Stop began: the adapter must not
// acknowledge the batch.
var ErrStopped = errors.New("dispatch: stopped")

// Config configures a Dispatcher.
type Config struct {
	// Handler handles each update; required.
	Handler Handler
	// Gate, when set, holds the chat's turn around each attempt so several
	// processes never handle one chat at once, and skips updates handled
	// before (redeliveries); nil relies on this process's per-chat ordering
	// alone and handles every delivery.
	Gate Gate
	// Workers is how many updates are handled at once, each by a worker
	// goroutine that takes the next chat with an update waiting. Default
	// 64 × GOMAXPROCS: a handler mostly waits on Redis, PostgreSQL and the
	// platform, and when one of them stalls, every worker may be waiting;
	// at 2,000 updates/s on 2 CPUs, 32 workers let updates queue for
	// 32-41 ms (p99) in such periods, 128 for 4 ms (docs/BENCHMARKS.md).
	Workers int
	// MaxQueued bounds the updates waiting for a worker, all chats
	// together; Deliver and Submit block while it is reached. Default 16 ×
	// Workers, plus Reserve.
	MaxQueued int
	// Reserve is room added to MaxQueued's default for updates whose
	// producers bound what they hand over themselves: the long-polling
	// relays, whose in-flight limits (relay.Config.MaxInflight) then stop
	// their hand-overs before the queue is full, so that a relay never
	// waits here while it holds its lock and its poller keeps polling.
	// Default 0; ignored when MaxQueued is set.
	Reserve int
	// MaxAttempts is how many times a failing update is tried before Deliver
	// reports the error (the adapter then redelivers later). Default 5.
	MaxAttempts int
	// MaxDeliveries is how many deliveries of one update (each of
	// MaxAttempts attempts) may fail with an error that is neither permanent
	// (messenger.ErrPermanent) nor an outage of a store Outages watches,
	// before the update is given up at its next delivery: marked done,
	// acknowledged without a reply, logged with its chat id and counted
	// (Stats.GivenUp). It bounds what an error nobody classified can hold
	// up: in long polling the offset, for every chat. Default 3.
	MaxDeliveries int
	// RetryBackoff is the first retry delay, doubled per attempt up to
	// MaxBackoff. Defaults 100ms and 5s.
	RetryBackoff, MaxBackoff time.Duration
	// HandleTimeout bounds one attempt. Default 30s.
	HandleTimeout time.Duration
	// TurnTTL is how long a chat's turn stays held if this process dies while
	// handling it (another process, or this one restarted, waits that long
	// for the chat). Default HandleTimeout + 5s; at least HandleTimeout.
	TurnTTL time.Duration
	// Outages, when set, is asked after a failed attempt whether a backing
	// service is down. During an outage the retry waits until the service
	// answers again (or the backoff ends, whichever is first), logs at debug
	// level only (the outage is logged once where it is watched), and an
	// update that runs out of attempts fails with a *messenger.OutageError
	// so the adapter delivers it again as soon as the service is back. Nil:
	// every failure is the update's own.
	Outages Outages
	// ParkAfter is how long an update (with an id) waits for a chat that
	// another holder has before it is parked, when Gate is a Parker: kept
	// in the Gate behind the chat and acknowledged, so the updates of other
	// chats flow on (a long-polling adapter's offset is not pinned by the
	// chat of a process that died), and handled once the chat is free.
	// Default 300ms: until then the update holds the adapter's window (a
	// getUpdates answer is at most 100 updates), so every chat may wait
	// that long once; a parked update is handled at most DrainInterval
	// after its chat is free.
	ParkAfter time.Duration
	// DrainInterval is how often the dispatcher looks for chats with parked
	// updates that it can handle. Default 250ms.
	DrainInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Outages tells a failure caused by a backing service that is down from a
// failure of the update's own (health.Set implements it).
type Outages interface {
	// Outage checks the backing services and returns a channel closed once
	// the one found down answers again; nil when all answer.
	Outage(ctx context.Context) <-chan struct{}
}

func (c *Config) setDefaults() {
	if c.Workers <= 0 {
		c.Workers = 64 * runtime.GOMAXPROCS(0)
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 16*c.Workers + max(c.Reserve, 0)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = 3
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.HandleTimeout <= 0 {
		c.HandleTimeout = 30 * time.Second
	}
	if c.TurnTTL <= 0 {
		c.TurnTTL = c.HandleTimeout + 5*time.Second
	}
	if c.ParkAfter <= 0 {
		c.ParkAfter = 300 * time.Millisecond
	}
	if c.DrainInterval <= 0 {
		c.DrainInterval = 250 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *Config) validate() error {
	if c.Handler == nil {
		return errors.New("dispatch: Config.Handler is required")
	}
	if c.TurnTTL > 0 && c.HandleTimeout > 0 && c.TurnTTL < c.HandleTimeout {
		return fmt.Errorf("dispatch: Config.TurnTTL %s is shorter than HandleTimeout %s", c.TurnTTL, c.HandleTimeout)
	}
	return nil
}

// job is one update on its way through a worker, or (upd nil) a turn at
// a chat's parked updates.
type job struct {
	chat messenger.ChatKey
	upd  *messenger.Update
	done *batch
}

// batch tracks one Deliver call.
type batch struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (b *batch) finish(err error) {
	if err != nil {
		b.mu.Lock()
		b.errs = append(b.errs, err)
		b.mu.Unlock()
	}
	b.wg.Done()
}

// Dispatcher queues updates per chat and hands the chats to a pool of
// workers: one chat's updates are handled one at a time in order, many chats
// in parallel. It implements messenger.Sink.
type Dispatcher struct {
	cfg   Config
	chats *chats
	slots chan struct{} // one per waiting update: MaxQueued bounds them
	stats *Stats
	// failures counts failed deliveries per update (Config.MaxDeliveries).
	failures *failures

	mu       sync.RWMutex // guards stopping against new updates
	stopping bool
	pending  sync.WaitGroup // updates queued or being handled
	workers  sync.WaitGroup
	quit     chan struct{} // closed when the drained workers are to exit
	baseCtx  context.Context
	cancel   context.CancelFunc
}

// New checks cfg and returns a Dispatcher; call Start before Deliver.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Dispatcher{
		cfg: cfg, chats: newChats(cfg.MaxQueued), slots: make(chan struct{}, cfg.MaxQueued),
		stats: newStats(cfg.Workers), failures: newFailures(), quit: make(chan struct{}),
	}, nil
}

// Stats returns the dispatcher's live counters.
func (d *Dispatcher) Stats() *Stats { return d.stats }

// Start launches the workers. Handling contexts derive from ctx's values but
// are cancelled only by Stop's deadline.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.baseCtx, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for range d.cfg.Workers {
		d.workers.Add(1)
		go d.work()
	}
	if p, ok := d.cfg.Gate.(Parker); ok {
		d.workers.Add(1)
		go d.sweepParked(p)
	}
	return nil
}

// Stop stops intake, lets the workers drain the queued updates until ctx
// ends, then cancels the updates still running. It returns ctx.Err() when
// the deadline cut the drain short.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return nil
	}
	d.stopping = true
	d.mu.Unlock()
	drained := make(chan struct{})
	go func() { d.pending.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = fmt.Errorf("dispatch: drain cut short: %w", ctx.Err())
	}
	// Cancelled, the updates still queued fail at once, so this wait is short.
	d.cancel()
	<-drained
	close(d.quit)
	d.workers.Wait()
	return err
}

// Deliver implements messenger.Sink: it queues every update on its chat and
// waits until all are handled. It returns the joined errors of
// the updates that failed so the adapter redelivers the batch; the updates
// already handled are then skipped by the Gate.
func (d *Dispatcher) Deliver(ctx context.Context, updates []*messenger.Update) error {
	wait, err := d.Submit(ctx, updates)
	if err != nil {
		return err
	}
	return wait()
}

// Submit implements messenger.Submitter: it queues every update on its
// chat (blocking while MaxQueued updates wait) and returns a func that
// waits until all are handled and returns what Deliver would. When queueing
// fails part-way (ctx ended, Stop began), it waits for the updates already
// queued and returns the error.
func (d *Dispatcher) Submit(ctx context.Context, updates []*messenger.Update) (func() error, error) {
	b := &batch{}
	if err := d.enqueue(ctx, updates, b); err != nil {
		b.wg.Wait()
		return nil, err
	}
	return func() error {
		b.wg.Wait()
		return errors.Join(b.errs...)
	}, nil
}

func (d *Dispatcher) enqueue(ctx context.Context, updates []*messenger.Update, b *batch) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.stopping {
		return ErrStopped
	}
	for _, upd := range updates {
		select {
		case d.slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("dispatch: deliver: %w", ctx.Err())
		}
		b.wg.Add(1)
		d.pending.Add(1)
		d.stats.queued(1)
		d.chats.push(job{chat: upd.Chat, upd: upd, done: b})
	}
	return nil
}

// work handles the updates of the chats that become ready, one update per
// turn, until Stop has drained them.
func (d *Dispatcher) work() {
	defer d.workers.Done()
	for {
		select {
		case q := <-d.chats.ready:
			j := d.chats.take(q)
			<-d.slots
			d.stats.queued(-1)
			j.done.finish(d.process(j))
			d.pending.Done()
			d.chats.done(q)
		case <-d.quit:
			return
		}
	}
}
