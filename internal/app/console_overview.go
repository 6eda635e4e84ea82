package app

import (
	"fmt"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleOverview fills cc.Overview: the clients' counts and the campaigns
// under way from the CRM store, their progress from the broadcast service
// (exact counts of the ledger), the chart's days in DEFAULT_TIMEZONE.
func (s *Stores) consoleOverview(cfg config.Config, cc *console.Config) error {
	svc, err := BroadcastService(cfg, s.CRM, s.Catalog(), s.logger)
	if err != nil {
		return fmt.Errorf("overview: %w", err)
	}
	loc, err := cfg.Broadcast.Location()
	if err != nil {
		return fmt.Errorf("overview: %w", err)
	}
	cc.Overview = console.OverviewPages{Stats: s.CRM, Campaigns: svc, Location: loc}
	return nil
}
