package app

import (
	"fmt"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleCampaigns fills cc.Campaigns: the broadcast service reads
// campaigns, statistics and the ledger (as the API's Reports and the CLI
// do), the audited control service moves them (as the API does, the
// console's user named through account.WithActor), and the store pages
// the list and the failures.
func (s *Stores) consoleCampaigns(cfg config.Config, cc *console.Config) error {
	svc, err := BroadcastService(cfg, s.CRM, s.Catalog(), s.logger)
	if err != nil {
		return fmt.Errorf("campaigns: %w", err)
	}
	audited, err := NewAudited(s.CRM, svc, "console", s.logger)
	if err != nil {
		return fmt.Errorf("campaigns: %w", err)
	}
	cc.Campaigns = console.CampaignPages{Campaigns: svc, Control: audited, Ledger: s.CRM, Policy: svc.Policy()}
	return nil
}
