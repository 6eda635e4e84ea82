package funnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/pollloop"
)

// RollupStore refreshes a funnel rollup (internal/store/postgres).
type RollupStore interface {
	// RefreshFunnel brings the rollup up to date as of now; conversations
	// waiting longer than openFor count as dropped for good.
	RefreshFunnel(ctx context.Context, now time.Time, openFor time.Duration) (crm.FunnelRefresh, error)
}

// DefaultRefreshEvery is RefresherConfig.Every's default.
const DefaultRefreshEvery = time.Minute

// RefresherConfig configures a Refresher.
type RefresherConfig struct {
	// Store is refreshed. Required.
	Store RollupStore
	// Every is the time between refreshes: the funnel is at most this
	// much (plus one refresh's duration) behind. Default
	// DefaultRefreshEvery.
	Every time.Duration
	// OpenFor is Config.OpenFor (the same window). Default
	// DefaultOpenFor.
	OpenFor time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger logs refresh failures and the first build. Default
	// slog.Default().
	Logger *slog.Logger
}

func (c *RefresherConfig) setDefaults() {
	if c.Every <= 0 {
		c.Every = DefaultRefreshEvery
	}
	if c.OpenFor <= 0 {
		c.OpenFor = DefaultOpenFor
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *RefresherConfig) validate() error {
	if c.Store == nil {
		return errors.New("funnel: refresher Store is required")
	}
	return nil
}

// Refresher keeps the store's funnel rollup fresh: it refreshes at Start
// and then every Every. Every process may run one; the store lets one
// refresh at a time across processes, the others skip their turn.
type Refresher struct {
	cfg  RefresherConfig
	loop *pollloop.Loop
}

// NewRefresher checks cfg and returns a Refresher.
func NewRefresher(cfg RefresherConfig) (*Refresher, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Refresher{cfg: cfg}
	r.loop = pollloop.New(cfg.Every, r.round)
	return r, nil
}

// Start begins refreshing in the background until Stop or ctx ends.
func (r *Refresher) Start(ctx context.Context) error {
	if err := r.loop.Start(ctx); err != nil {
		return fmt.Errorf("funnel: refresher: %w", err)
	}
	return nil
}

// Stop ends the refreshes: a refresh in progress is cancelled at once (its
// transaction rolls back; the next process or start redoes it) and Stop
// waits for it to return.
func (r *Refresher) Stop(context.Context) error {
	now, cancel := context.WithCancel(context.Background())
	cancel() // do not wait for the refresh in progress: cancel it
	r.loop.Halt(now)
	return nil
}

// round is one refresh; a failure is logged and the next round tries again.
func (r *Refresher) round(ctx context.Context) {
	if err := r.refresh(ctx); err != nil && ctx.Err() == nil {
		r.cfg.Logger.Warn("funnel rollup refresh failed", "err", err)
	}
}

// refresh refreshes once now.
func (r *Refresher) refresh(ctx context.Context) error {
	start := time.Now()
	res, err := r.cfg.Store.RefreshFunnel(ctx, r.cfg.Now(), r.cfg.OpenFor)
	if err != nil {
		return err
	}
	if res.Full {
		r.cfg.Logger.Info("funnel rollup built", "days", res.Days, "visits", res.Visits,
			"took", time.Since(start).Round(time.Millisecond))
	} else if res.Ran {
		r.cfg.Logger.Debug("funnel rollup refreshed", "days", res.Days, "visits", res.Visits,
			"took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}
