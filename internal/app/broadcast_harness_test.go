package app

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// castTimeout bounds the waits of the broadcast runtime tests.
const castTimeout = 60 * time.Second

// castEnv is `chathub run` with a Telegram bot on the fake Bot API, on the
// test services (own schema and Redis prefix), plus a management service
// and a raw SQL connection to look at the ledger.
type castEnv struct {
	cfg  config.Config
	fake *telegramtest.Server
	sql  *sql.DB
	logs *syncBuffer
	svc  *broadcast.Service
}

// newCastEnv prepares the configuration (quiet hours off: the tests run at
// any hour) and the fake; mod adjusts the configuration before anything opens.
func newCastEnv(t *testing.T, mod func(*config.Config)) *castEnv {
	t.Helper()
	cfg := outageConfig(t)
	fake := telegramtest.New(t)
	cfg.Telegram.Token, cfg.Telegram.APIURL = fake.Token(), fake.URL()
	cfg.Broadcast.QuietHours = "off"
	if mod != nil {
		mod(&cfg)
	}
	pcfg, err := pgx.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	e := &castEnv{cfg: cfg, fake: fake, sql: stdlib.OpenDB(*pcfg), logs: &syncBuffer{}}
	t.Cleanup(func() { e.sql.Close() })
	return e
}

// start opens the stores and runs `chathub run` over them (the bots built as
// the command builds them); the runtime is stopped when t ends. The first
// call also builds e.svc, the management service the API and CLI use.
func (e *castEnv) start(t *testing.T) *Runtime {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stores, err := Open(context.Background(), e.cfg, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	bots, err := Bots(e.cfg, stores, logger)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(e.cfg, stores, bots, logger)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Broadcaster() == nil {
		t.Fatal("chathub run has no broadcaster")
	}
	if e.svc == nil {
		if e.svc, err = BroadcastService(e.cfg, stores.CRM, stores.Catalog(), logger); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	return rt
}

// seed inserts n subscribed Telegram clients with user ids 1…n, known to the fake.
func (e *castEnv) seed(t *testing.T, n int) {
	t.Helper()
	e.exec(t, `INSERT INTO clients (platform, platform_user_id, first_name, subscribed, created_at, updated_at)
		SELECT 'telegram', g::text, 'Имя' || g, TRUE, now(), now() FROM generate_series(1, $1) g`, n)
	for i := 1; i <= n; i++ {
		e.fake.AddUser(int64(i))
	}
}

func (e *castEnv) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := e.sql.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *castEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.sql.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// launch creates a campaign to every client and starts it (the ledger is
// filled); the running broadcaster sends it.
func (e *castEnv) launch(t *testing.T, text string) broadcast.Campaign {
	t.Helper()
	ctx := context.Background()
	c, err := e.svc.Create(ctx, broadcast.Campaign{Name: "новости", Segment: "subscribed", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitState waits until campaign id is in state.
func (e *castEnv) waitState(t *testing.T, id int64, state broadcast.State) broadcast.Stats {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(castTimeout)
	for {
		c, err := e.svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.svc.Stats(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %d is %s after %s, want %s; stats %+v", id, c.State, castTimeout, state, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// delivered counts the fake's messages per user 1…n and fails t unless
// each got exactly one.
func (e *castEnv) exactlyOnce(t *testing.T, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if got := len(e.fake.Messages(int64(i))); got != 1 {
			t.Fatalf("user %d got %d messages, want 1", i, got)
		}
	}
}
