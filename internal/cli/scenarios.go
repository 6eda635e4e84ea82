package cli

import (
	"context"
	"log/slog"

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
	dirs := []string{cfg.ScenariosDir}
	if cfg.ConfigFile != "" {
		f, err := config.LoadFile(cfg.ConfigFile, func(name string) string { return "${" + name + "}" })
		if err != nil {
			log.Log(ctx, level, "scenarios are read from SCENARIOS_DIR only: the config file does not load", "file", cfg.ConfigFile, "err", err)
		} else {
			for _, b := range f.Bots {
				dirs = append(dirs, b.ScenariosDir)
			}
		}
	}
	var regs []*scenario.Registry
	for _, dir := range dirs {
		// Quiet: the scenarios are only looked up, and Load's error says what is wrong.
		reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err := reg.Load(ctx); err != nil {
			if cfg.ConfigFile == "" || dir != cfg.ScenariosDir {
				log.Log(ctx, level, "scenario buttons and segment names are not checked against these scenarios: they do not load", "dir", dir, "err", err)
			}
			continue
		}
		regs = append(regs, reg)
	}
	return regs
}
