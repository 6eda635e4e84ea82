package app

import (
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleOverview fills cc.Overview: the clients' counts and the campaigns
// under way from the CRM store, their progress from the broadcast service
// (exact counts of the ledger), the chart's days in DEFAULT_TIMEZONE; the
// clients' counts are kept for overviewCacheFor.
func (s *Stores) consoleOverview(cfg config.Config, sv consoleServices, cc *console.Config) error {
	svc := sv.broadcast
	loc, err := cfg.Broadcast.Location()
	if err != nil {
		return fmt.Errorf("overview: %w", err)
	}
	cc.Overview = console.OverviewPages{Stats: s.CRM, Campaigns: svc, Location: loc, CacheFor: overviewCacheFor}
	return nil
}

// overviewCacheFor is how long Обзор keeps the clients' counts: a
// dashboard left open in many tabs counts at most once per period.
const overviewCacheFor = 10 * time.Second
