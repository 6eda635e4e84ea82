package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// Defaults of WorkersConfig.
const (
	DefaultWorkers       = 8
	DefaultClaimSize     = 200
	DefaultLease         = 2 * time.Minute
	DefaultPollInterval  = 500 * time.Millisecond
	DefaultMaxAttempts   = 5
	DefaultFlushSize     = 64
	DefaultFlushInterval = 20 * time.Millisecond
	// DefaultBatchChats is how many chats one batch send addresses (VK peer_ids).
	DefaultBatchChats = 100
)

// Channel is one bot the workers send through: the ledger rows of its
// platform and bot go out through it.
type Channel struct {
	Platform messenger.Platform
	// Bot is the bot's name (messenger.ChatKey.Bot; empty: the bot configured
	// by environment variables). Two channels of one platform need distinct
	// names.
	Bot string
	// Sender sends one message (required).
	Sender messenger.Sender
	// Batch, when set, sends one text to up to BatchChats chats in one
	// request (VK peer_ids); rows with the same rendered text go together.
	Batch BatchSender
	// BatchChats caps a batch send. Default DefaultBatchChats (100).
	BatchChats int
	// Limiter is the bot's send budget shared by every process (Telegram:
	// 30 msg/s); nil when the adapter paces itself (VK paces every request
	// by the community's shared budget).
	Limiter Limiter
	// ChatPacer spaces the sends to one chat (Telegram: 1 msg/s per chat); a
	// row whose chat had a message less than that ago is handed back for
	// when its slot opens, and the worker goes on with the others. nil: none.
	ChatPacer ChatPacer
	// RateHint is Limiter's rate per second: claims of this channel are
	// capped at about one second of its sends (see WorkersConfig.ClaimSize);
	// 0: WorkersConfig.RateHint.
	RateHint int

	claimSize int // rows per claim, from ClaimSize and RateHint
}

// WorkersConfig configures Workers. Service and Channels are required.
type WorkersConfig struct {
	Service  *Service
	Channels []Channel
	// Workers is the fixed number of sending goroutines. Default 8: enough
	// that one is always waiting on a 30/s budget while the others record.
	Workers int
	// ClaimSize is how many rows one claim takes. Default 200; with a bot
	// Limiter it is capped at about one second of that budget's sends, so
	// the recipient state read at claim time is at most ~1s old when sent,
	// and at one worker's share of the sends in half a Lease (see
	// leaseShare), so a short lease does not claim rows only to hand most
	// of them back.
	ClaimSize int
	// RateHint is the bot budget's rate per second used for that cap; 0: none.
	RateHint int
	// Lease: a claim older than this belongs to a dead process and is taken
	// over. Default 2m, at least 1s. Counted from just before the claim, a
	// worker waits on the bot's budget and starts sends until Lease/2, cuts
	// a send still running at 3/4 of it, and hands back what it has not
	// sent. A short lease costs more claims, not throughput.
	Lease time.Duration
	// PollInterval is how often idle workers look for work and how often
	// campaigns are started, filled and finished. Default 500ms.
	PollInterval time.Duration
	// MaxAttempts bounds transient-failure retries. Default 5.
	MaxAttempts int
	// FlushSize and FlushInterval bound how many outcomes (and for how long)
	// a worker keeps before writing them: the window in which a crash can
	// lose the record of a Telegram send. Defaults 64 and 20ms.
	FlushSize     int
	FlushInterval time.Duration
	// ID names this process in claimed_by. Default "host:pid".
	ID string
	// Outages, when set, tells a failure caused by a backing service that
	// is down (the database, Redis; logged once by its watcher, so the
	// workers log it at debug level only) from other failures. Nil: every
	// failure is logged as a warning.
	Outages Outages
	// Logger: default the Service's.
	Logger *slog.Logger
}

// Outages tells whether a backing service is down (health.Set implements it).
type Outages interface {
	// Outage checks the backing services and returns a channel closed once
	// the one found down answers again; nil when all answer.
	Outage(ctx context.Context) <-chan struct{}
}

