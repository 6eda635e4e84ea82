package scenariotest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/erasure"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/postgres"
	redisstore "github.com/chathub/chathub/internal/store/redis"
)

// Config configures a Runner: what the deployment's dialog handler is
// configured with, so the cases see the same behaviour.
type Config struct {
	// Handoff is the hand-off configuration (phrases, promised wait,
	// working hours).
	Handoff dialog.HandoffConfig
	// DefaultScenario starts on /start without a matching payload and on
	// a new client's first message ("": the scenario with /start).
	DefaultScenario string
	// Logger receives the handler's warnings (a condition that fails at
	// run time…). Nil discards them.
	Logger *slog.Logger
}

// Runner runs test cases on its own embedded storage: an in-memory SQLite
// CRM and an in-process Redis (miniredis), through the same gorm and
// go-redis code as production. Each case is a client of its own, so cases
// do not see each other. Close releases the storage.
type Runner struct {
	cfg    Config
	crm    *postgres.Store
	states *redisstore.Store
	close  func() error
	engine *dialog.Engine
	// seq numbers the cases' clients.
	seq atomic.Int64
}

// NewRunner opens the embedded storage.
func NewRunner(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: ":memory:"})
	if err != nil {
		return nil, fmt.Errorf("scenario tests: open the in-memory database: %w", err)
	}
	rc, closeRedis, err := redisstore.OpenInProcess(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("scenario tests: start the in-process Redis: %w", err), db.Close())
	}
	states, err := redisstore.New(rc, redisstore.Config{Prefix: "scenariotest"})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("scenario tests: %w", err), closeRedis(), db.Close())
	}
	r := &Runner{cfg: cfg, crm: db, states: states, engine: dialog.NewEngine(dialog.EngineConfig{Trace: true})}
	r.close = func() error { return errors.Join(states.Close(), closeRedis(), db.Close()) }
	return r, nil
}

// Close releases the storage.
func (r *Runner) Close() error {
	if r.close == nil {
		return nil
	}
	err := r.close()
	r.close = nil
	return err
}

// Options choose what Run runs.
type Options struct {
	// Filter, when set, runs only the cases whose name it matches.
	Filter *regexp.Regexp
	// Parallel is how many cases run at once (default DefaultParallel).
	// Cases are clients of their own, so they do not see each other.
	Parallel int
}

// DefaultParallel is how many cases run at once by default: one. The
// embedded SQLite has one connection, so cases running at once mostly wait
// for each other, and measured on two cores they took more time and CPU
// than one after another (docs/BENCHMARKS.md).
const DefaultParallel = 1

// job is one case to run with its place in the report.
type job struct {
	file string
	c    *Case
	i    int
}

// Run runs the cases of files against scenarios (Options.Parallel at
// once) and reports each case's failures, in file order, and the
// scenarios' coverage.
func (r *Runner) Run(ctx context.Context, scenarios dialog.Catalog, files []*File, opts Options) *Report {
	start := time.Now()
	var jobs []job
	for _, f := range files {
		for _, c := range f.Cases {
			if opts.Filter == nil || opts.Filter.MatchString(c.Name) {
				jobs = append(jobs, job{file: f.Path, c: c, i: len(jobs)})
			}
		}
	}
	rep := &Report{Cases: make([]CaseResult, len(jobs))}
	cov := newTracker()
	workers := cmp.Or(opts.Parallel, DefaultParallel)
	queue := make(chan job)
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Go(func() {
			for j := range queue {
				rep.Cases[j.i] = r.runCase(ctx, scenarios, j.file, j.c, cov)
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	for _, c := range rep.Cases {
		if c.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	rep.Duration = time.Since(start)
	rep.Coverage = cov.report(scenarios.All())
	return rep
}

// runCase runs one case as a new client.
func (r *Runner) runCase(ctx context.Context, scenarios dialog.Catalog, file string, c *Case, cov *tracker) CaseResult {
	start := time.Now()
	n := r.seq.Add(1)
	cr := &caseRun{
		r: r, file: file, c: c,
		chat: messenger.ChatKey{Platform: messenger.Terminal, ID: "case-" + strconv.FormatInt(n, 10)},
	}
	cr.screen.Session = "t" + strconv.FormatInt(n, 10)
	res := CaseResult{File: file, Name: c.Name, Scenario: c.Scenario, Line: c.Pos.Line, Col: c.Pos.Col}
	h, err := dialog.NewHandler(dialog.HandlerConfig{
		Engine: r.engine, States: r.states, Clients: r.crm, Scenarios: scenarios, Sender: cr,
		Eraser: erasure.Eraser{CRM: r.crm, States: r.states}, Handoff: r.cfg.Handoff,
		DefaultScenario: r.cfg.DefaultScenario, Logger: r.cfg.Logger.With("test", c.Name),
		Now: func() time.Time { return c.Now }, Trace: func(_ messenger.ChatKey, hops []dialog.Hop) { cov.add(hops) },
	})
	if err != nil {
		res.Failures = []Failure{cr.failAt(c.Pos, 0, "cannot build the dialog handler: %v", err)}
	} else {
		cr.h = h
		res.Failures = cr.run(ctx)
	}
	res.Passed = len(res.Failures) == 0
	res.Duration = time.Since(start)
	return res
}
