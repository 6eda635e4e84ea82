package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleCompose fills cc.Compose.
func (s *Stores) consoleCompose(cfg config.Config, cc *console.Config) error {
	return nil
}