func (c WorkersConfig) withDefaults() (WorkersConfig, error) {
	if c.Service == nil || len(c.Channels) == 0 {
		return c, errors.New("broadcast workers: Service and at least one Channel are required")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Workers, DefaultWorkers)
	def(&c.ClaimSize, DefaultClaimSize)
	def(&c.MaxAttempts, DefaultMaxAttempts)
	def(&c.FlushSize, DefaultFlushSize)
	defDur(&c.Lease, DefaultLease)
	defDur(&c.PollInterval, DefaultPollInterval)
	defDur(&c.FlushInterval, DefaultFlushInterval)
	if c.RateHint > 0 {
		c.ClaimSize = min(c.ClaimSize, max(c.RateHint, 1))
	}
	for i := range c.Channels {
		ch := &c.Channels[i]
		def(&ch.BatchChats, DefaultBatchChats)
		rate := ch.RateHint
		if rate == 0 {
			rate = c.RateHint
		}
		ch.claimSize = c.ClaimSize
		if rate > 0 {
			ch.claimSize = min(c.ClaimSize, rate, leaseShare(rate, c.Lease, c.Workers))
		}
	}
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = host + ":" + strconv.Itoa(os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = c.Service.log
	}
	return c, c.validate()
}

// leaseShare is how many sends one of workers gets from a budget of rate
// per second, all of them waiting on it, in the first half of lease (when
// sends may start), rounded up: a claim of more would mostly be handed
// back unsent and claimed again (a 1s lease, 8 workers and 30/s: 2 rows).
func leaseShare(rate int, lease time.Duration, workers int) int {
	share := math.Ceil(float64(rate) * (lease / 2).Seconds() / float64(max(workers, 1)))
	return int(max(min(share, float64(rate)), 1))
}

func (c WorkersConfig) validate() error {
	var errs []error
	if c.Workers < 1 || c.Workers > 256 {
		errs = append(errs, fmt.Errorf("broadcast workers: %d workers: want 1..256", c.Workers))
	}
	if c.ClaimSize < 1 || c.ClaimSize > 5000 {
		errs = append(errs, fmt.Errorf("broadcast workers: claim size %d: want 1..5000", c.ClaimSize))
	}
	if c.Lease < time.Second {
		errs = append(errs, fmt.Errorf("broadcast workers: lease %s: want at least 1s", c.Lease))
	}
	if c.PollInterval < time.Millisecond || c.FlushInterval < 0 || c.FlushSize < 1 || c.MaxAttempts < 1 {
		errs = append(errs, errors.New("broadcast workers: poll interval, flush size and max attempts must be positive"))
	}
	seen := map[[2]string]bool{}
	for _, ch := range c.Channels {
		if k := [2]string{string(ch.Platform), ch.Bot}; seen[k] {
			errs = append(errs, fmt.Errorf("broadcast workers: two channels of %s bot %q", ch.Platform, ch.Bot))
		} else {
			seen[k] = true
		}
		if ch.Sender == nil || !ch.Platform.Valid() || ch.BatchChats < 1 || ch.BatchChats > 100 {
			errs = append(errs, fmt.Errorf("broadcast workers: channel %q needs a Sender and 1..100 batch chats", ch.Platform))
		}
	}
	return errors.Join(errs...)
}

// Workers send the running campaigns: a fixed pool of goroutines that claim
// ledger rows, re-check each recipient, render, pass the rate limits, send
// and record, plus one supervisor that starts scheduled campaigns, finishes
// interrupted ledger fills and marks campaigns done. Several processes may
// run Workers on one database and Redis: claims never overlap and the
// budgets are shared.
type Workers struct {
	cfg  WorkersConfig
	svc  *Service
	log  *slog.Logger
	chs  map[messenger.Platform][]*Channel
	work atomic.Pointer[[]Campaign]
	next atomic.Uint64

	mu       sync.Mutex
	cancel   context.CancelFunc // ends every goroutine's context (hard stop)
	stopping chan struct{}      // closed by Stop: finish the batch, claim no more
	wg       sync.WaitGroup
	sent     atomic.Int64
	sweep    *channelSweep // the supervisor's
	// rechecked holds the campaigns whose quiet-hours holds this process
	// re-applied (the supervisor's).
	rechecked map[int64]bool
}

