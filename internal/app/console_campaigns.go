package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleCampaigns fills cc.Campaigns: the broadcast service reads
// campaigns, statistics and the ledger (as the API's Reports and the CLI
// do), the audited control service moves them (as the API does, the
// console's user named through account.WithActor), and the store pages
// the list and the failures.
func (s *Stores) consoleCampaigns(_ config.Config, sv consoleServices, cc *console.Config) error {
	svc := sv.broadcast
	cc.Campaigns = console.CampaignPages{Campaigns: svc, Control: sv.audited, Ledger: s.CRM, Policy: svc.Policy()}
	return nil
}
