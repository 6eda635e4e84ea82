package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
)

// runRun starts every configured bot (the environment variables' and a
// config file's), the inbound pipeline and the HTTP server, and stops them
// gracefully on SIGINT/SIGTERM.
func runRun(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	file := fs.String("config", "", "a YAML file of several bots (default CONFIG_FILE; docs/CONFIG.md)")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "chathub run: takes no arguments but --config FILE; configure it with environment variables (see README)\n")
		return 2
	}
	if !loadConfigFile(env, "run", &cfg, *file) {
		return 2
	}
	if err := cfg.ValidateBots(); err != nil {
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		return 2
	}
	stores, err := app.Open(ctx, cfg, log)
	if stoppedWhileStarting(ctx, err) {
		log.Info("stopped while starting")
		return 0
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		return 1
	}
	defer stores.Close()
	bots, err := app.Bots(cfg, stores, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		return 2
	}
	rt, err := app.NewRuntime(cfg, stores, bots, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		return 1
	}
	if err := rt.Start(ctx); err != nil {
		_ = rt.Stop(context.WithoutCancel(ctx))
		if stoppedWhileStarting(ctx, err) {
			log.Info("stopped while starting")
			return 0
		}
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		return 1
	}
	log.Info("chathub running", "http", rt.Addr(), "bots", len(bots), "config_file", cfg.ConfigFile)
	hintFirstUser(ctx, stores.CRM, log)
	<-ctx.Done()
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	if err := rt.Stop(context.WithoutCancel(ctx)); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

// stoppedWhileStarting reports whether err is the start cut short by
// SIGINT/SIGTERM (ctx done): a stop asked for before the process was
// ready is a clean stop (exit 0), not a failure to start.
func stoppedWhileStarting(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// loadConfigFile reads the config file (flag wins over CONFIG_FILE) into
// cfg, printing every problem as file:line:col; false when it failed.
func loadConfigFile(env *Env, cmd string, cfg *config.Config, flagFile string) bool {
	if flagFile != "" {
		cfg.ConfigFile = flagFile
	}
	err := cfg.LoadFile(env.Getenv)
	if err == nil {
		return true
	}
	var list config.FileErrors
	if errors.As(err, &list) {
		fmt.Fprintf(env.Stderr, "chathub %s: config file %s:\n", cmd, cfg.ConfigFile)
		for _, e := range list {
			fmt.Fprintln(env.Stderr, e.Error())
		}
		return false
	}
	fmt.Fprintf(env.Stderr, "chathub %s: %v\n", cmd, err)
	return false
}

// userLister lists the console's accounts (*postgres.Store).
type userLister interface {
	ListUsers(ctx context.Context) ([]account.User, error)
}

// hintFirstUser logs, when no console account exists, how to create one
// (`chathub run` and `chathub console`).
func hintFirstUser(ctx context.Context, users userLister, log *slog.Logger) {
	us, err := users.ListUsers(ctx)
	if err != nil {
		log.WarnContext(ctx, "cannot read the console accounts", "err", err)
		return
	}
	if len(us) == 0 {
		log.InfoContext(ctx, "no console user exists yet; create the first admin with: chathub user add NAME --role admin")
	}
}