// NewWorkers checks cfg and returns stopped Workers.
func NewWorkers(cfg WorkersConfig) (*Workers, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &Workers{cfg: c, svc: c.Service, log: c.Logger, chs: map[messenger.Platform][]*Channel{}, sweep: newChannelSweep(c.Channels),
		rechecked: map[int64]bool{}}
	for i := range c.Channels {
		ch := &c.Channels[i]
		w.chs[ch.Platform] = append(w.chs[ch.Platform], ch)
	}
	empty := []Campaign{}
	w.work.Store(&empty)
	return w, nil
}

// Sent counts the messages these Workers delivered.
func (w *Workers) Sent() int64 { return w.sent.Load() }

// Start launches the supervisor and the pool; they run until Stop or ctx ends.
func (w *Workers) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		return errors.New("broadcast workers: already started")
	}
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.stopping = make(chan struct{})
	w.wg.Add(1 + w.cfg.Workers)
	go w.supervise(ctx)
	for i := range w.cfg.Workers {
		go w.run(ctx, w.cfg.ID+":"+strconv.Itoa(i))
	}
	w.log.InfoContext(ctx, "broadcast workers started", "workers", w.cfg.Workers, "id", w.cfg.ID)
	return nil
}

// Stop drains: workers finish the send in hand, record every outcome, hand
// back the rows they had not sent and exit. When ctx ends first, sends are
// cut short (their rows are recovered after the lease) and Stop returns
// ctx's error.
func (w *Workers) Stop(ctx context.Context) error {
	w.mu.Lock()
	cancel, stopping := w.cancel, w.stopping
	w.mu.Unlock()
	if cancel == nil {
		return nil
	}
	select {
	case <-stopping:
	default:
		close(stopping)
	}
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		cancel()
		return nil
	case <-ctx.Done():
		cancel()
		<-done
		return fmt.Errorf("broadcast workers: drain: %w", ctx.Err())
	}
}

func (w *Workers) stopped() bool {
	select {
	case <-w.stopping:
		return true
	default:
		return false
	}
}

// idle waits d, or less when stopping; it reports whether to go on.
func (w *Workers) idle(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !w.stopped()
	case <-w.stopping:
		return false
	case <-ctx.Done():
		return false
	}
}

// supervise keeps the list of running campaigns fresh and moves campaigns
// along: scheduled ones whose time has come start, interrupted fills
// continue, running ones with nothing queued are done.
func (w *Workers) supervise(ctx context.Context) {
	defer w.wg.Done()
	for {
		w.tick(ctx)
		if !w.idle(ctx, w.cfg.PollInterval) {
			return
		}
	}
}

func (w *Workers) tick(ctx context.Context) {
	now := w.svc.cfg.Now().UTC()
	due, err := w.svc.cfg.Campaigns.DueCampaigns(ctx, now)
	if err != nil {
		w.logFailure(ctx, "broadcast: list due campaigns", "err", err)
		return
	}
	w.register(ctx)
	live, sweep := w.liveChannels(ctx, len(due) > 0)
	running := make([]Campaign, 0, len(due))
	for _, c := range due {
		switch {
		case c.State == Scheduled:
			if err := w.svc.Start(ctx, c.ID); err != nil && !errors.Is(err, ErrInvalidTransition) && !w.cancelUnfillable(ctx, c, err) {
				w.log.WarnContext(ctx, "broadcast: start scheduled campaign", "campaign", c.ID, "err", err)
			}
		case !c.Filled:
			if err := w.svc.Fill(ctx, c); err != nil && !w.cancelUnfillable(ctx, c, err) {
				w.log.WarnContext(ctx, "broadcast: resume ledger fill", "campaign", c.ID, "err", err)
			}
		default:
			running = append(running, c)
			w.recheckOnce(ctx, &c)
			if sweep {
				w.skipUnreachable(ctx, &c, live)
			}
			w.finishIfDone(ctx, c)
		}
	}
	w.work.Store(&running)
}

