package cli

import (
	"context"
	"log/slog"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
)

// scenarioRegistries loads the scenarios of SCENARIOS_DIR and, with
// CONFIG_FILE, of every bot of the file, to check scenario buttons and the
// names segments use against. Only the directories are read from the file,
// so its ${VAR} secrets need not be set here. A directory that does not
// load is left out and said so at level (segment commands stay quiet:
// they check against the stored versions as well).
func scenarioRegistries(ctx context.Context, cfg config.Config, log *slog.Logger, level slog.Level) []*scenario.Registry {
	bots := scenarioBots(ctx, cfg, log, level)
	regs := make([]*scenario.Registry, len(bots))
	for i, b := range bots {
		regs[i] = b.Registry
	}
	return regs
}

// scenarioBots is scenarioRegistries by bot: "" for SCENARIOS_DIR (the bot
// of the environment variables), then the config file's bots in order.
func scenarioBots(ctx context.Context, cfg config.Config, log *slog.Logger, level slog.Level) app.FunnelCatalog {
	type dir struct{ bot, path string }
	dirs := []dir{{"", cfg.ScenariosDir}}
	if cfg.ConfigFile != "" {
		f, err := config.LoadFile(cfg.ConfigFile, func(name string) string { return "${" + name + "}" })
		if err != nil {
			log.Log(ctx, level, "scenarios are read from SCENARIOS_DIR only: the config file does not load", "file", cfg.ConfigFile, "err", err)
		} else {
			for _, b := range f.Bots {
				dirs = append(dirs, dir{b.Name, b.ScenariosDir})
			}
		}
	}
	var out app.FunnelCatalog
	for _, d := range dirs {
		// Quiet: the scenarios are only looked up, and Load's error says what is wrong.
		reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: d.path, Logger: slog.New(slog.DiscardHandler)})
		if err := reg.Load(ctx); err != nil {
			if cfg.ConfigFile == "" || d.path != cfg.ScenariosDir {
				log.Log(ctx, level, "scenario buttons and segment names are not checked against these scenarios: they do not load", "dir", d.path, "err", err)
			}
			continue
		}
		out = append(out, app.BotScenarios{Bot: d.bot, Registry: reg})
	}
	return out
}
