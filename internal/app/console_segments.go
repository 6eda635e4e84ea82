package app

import (
	"fmt"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleSegments fills cc.Segments: saves and deletes go through the same
// audited service as the API's (the console's user is the actor), counts,
// samples and the campaigns using a segment come from the CRM store.
func (s *Stores) consoleSegments(cfg config.Config, cc *console.Config) error {
	book, err := NewAudited(s.CRM, nil, "console", s.logger)
	if err != nil {
		return fmt.Errorf("segments: %w", err)
	}
	cc.Segments = console.SegmentPages{Book: book, Queries: s.CRM}
	return nil
}
