package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleUsers fills cc.Users.
func (s *Stores) consoleUsers(cfg config.Config, cc *console.Config) error {
	return nil
}
