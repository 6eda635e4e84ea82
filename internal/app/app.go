// Package app is the composition root: it opens the stores named by the
// configuration and wires them into the services each subcommand runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/health"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/store/postgres"
	redisstore "github.com/chathub/chathub/internal/store/redis"
)

// Stores are the opened backends: the CRM database, the Redis state store
// and the scenario registries.
type Stores struct {
	CRM   *postgres.Store
	State *redisstore.Store
	// Scenarios is the registry of SCENARIOS_DIR, the scenarios of the bots
	// of the environment variables; nil when only a config file's bots run.
	Scenarios *scenario.Registry
	// BotScenarios are the registries of a config file's bots, by bot name:
	// each bot has its own directory and hot reload.
	BotScenarios map[string]*scenario.Registry
	// Health watches the database and Redis (see internal/health): the
	// pipeline and the broadcaster ask it whether a failure is an outage.
	Health health.Set
	// ConsoleAuth is what the web console signs users in with: Open sets
	// internal/account's Service over the CRM database (nil: the console
	// is not served).
	ConsoleAuth console.Auth
	handoffs    handoffs // see Handoffs
	logger      *slog.Logger
	// now is the clock of the bots' dialog handlers and the reminder
	// worker (nil: time.Now); tests move it to make reminders due.
	now func() time.Time
	// clients wraps the CRM as the dialog handlers see it (nil: as it is);
	// the inbound benchmark strips the transcript with it to measure what
	// the transcript costs.
	clients func(dialog.ClientStore) dialog.ClientStore
	// gate wraps the dispatcher's Gate (the Redis turns) and sink the
	// dispatcher as the long-polling relays hand updates to it (nil: as
	// they are); the inbound benchmark times each update's stages with
	// them (INBOUND_STAGES).
	gate    func(dispatch.Gate) dispatch.Gate
	sink    func(messenger.Submitter) messenger.Submitter
	closers []func() error
}

// OpenCRM opens only the CRM database (for commands that need nothing else).
func OpenCRM(ctx context.Context, cfg config.Config, logger *slog.Logger) (*postgres.Store, error) {
	db, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, Logger: logger, ConversationTTL: cfg.StateTTL})
	if errors.Is(err, postgres.ErrSQLiteUnusable) {
		return nil, err // names the database file already
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", config.Redact(cfg.DatabaseURL), err)
	}
	return db, nil
}

// Open opens the database, Redis and the scenario registry (loaded, not yet
// watching). Close releases them.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Stores, error) {
	s := &Stores{logger: logger, handoffs: handoffs{cfg: cfg.Handoff}}
	db, err := OpenCRM(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	s.CRM = db
	s.closers = append(s.closers, db.Close)
	accounts, err := account.NewService(account.Config{Store: db, Logger: logger})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.ConsoleAuth = accounts
	rc, closeRedis, err := redisstore.Open(ctx, cfg.RedisURL, logger)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.closers = append(s.closers, closeRedis)
	s.State, err = redisstore.New(rc, redisstore.Config{Prefix: cfg.RedisPrefix, StateTTL: cfg.StateTTL})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.closers = append(s.closers, s.State.Close) // runs before closeRedis: sends what is queued
	redisHealth, err := health.New(health.Config{Name: "Redis", Probe: s.State.Ping, Logger: logger})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.closers = append(s.closers, func() error { redisHealth.Close(); return nil })
	s.Health = health.Set{db.Health(), redisHealth}
	if tg, vk := cfg.Bots(); tg || vk || len(cfg.FileBots) == 0 {
		s.Scenarios = scenario.NewRegistry(scenario.RegistryConfig{
			Dir: cfg.ScenariosDir, Logger: logger, Versions: versionStore{db},
		})
		if err := s.Scenarios.Load(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("load scenarios from %s:\n%w", cfg.ScenariosDir, err), s.Close())
		}
	}
	// Versions are content-addressed (scenario id, hash of the file), so two
	// bots' scenarios share scenario_versions without clashing: the same id
	// with other content is another version.
	s.BotScenarios = map[string]*scenario.Registry{}
	var errs []error
	for _, b := range cfg.FileBots {
		reg := scenario.NewRegistry(scenario.RegistryConfig{
			Dir: b.ScenariosDir, Logger: logger.With("bot", b.Name), Versions: versionStore{db},
		})
		if err := reg.Load(ctx); err != nil {
			errs = append(errs, fmt.Errorf("load scenarios of bot %s from %s:\n%w", b.Name, b.ScenariosDir, err))
			continue
		}
		s.BotScenarios[b.Name] = reg
	}
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// Segments check activity names against the stored versions and,
	// through the registries, scenarios whose versions are not stored yet.
	db.UseScenarios(ScenarioCatalog{Registries: s.registries()})
	return s, nil
}

// registries returns every opened scenario registry.
func (s *Stores) registries() []*scenario.Registry {
	var out []*scenario.Registry
	if s.Scenarios != nil {
		out = append(out, s.Scenarios)
	}
	for _, r := range s.BotScenarios {
		out = append(out, r)
	}
	return out
}

