package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleClients fills cc.Clients.
func (s *Stores) consoleClients(cfg config.Config, cc *console.Config) error {
	return nil
}
