package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
)

// runConsole serves the web console and the managers' API on HTTP_ADDR,
// without bots or broadcast workers (a manager's machine, or a separate
// deployment next to `chathub run`), until SIGINT/SIGTERM.
func runConsole(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	file := fs.String("config", "", "a YAML file of several bots, whose scenarios campaign buttons may name (default CONFIG_FILE)")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "chathub console: takes no arguments but --config FILE; configure it with environment variables (see README)\n")
		return 2
	}
	if !loadConfigFile(env, "console", &cfg, *file) {
		return 2
	}
	stores, err := app.Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub console: %v\n", err)
		return 1
	}
	defer stores.Close()
	srv, err := app.NewConsoleServer(cfg, stores, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub console: %v\n", err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "chathub console: %v\n", err)
		_ = srv.Stop(context.WithoutCancel(ctx))
		return 1
	}
	log.Info("chathub console running", "http", srv.Addr())
	hintFirstUser(ctx, stores.CRM, log)
	<-ctx.Done()
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	if err := srv.Stop(context.WithoutCancel(ctx)); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
