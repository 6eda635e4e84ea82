package app

import (
	"context"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/scenario"
)

// Scenario implements funnel.Scenarios: scenario id's current graph in
// the first registry that has it.
func (c ScenarioCatalog) Scenario(_ context.Context, id string) (*scenario.Graph, bool, error) {
	for _, r := range c.Registries {
		if g, ok := r.Get(id); ok {
			return g, true, nil
		}
	}
	return nil, false, nil
}

// FunnelService is the funnel over the CRM store and the scenario
// registries; a conversation waiting at a step counts as stuck for as
// long as its state lives (STATE_TTL), as stuck(...) segments do.
func FunnelService(cfg config.Config, st funnel.Store, scenarios funnel.Scenarios) (*funnel.Service, error) {
	return funnel.New(funnel.Config{Store: st, Scenarios: scenarios, OpenFor: cfg.StateTTL})
}

// Funnels is the funnel over the stores' CRM and every bot's scenarios.
func (s *Stores) Funnels(cfg config.Config) (*funnel.Service, error) {
	return FunnelService(cfg, s.CRM, ScenarioCatalog{Registries: s.registries()})
}
