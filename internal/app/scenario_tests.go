package app

import (
	"log/slog"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenariotest"
)

// ScenarioTestConfig is what scenario tests (`chathub test`, the console's
// Сценарии) run with under cfg: the hand-off phrases, promised wait and
// working hours, and the default scenario, as the bots have them.
func ScenarioTestConfig(cfg config.Config, log *slog.Logger) (scenariotest.Config, error) {
	hc, err := handoffConfig(cfg)
	if err != nil {
		return scenariotest.Config{}, err
	}
	return scenariotest.Config{Handoff: hc, DefaultScenario: cfg.DefaultScenario, Logger: log}, nil
}
