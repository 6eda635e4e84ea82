package app

import (
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/store/postgres"
)

// BroadcastService builds the broadcast management service over the CRM
// store with cfg's etiquette (FREQUENCY_CAP, QUIET_HOURS, DEFAULT_TIMEZONE).
// scenarios, when not nil, lets it check that scenario buttons name an
// existing scenario.
func BroadcastService(cfg config.Config, db *postgres.Store, scenarios *scenario.Registry, logger *slog.Logger) (*broadcast.Service, error) {
	bc := broadcast.Config{Campaigns: db, Ledger: db, Admin: db, Segments: db, Clients: db, Logger: logger}
	if scenarios != nil {
		bc.Scenarios = ScenarioCatalog{scenarios}
	}
	if err := broadcastSettings(cfg, &bc); err != nil {
		return nil, fmt.Errorf("broadcast service: %w", err)
	}
	svc, err := broadcast.NewService(bc)
	if err != nil {
		return nil, fmt.Errorf("broadcast service: %w", err)
	}
	return svc, nil
}

// ScenarioCatalog tells the broadcast service which scenarios the registry holds.
type ScenarioCatalog struct{ Registry *scenario.Registry }

// HasScenario implements broadcast.ScenarioCatalog.
func (c ScenarioCatalog) HasScenario(id string) bool {
	_, ok := c.Registry.Get(id)
	return ok
}

// ManagerAPI builds the managers' /api over the stores (disabled, answering
// 503, when ADMIN_TOKEN is unset).
func (s *Stores) ManagerAPI(cfg config.Config) (*admin.API, error) {
	svc, err := BroadcastService(cfg, s.CRM, s.Scenarios, s.logger)
	if err != nil {
		return nil, err
	}
	return admin.NewAPI(admin.APIConfig{
		Token: cfg.AdminToken, Segments: s.CRM, SavedSegments: s.CRM,
		Campaigns: svc, Control: svc, Reports: svc, Logger: s.logger,
	})
}
