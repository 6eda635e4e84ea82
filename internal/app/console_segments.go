package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleSegments fills cc.Segments.
func (s *Stores) consoleSegments(cfg config.Config, cc *console.Config) error {
	return nil
}
