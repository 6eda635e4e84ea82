package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleScenarios fills cc.Scenarios.
func (s *Stores) consoleScenarios(cfg config.Config, cc *console.Config) error {
	return nil
}
