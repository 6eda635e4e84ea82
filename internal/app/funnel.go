package app

import (
	"context"
	"slices"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
)

// BotScenarios is one bot's scenario registry: a config file's bot by
// name, "" the bot of the environment variables.
type BotScenarios struct {
	Bot      string
	Registry *scenario.Registry
}

// FunnelCatalog implements funnel.Scenarios over the bots' registries, in
// the configuration's order.
type FunnelCatalog []BotScenarios

// Scenario implements funnel.Scenarios: scenario id's current graph in
// bot's registry.
func (c FunnelCatalog) Scenario(_ context.Context, bot, id string) (*scenario.Graph, bool, error) {
	for _, b := range c {
		if b.Bot == bot {
			g, ok := b.Registry.Get(id)
			return g, ok, nil
		}
	}
	return nil, false, nil
}

// ScenarioBots implements funnel.Scenarios: the bots whose registry has
// scenario id.
func (c FunnelCatalog) ScenarioBots(_ context.Context, id string) ([]string, error) {
	var out []string
	for _, b := range c {
		if _, ok := b.Registry.Get(id); ok && !slices.Contains(out, b.Bot) {
			out = append(out, b.Bot)
		}
	}
	return out, nil
}

// ScenarioIDs implements funnel.Scenarios: every bot's scenario ids.
func (c FunnelCatalog) ScenarioIDs(ctx context.Context) ([]string, error) {
	sets := make(segment.ScenarioSets, len(c))
	for i, b := range c {
		sets[i] = b.Registry
	}
	return sets.ScenarioIDs(ctx)
}

// FunnelService is the funnel over the CRM store and the bots' scenario
// registries; a conversation waiting at a step counts as stuck for as
// long as its state lives (STATE_TTL), as stuck(...) segments do. now is
// its clock, which resolves the periods asked for (nil: time.Now).
func FunnelService(cfg config.Config, st funnel.Store, scenarios funnel.Scenarios, now func() time.Time) (*funnel.Service, error) {
	return funnel.New(funnel.Config{Store: st, Scenarios: scenarios, OpenFor: cfg.StateTTL, Now: now})
}

// Funnels is the funnel over the stores' CRM and every bot's scenarios,
// on the stores' clock.
func (s *Stores) Funnels(cfg config.Config) (*funnel.Service, error) {
	return FunnelService(cfg, s.CRM, s.funnelCatalog(cfg), s.now)
}

// funnelCatalog is every opened registry by bot: the environment's bot
// first, then the config file's in its order.
func (s *Stores) funnelCatalog(cfg config.Config) FunnelCatalog {
	var c FunnelCatalog
	if s.Scenarios != nil {
		c = append(c, BotScenarios{Registry: s.Scenarios})
	}
	for _, b := range cfg.FileBots {
		if reg, ok := s.BotScenarios[b.Name]; ok {
			c = append(c, BotScenarios{Bot: b.Name, Registry: reg})
		}
	}
	return c
}
