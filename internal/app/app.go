// Package app is the composition root: it opens the stores named by the
// configuration and wires them into the services each subcommand runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/store/postgres"
	redisstore "github.com/chathub/chathub/internal/store/redis"
)

// Stores are the opened backends: the CRM database, the Redis state store
// and the scenario registry.
type Stores struct {
	CRM       *postgres.Store
	State     *redisstore.Store
	Scenarios *scenario.Registry
	logger    *slog.Logger
	closers   []func() error
}

// OpenCRM opens only the CRM database (for commands that need nothing else).
func OpenCRM(ctx context.Context, cfg config.Config, logger *slog.Logger) (*postgres.Store, error) {
	db, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", config.Redact(cfg.DatabaseURL), err)
	}
	return db, nil
}

// Open opens the database, Redis and the scenario registry (loaded, not yet
// watching). Close releases them.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Stores, error) {
	s := &Stores{logger: logger}
	db, err := OpenCRM(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	s.CRM = db
	s.closers = append(s.closers, db.Close)
	rc, closeRedis, err := redisstore.Open(ctx, cfg.RedisURL, logger)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.closers = append(s.closers, closeRedis)
	s.State, err = redisstore.New(rc, redisstore.Config{Prefix: cfg.RedisPrefix, StateTTL: cfg.StateTTL})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.Scenarios = scenario.NewRegistry(scenario.RegistryConfig{
		Dir: cfg.ScenariosDir, Logger: logger, Versions: versionStore{db},
	})
	if err := s.Scenarios.Load(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("load scenarios from %s:\n%w", cfg.ScenariosDir, err), s.Close())
	}
	return s, nil
}

// Handler builds the dialog handler over these stores, replying through sender.
func (s *Stores) Handler(cfg config.Config, sender messenger.Sender) (*dialog.Handler, error) {
	return dialog.NewHandler(dialog.HandlerConfig{
		States: s.State, Clients: s.CRM, Scenarios: s.Scenarios, Sender: sender,
		DefaultScenario: cfg.DefaultScenario, Logger: s.logger,
	})
}

// Close stops the scenario watcher (if started) and releases every opened
// backend, newest first.
func (s *Stores) Close() error {
	if s.Scenarios != nil {
		s.Scenarios.Stop()
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
