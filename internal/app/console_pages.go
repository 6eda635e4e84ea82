package app

import (
	"errors"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consolePages fills the console's areas with the services they call —
// the same ones the CLI and the API use (no business rule lives in the
// console). Each area's builder is in console_<area>.go.
func (s *Stores) consolePages(cfg config.Config, cc *console.Config) error {
	var errs []error
	for _, fill := range []func(config.Config, *console.Config) error{
		s.consoleOverview, s.consoleClients, s.consoleSegments,
		s.consoleCampaigns, s.consoleCompose, s.consoleScenarios, s.consoleUsers,
	} {
		errs = append(errs, fill(cfg, cc))
	}
	return errors.Join(errs...)
}
