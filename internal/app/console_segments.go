package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleSegments fills cc.Segments: saves and deletes go through the same
// audited service as the API's (the console's user is the actor), counts,
// samples and the campaigns using a segment come from the CRM store.
func (s *Stores) consoleSegments(_ config.Config, sv consoleServices, cc *console.Config) error {
	cc.Segments = console.SegmentPages{Book: sv.audited, Queries: s.CRM}
	return nil
}
