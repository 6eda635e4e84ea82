package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
)

// runRun starts every configured bot, the inbound pipeline and the HTTP
// server, and stops them gracefully on SIGINT/SIGTERM.
func runRun(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	if len(env.Args) > 0 {
		fmt.Fprintf(env.Stderr, "chathub run: takes no arguments; configure it with environment variables (see README)\n")
		return 2
	}
	if err := cfg.ValidateBots(); err != nil {
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		return 2
	}
	stores, err := app.Open(ctx, cfg, log)
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
		fmt.Fprintf(env.Stderr, "chathub run: %v\n", err)
		_ = rt.Stop(context.WithoutCancel(ctx))
		return 1
	}
	log.Info("chathub running", "http", rt.Addr(), "bots", len(bots))
	<-ctx.Done()
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	if err := rt.Stop(context.WithoutCancel(ctx)); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
