package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
)

// runValidate loads every scenario path (files or directories; default
// SCENARIOS_DIR), prints each problem as file:line:col: message and exits 1
// when there is any. With --config FILE it checks the config file and the
// scenarios of each of its bots.
func runValidate(_ context.Context, env *Env, cfg config.Config, _ *slog.Logger) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	file := fs.String("config", "", "check this config file and every bot's scenarios_dir (CONFIG_FILE is not read otherwise)")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	paths := fs.Args()
	if *file != "" {
		cfg.ConfigFile = *file
		if !loadConfigFile(env, "validate", &cfg, *file) {
			return 1
		}
		for _, b := range cfg.FileBots {
			fmt.Fprintf(env.Stdout, "bot %s (%s): %s\n", b.Name, b.Platform, b.ScenariosDir)
			paths = append(paths, b.ScenariosDir)
		}
	}
	if len(paths) == 0 {
		paths = []string{cfg.ScenariosDir}
	}
	var graphs []*scenario.Graph
	failed := false
	for _, p := range paths {
		gs, err := loadPath(p)
		graphs = append(graphs, gs...)
		if err != nil {
			failed = true
			printLoadError(env, err)
		}
	}
	if failed {
		return 1
	}
	for _, g := range graphs {
		fmt.Fprintf(env.Stdout, "ok  %-10s %s (%d steps, version %s)\n", g.ID, g.File, len(g.Steps), g.Version)
	}
	fmt.Fprintf(env.Stdout, "%d scenario(s) valid\n", len(graphs))
	return 0
}

func loadPath(p string) ([]*scenario.Graph, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return scenario.LoadDir(p)
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	g, err := scenario.Load(p, src)
	if err != nil {
		return nil, err
	}
	return []*scenario.Graph{g}, nil
}

func printLoadError(env *Env, err error) {
	var list scenario.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(env.Stderr, e.Error())
		}
		return
	}
	fmt.Fprintln(env.Stderr, err)
}

func runSchema(_ context.Context, env *Env, _ config.Config, _ *slog.Logger) int {
	if _, err := env.Stdout.Write(scenario.Schema()); err != nil {
		return 1
	}
	fmt.Fprintln(env.Stdout)
	return 0
}