// cancelUnfillable cancels campaign c when err says its segment no longer
// compiles (a *segment.Error: say, it names a scenario or step that a
// scenario change removed, or a saved segment was deleted), which no retry
// mends: without it the campaign would be retried and logged every tick
// for ever. It reports whether it did, logging the cause once.
func (w *Workers) cancelUnfillable(ctx context.Context, c Campaign, err error) bool {
	var segErr *segment.Error
	if !errors.As(err, &segErr) {
		return false
	}
	if cerr := w.svc.Cancel(ctx, c.ID); cerr != nil && !errors.Is(cerr, ErrInvalidTransition) {
		w.log.WarnContext(ctx, "broadcast: cancel a campaign whose segment no longer compiles", "campaign", c.ID, "err", cerr)
		return true
	}
	w.log.ErrorContext(ctx, "broadcast: campaign cancelled: its segment no longer compiles; fix it and create the campaign again",
		"campaign", c.ID, "err", err)
	return true
}

func (w *Workers) finishIfDone(ctx context.Context, c Campaign) {
	n, err := w.svc.cfg.Admin.Pending(ctx, c.ID)
	if err != nil || n > 0 {
		return
	}
	if _, err := w.svc.cfg.Campaigns.SetCampaignState(ctx, c.ID, []State{Running}, Done, w.svc.cfg.Now().UTC()); err == nil {
		w.log.InfoContext(ctx, "campaign done", "campaign", c.ID)
	}
}

// run is one pool goroutine: claim, send, record, until stopped.
func (w *Workers) run(ctx context.Context, id string) {
	defer w.wg.Done()
	for !w.stopped() && ctx.Err() == nil {
		worked, err := w.once(ctx, id)
		switch {
		case err != nil:
			w.logFailure(ctx, "broadcast worker", "worker", id, "err", err)
			if !w.idle(ctx, w.cfg.PollInterval) {
				return
			}
		case !worked:
			if !w.idle(ctx, w.cfg.PollInterval) {
				return
			}
		}
	}
}

// logFailure logs a failed step: a warning, or at debug level during an
// outage of a backing service (its watcher logs the outage once).
func (w *Workers) logFailure(ctx context.Context, msg string, args ...any) {
	level := slog.LevelWarn
	if w.cfg.Outages != nil && w.cfg.Outages.Outage(ctx) != nil {
		level = slog.LevelDebug
	}
	w.log.Log(ctx, level, msg, args...)
}

// once claims and handles one batch from the next campaign × platform that
// has due rows; it reports whether it found any.
func (w *Workers) once(ctx context.Context, id string) (bool, error) {
	list := *w.work.Load()
	type slot struct {
		c  *Campaign
		ch *Channel
	}
	var slots []slot
	for i := range list {
		for _, p := range platformSet(&list[i]) {
			for _, ch := range w.chs[p] {
				slots = append(slots, slot{&list[i], ch})
			}
		}
	}
	if len(slots) == 0 {
		return false, nil
	}
	start := int(w.next.Add(1))
	for i := range slots {
		s := slots[(start+i)%len(slots)]
		// The lease is counted from before the claim: however long the claim
		// itself took, the rows are sent and recorded within it.
		claimed := time.Now()
		rows, err := w.svc.cfg.Ledger.Claim(ctx, ClaimRequest{
			Worker: id, CampaignID: s.c.ID, Platform: s.ch.Platform, Bot: s.ch.Bot, Limit: s.ch.claimSize,
			Lease: w.cfg.Lease, Now: w.svc.cfg.Now(),
		})
		if err != nil {
			return false, err
		}
		if len(rows) > 0 {
			return true, w.handle(ctx, s.c, s.ch, rows, lease{worker: id, start: claimed, length: w.cfg.Lease})
		}
	}
	return false, nil
}