// Catalog tells the broadcast service whether any bot has a scenario (for
// scenario buttons); nil when no registry is open.
func (s *Stores) Catalog() broadcast.ScenarioCatalog {
	regs := s.registries()
	if len(regs) == 0 {
		return nil
	}
	return ScenarioCatalog{Registries: regs}
}

// BotHandlers builds one dialog handler per bot (the environment's bot over
// SCENARIOS_DIR, each config file bot over its own directory and default
// scenario) and routes every update to the handler of its chat's bot.
func (s *Stores) BotHandlers(cfg config.Config, sender messenger.Sender) (dispatch.Handler, error) {
	hc, err := handoffConfig(cfg)
	if err != nil {
		return nil, err
	}
	r := botRouter{}
	if s.Scenarios != nil {
		h, err := s.handler(cfg, sender, true)
		if err != nil {
			return nil, err
		}
		r[""] = h
	}
	for _, b := range cfg.FileBots {
		h, err := dialog.NewHandler(dialog.HandlerConfig{
			States: s.State, Clients: s.clientStore(), Eraser: s.eraser(), Scenarios: s.BotScenarios[b.Name], Sender: sender,
			Handoff: hc, DefaultScenario: b.DefaultScenario, Logger: s.logger.With("bot", b.Name),
			Reminders: s.State, ReminderLog: s.CRM, Now: s.clock(),
		})
		if err != nil {
			return nil, fmt.Errorf("bot %s: %w", b.Name, err)
		}
		r[b.Name] = h
	}
	return r, nil
}

// botRouter hands each update to the dialog handler of its chat's bot.
type botRouter map[string]*dialog.Handler

// Handle implements dispatch.Handler.
func (r botRouter) Handle(ctx context.Context, upd *messenger.Update) error {
	h, ok := r[upd.Chat.Bot]
	if !ok {
		return fmt.Errorf("update %s of %s: no bot %q configured", upd.ID, upd.Chat, upd.Chat.Bot)
	}
	return h.Handle(ctx, upd)
}

// Handler builds the dialog handler over these stores, replying through
// sender. It schedules no reminders (`chathub chat`: no reminder worker
// runs for the terminal); the bots' handlers do (BotHandlers).
func (s *Stores) Handler(cfg config.Config, sender messenger.Sender) (*dialog.Handler, error) {
	return s.handler(cfg, sender, false)
}

// handler builds the dialog handler of SCENARIOS_DIR; reminders wires the
// reminder queue and log.
func (s *Stores) handler(cfg config.Config, sender messenger.Sender, reminders bool) (*dialog.Handler, error) {
	hc, err := handoffConfig(cfg)
	if err != nil {
		return nil, err
	}
	hcfg := dialog.HandlerConfig{
		States: s.State, Clients: s.clientStore(), Eraser: s.eraser(), Scenarios: s.Scenarios, Sender: sender,
		Handoff: hc, DefaultScenario: cfg.DefaultScenario, Logger: s.logger, Now: s.clock(),
	}
	if reminders {
		hcfg.Reminders, hcfg.ReminderLog = s.State, s.CRM
	}
	return dialog.NewHandler(hcfg)
}

// clientStore is the CRM as the dialog handlers see it.
func (s *Stores) clientStore() dialog.ClientStore {
	if s.clients != nil {
		return s.clients(s.CRM)
	}
	return s.CRM
}

// dispatchGate is the dispatcher's Gate: the Redis state store, wrapped by
// gate when set.
func (s *Stores) dispatchGate() dispatch.Gate {
	if s.gate != nil {
		return s.gate(s.State)
	}
	return s.State
}

// relaySink is what the relays hand updates to: d, wrapped by sink when
// set.
func (s *Stores) relaySink(d *dispatch.Dispatcher) messenger.Submitter {
	if s.sink != nil {
		return s.sink(d)
	}
	return d
}

// clock is the stores' clock: now, else time.Now.
func (s *Stores) clock() func() time.Time {
	if s.now != nil {
		return s.now
	}
	return time.Now
}

// Close stops the scenario watcher (if started) and releases every opened
// backend, newest first.
func (s *Stores) Close() error {
	for _, r := range s.registries() {
		r.Stop()
	}
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// versionStore keeps scenario versions in the CRM database so conversations
// pinned to an older version survive a restart.
type versionStore struct{ db *postgres.Store }

func (v versionStore) SaveVersion(ctx context.Context, g *scenario.Graph) error {
	return v.db.SaveVersion(ctx, g.ID, g.Version, g.File, g.Source)
}

func (v versionStore) LoadVersion(ctx context.Context, id, version string) (string, []byte, error) {
	file, src, err := v.db.LoadVersion(ctx, id, version)
	if errors.Is(err, postgres.ErrNotFound) {
		return "", nil, fmt.Errorf("%w: %s@%s", scenario.ErrVersionNotFound, id, version)
	}
	return file, src, err
}
