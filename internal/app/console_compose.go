package app

import (
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleCompose fills cc.Compose: Рассылки's composer creates campaigns
// and edits drafts through the audited broadcast service (the audit log names the console's
// user), previews and summarises them with the service itself, counts and
// lists segments with the CRM store, and offers the loaded scenarios for
// scenario buttons.
func (s *Stores) consoleCompose(_ config.Config, sv consoleServices, cc *console.Config) error {
	svc, audited := sv.broadcast, sv.audited
	cc.Compose = console.ComposePages{
		Campaigns: audited, Drafts: audited, Planner: svc, Segments: s.CRM, Policy: svc.Policy(), Location: svc.Location(),
	}
	if regs := s.registries(); len(regs) > 0 {
		cc.Compose.Scenarios = ScenarioCatalog{Registries: regs}
	}
	return nil
}
