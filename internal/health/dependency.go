// Package health watches the backing services chathub depends on
// (PostgreSQL, Redis) so that an outage is noticed once, logged once, and
// left as soon as the service answers again.
//
// A Dependency is checked by whoever sees a failure (Check): the check is
// one probe (a ping of the database or Redis) shared by every caller asking
// at the same time. When the probe fails the Dependency is down: it logs one "<name>
// unreachable" line and probes every ProbeInterval until an answer, then
// logs one "<name> recovered" line with how long the outage lasted and
// closes the channel its callers wait on (Outage), so that retries held
// back by a backoff go at once instead of at the end of it. While it is
// down, callers skip their own failure logs (the outage is logged here).
package health

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultProbeInterval is how often a dependency that is down is probed:
	// the longest a recovery goes unnoticed.
	DefaultProbeInterval = 250 * time.Millisecond
	// DefaultProbeTimeout bounds one probe.
	DefaultProbeTimeout = time.Second
)

// Config configures a Dependency.
type Config struct {
	// Name is how logs name the service, e.g. "PostgreSQL"; required.
	Name string
	// Probe checks that the service answers (a ping); required.
	Probe func(ctx context.Context) error
	// ProbeInterval is how often the service is probed while it is down.
	// Default DefaultProbeInterval (250ms).
	ProbeInterval time.Duration
	// ProbeTimeout bounds one probe. Default DefaultProbeTimeout (1s).
	ProbeTimeout time.Duration
	// Logger receives the unreachable and recovered lines. Default
	// slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("health: Config.Name is required"))
	}
	if c.Probe == nil {
		errs = append(errs, errors.New("health: Config.Probe is required"))
	}
	return errors.Join(errs...)
}

// Dependency is one backing service's reachability. It is safe for
// concurrent use; Close stops its probe loop.
type Dependency struct {
	cfg Config
	now func() time.Time

	mu        sync.Mutex
	down      bool
	since     time.Time     // when it went down
	recovered chan struct{} // while down: closed at the recovery
	probe     *probeCall    // the probe in flight, shared by concurrent checks
	closed    bool
	stop      chan struct{}
	loops     sync.WaitGroup
}

// probeCall is one probe and its result, for the callers sharing it.
type probeCall struct {
	done chan struct{}
	err  error
}

// New checks cfg and returns a Dependency taken to be up.
func New(cfg Config) (*Dependency, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Dependency{cfg: cfg, now: time.Now, stop: make(chan struct{})}, nil
}

// Name is the service's name as logs say it.
func (d *Dependency) Name() string { return d.cfg.Name }

// Check reports whether the service answers. When it is known to be down
// it returns at once (the probe loop is watching it); otherwise it probes,
// sharing the probe with concurrent callers, and a failed probe marks the
// service down.
func (d *Dependency) Check(ctx context.Context) error {
	d.mu.Lock()
	if d.down {
		d.mu.Unlock()
		return errDown{name: d.cfg.Name}
	}
	call := d.probe
	if call == nil {
		call = &probeCall{done: make(chan struct{})}
		d.probe = call
		go d.runProbe(call)
	}
	d.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runProbe probes once for the callers of Check and records the result.
func (d *Dependency) runProbe(call *probeCall) {
	call.err = d.ping()
	d.mu.Lock()
	d.probe = nil
	if call.err != nil {
		d.markDownLocked(call.err)
	}
	d.mu.Unlock()
	close(call.done)
}

// ping runs the probe within ProbeTimeout.
func (d *Dependency) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.ProbeTimeout)
	defer cancel()
	return d.cfg.Probe(ctx)
}

// markDownLocked records the outage, logs it and starts the probe loop.
func (d *Dependency) markDownLocked(err error) {
	if d.down || d.closed {
		return
	}
	d.down, d.since, d.recovered = true, d.now(), make(chan struct{})
	d.cfg.Logger.Error(d.cfg.Name+" unreachable", "err", err, "probe_every", d.cfg.ProbeInterval)
	d.loops.Add(1)
	go d.watch(d.recovered)
}

// watch probes the service until it answers (or Close), then marks it up.
func (d *Dependency) watch(recovered chan struct{}) {
	defer d.loops.Done()
	t := time.NewTicker(d.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		if d.ping() != nil {
			continue
		}
		d.mu.Lock()
		outage := d.now().Sub(d.since)
		d.cfg.Logger.Info(d.cfg.Name+" recovered", "after", outage.Round(10*time.Millisecond).String())
		d.down = false
		close(recovered)
		d.mu.Unlock()
		return
	}
}

// Down reports whether the service is known to be down.
func (d *Dependency) Down() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.down
}

// Outage returns, while the service is known to be down, a channel closed
// when it answers again; nil while it is taken to be up.
func (d *Dependency) Outage() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.down {
		return nil
	}
	return d.recovered
}

// Close stops the probe loop; the Dependency then stays as it was.
func (d *Dependency) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.stop)
	d.mu.Unlock()
	d.loops.Wait()
}

// errDown is Check's answer while the service is known to be down.
type errDown struct{ name string }

func (e errDown) Error() string { return e.name + " is unreachable" }

// ErrUnreachable is matched (errors.Is) by Check's error while the service
// is known to be down.
var ErrUnreachable = errors.New("health: service unreachable")

// Is makes errors.Is(err, ErrUnreachable) true.
func (e errDown) Is(target error) bool { return target == ErrUnreachable }
