package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// BroadcastService builds the broadcast management service over the CRM
// store with cfg's etiquette (FREQUENCY_CAP, QUIET_HOURS, DEFAULT_TIMEZONE).
// scenarios, when not nil, lets it check that scenario buttons name an
// existing scenario (of any bot: see Stores.Catalog).
func BroadcastService(cfg config.Config, db *postgres.Store, scenarios broadcast.ScenarioCatalog, logger *slog.Logger) (*broadcast.Service, error) {
	bc := broadcast.Config{Campaigns: db, Ledger: db, Admin: db, Segments: db, Clients: db, Registry: db, Logger: logger,
		Scenarios: scenarios}
	if err := broadcastSettings(cfg, &bc); err != nil {
		return nil, fmt.Errorf("broadcast service: %w", err)
	}
	svc, err := broadcast.NewService(bc)
	if err != nil {
		return nil, fmt.Errorf("broadcast service: %w", err)
	}
	return svc, nil
}

// ScenarioCatalog tells the broadcast service which scenarios the
// registries hold (one per bot), and segments which scenarios, steps and
// fields completed(...) and answered(...) may name.
type ScenarioCatalog struct{ Registries []*scenario.Registry }

// HasScenario implements broadcast.ScenarioCatalog: whether any registry
// has the scenario.
func (c ScenarioCatalog) HasScenario(id string) bool {
	for _, r := range c.Registries {
		if _, ok := r.Get(id); ok {
			return true
		}
	}
	return false
}

// ScenarioNames implements segment.Scenarios over every registry.
func (c ScenarioCatalog) ScenarioNames(ctx context.Context, id string) (segment.ScenarioNames, bool, error) {
	return c.sets().ScenarioNames(ctx, id)
}

// ScenarioIDs implements segment.Scenarios over every registry.
func (c ScenarioCatalog) ScenarioIDs(ctx context.Context) ([]string, error) {
	return c.sets().ScenarioIDs(ctx)
}

func (c ScenarioCatalog) sets() segment.ScenarioSets {
	sets := make(segment.ScenarioSets, len(c.Registries))
	for i, r := range c.Registries {
		sets[i] = r
	}
	return sets
}

// ManagerAPI builds the managers' /api over the stores (disabled, answering
// 503, when ADMIN_TOKEN is unset).
func (s *Stores) ManagerAPI(cfg config.Config) (*admin.API, error) {
	svc, err := BroadcastService(cfg, s.CRM, s.Catalog(), s.logger)
	if err != nil {
		return nil, err
	}
	audited, err := NewAudited(s.CRM, svc, "api", s.logger)
	if err != nil {
		return nil, err
	}
	clients, err := s.ClientService("api")
	if err != nil {
		return nil, err
	}
	ac := admin.APIConfig{
		Token: cfg.AdminToken, Segments: s.CRM, SavedSegments: audited,
		Campaigns: audited, Control: audited, Reports: svc, Clients: clients, Logger: s.logger,
		Overview: s.CRM, Location: svc.Location(), // the charts' days: DEFAULT_TIMEZONE
	}
	// Without a hand-off store the hand-off routes stay off (a typed nil
	// *handoff.Service in the interface would answer them and panic).
	if hs, err := s.Handoffs(); err == nil {
		ac.Handoffs = hs
	}
	if f, err := s.Funnels(cfg); err == nil {
		ac.Funnels = f
	}
	return admin.NewAPI(ac)
}

// NewAudited wraps campaigns (nil: the saved segments only) and db's saved
// segments so that their changes are written to db's audit log with actor
// ("api", "cli"; a context naming one with account.WithActor wins).
func NewAudited(db *postgres.Store, campaigns *broadcast.Service, actor string, logger *slog.Logger) (*admin.Audited, error) {
	log, err := account.NewService(account.Config{Store: db, Logger: logger})
	if err != nil {
		return nil, err
	}
	a := &admin.Audited{Segments: db, Log: log, Actor: actor, Logger: logger}
	if campaigns != nil {
		a.Campaigns, a.Control, a.Edit = campaigns, campaigns, campaigns
	}
	return a, nil
}
