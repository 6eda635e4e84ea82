package app

import (
	"errors"
	"fmt"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleServices are the services several console areas share, built
// once: the broadcast service and its audited wrapper (actor "console";
// the signed-in user named in the request's context wins).
type consoleServices struct {
	broadcast *broadcast.Service
	audited   *admin.Audited
}

// consolePages fills the console's areas with the services they call —
// the same ones the CLI and the API use (no business rule lives in the
// console). Each area's builder is in console_<area>.go.
func (s *Stores) consolePages(cfg config.Config, cc *console.Config) error {
	svc, err := BroadcastService(cfg, s.CRM, s.Catalog(), s.logger)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	audited, err := NewAudited(s.CRM, svc, "console", s.logger)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	sv := consoleServices{broadcast: svc, audited: audited}
	var errs []error
	for _, fill := range []func(config.Config, consoleServices, *console.Config) error{
		s.consoleOverview, s.consoleClients, s.consoleSegments,
		s.consoleCampaigns, s.consoleCompose, s.consoleScenarios, s.consoleUsers, s.consoleInbox,
	} {
		errs = append(errs, fill(cfg, sv, cc))
	}
	return errors.Join(errs...)
}
