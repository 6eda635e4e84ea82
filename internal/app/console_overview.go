package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleOverview fills cc.Overview.
func (s *Stores) consoleOverview(cfg config.Config, cc *console.Config) error {
	return nil
}
