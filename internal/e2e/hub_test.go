package e2e

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	browsertest.Main(m)
}

// The accounts every hub has: name → role; each one's password is
// password(name).
var accounts = map[string]account.Role{
	"admin": account.RoleAdmin, "manager": account.RoleManager, "operator": account.RoleOperator,
}

func password(name string) string { return name + "-e2e-secret" }

// hub is a running `chathub run`: a Telegram bot on the fake Bot API in
// long polling, the broadcast workers, and the console at url.
type hub struct {
	url    string
	cfg    config.Config
	fake   *telegramtest.Server
	stores *app.Stores
	rt     *app.Runtime
}

// startHub runs chathub on an own PostgreSQL schema and Redis prefix with
// the shipped scenarios (quiet hours off: the tests run at any hour); mod
// adjusts the configuration first. Everything stops when t ends.
func startHub(t testing.TB, mod func(*config.Config)) *hub {
	t.Helper()
	storetest.SkipUnlessServices(t)
	cfg := config.Default()
	cfg.DatabaseURL = storetest.PostgresURL(t)
	cfg.RedisURL = storetest.RedisURL()
	cfg.RedisPrefix = storetest.RedisPrefix(t)
	cfg.ScenariosDir = "../../scenarios"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Workers = 4
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Broadcast.QuietHours = "off"
	fake := telegramtest.New(t)
	cfg.Telegram.Token, cfg.Telegram.APIURL = fake.Token(), fake.URL()
	if mod != nil {
		mod(&cfg)
	}
	logger := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	stores, err := app.Open(ctx, cfg, logger)
	if err != nil {
		t.Fatalf("open stores: %v", err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	users, ok := stores.ConsoleAuth.(*account.Service)
	if !ok {
		t.Fatalf("console auth is %T, want *account.Service", stores.ConsoleAuth)
	}
	for name, role := range accounts {
		if _, err := users.AddUser(ctx, name, role, password(name)); err != nil {
			t.Fatalf("add user %s: %v", name, err)
		}
	}
	bots, err := app.Bots(cfg, stores, logger)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := app.NewRuntime(cfg, stores, bots, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	return &hub{url: "http://" + rt.Addr(), cfg: cfg, fake: fake, stores: stores, rt: rt}
}

// signIn opens a fresh browser tab signed in as name (one of accounts) in
// lang ("ru" or "en").
func (h *hub) signIn(t *testing.T, name, lang string) context.Context {
	t.Helper()
	ctx := browsertest.NewTab(t)
	browsertest.SignIn(t, ctx, h.url, lang, name, password(name))
	browsertest.Run(t, ctx, chromedpWaitMenu())
	return ctx
}
