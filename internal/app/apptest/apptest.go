// Package apptest starts a whole chathub runtime for adapter tests: the real
// dialog handler and dispatcher on the embedded stores (a SQLite file in the
// test's temp dir and an in-process Redis), fed by one bot.
package apptest

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Runtime is a started chathub, stopped when the test ends.
type Runtime struct {
	*app.Runtime
	Stores   *app.Stores
	platform messenger.Platform
}

// Start runs bot on the shipped scenarios (scenariosDir) and the embedded stores.
func Start(t *testing.T, scenariosDir string, bot app.Bot) *Runtime {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
	cfg.ScenariosDir = scenariosDir
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Workers = 4
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	stores, err := app.Open(ctx, cfg, logger)
	if err != nil {
		t.Fatalf("open stores: %v", err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	rt, err := app.NewRuntime(cfg, stores, []app.Bot{bot}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	return &Runtime{Runtime: rt, Stores: stores, platform: bot.Platform}
}

// Client reads the CRM record of a platform user (nil when none).
func (r *Runtime) Client(t *testing.T, user int64) *crm.Client {
	t.Helper()
	key := messenger.ChatKey{Platform: r.platform, ID: strconv.FormatInt(user, 10)}
	c, err := r.Stores.CRM.GetClient(context.Background(), key)
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	return c
}
