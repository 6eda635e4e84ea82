package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleCampaigns fills cc.Campaigns.
func (s *Stores) consoleCampaigns(cfg config.Config, cc *console.Config) error {
	return nil
}
