package broadcast_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/bots/vk"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
	"github.com/chathub/chathub/internal/store/postgres"
	redisstore "github.com/chathub/chathub/internal/store/redis"
	"github.com/chathub/chathub/internal/store/storetest"
)

// env is one isolated broadcaster: its own PostgreSQL schema and Redis prefix.
type env struct {
	t     testing.TB
	url   string
	db    *postgres.Store
	sql   *sql.DB
	redis *redisstore.Store
	svc   *broadcast.Service
}

func newEnv(t testing.TB, redisURL string) *env {
	t.Helper()
	storetest.SkipUnlessServices(t)
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	db, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pcfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := stdlib.OpenDB(*pcfg)
	t.Cleanup(func() { raw.Close() })
	if redisURL == "" {
		redisURL = storetest.RedisURL()
	}
	rc, closeRedis, err := redisstore.Open(ctx, redisURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeRedis() })
	rs, err := redisstore.New(rc, redisstore.Config{Prefix: storetest.Name(t, "t")})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, url: url, db: db, sql: raw, redis: rs}
	e.svc = e.service(func(*broadcast.Config) {})
	return e
}

func (e *env) service(mod func(*broadcast.Config)) *broadcast.Service {
	cfg := broadcast.Config{Campaigns: e.db, Ledger: e.db, Admin: e.db, Segments: e.db, Clients: e.db,
		QuietHours: "off", FillBatch: 500}
	mod(&cfg)
	svc, err := broadcast.NewService(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// seed inserts n subscribed clients of platform with user ids from+1…from+n
// and first names "Имя<i>".
func (e *env) seed(platform messenger.Platform, from, n int) {
	e.t.Helper()
	e.exec(`INSERT INTO clients (platform, platform_user_id, first_name, subscribed, city)
		SELECT $1, (g + $2)::text, 'Имя' || (g + $2), TRUE, 'Москва' FROM generate_series(1, $3) g`, string(platform), from, n)
}

// telegramUsers seeds n subscribed Telegram clients, user ids 1…n, whom
// fake knows.
func (e *env) telegramUsers(fake *telegramtest.Server, n int) {
	e.t.Helper()
	e.seed(messenger.Telegram, 0, n)
	for i := 1; i <= n; i++ {
		fake.AddUser(int64(i))
	}
}

// started creates campaign c and starts it (its ledger is filled).
func (e *env) started(c broadcast.Campaign) broadcast.Campaign {
	e.t.Helper()
	c = e.create(c)
	if err := e.svc.Start(context.Background(), c.ID); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.sql.Exec(q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.sql.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *env) create(c broadcast.Campaign) broadcast.Campaign {
	e.t.Helper()
	if c.Name == "" {
		c.Name = "test"
	}
	if c.Segment == "" {
		c.Segment = "subscribed or not subscribed"
	}
	if c.Text == "" {
		c.Text = "{{ .client.first_name }}, у нас новости"
	}
	out, err := e.svc.Create(context.Background(), c)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// workers starts Workers over channels; they are stopped when the test ends.
func (e *env) workers(mod func(*broadcast.WorkersConfig), chs ...broadcast.Channel) *broadcast.Workers {
	e.t.Helper()
	cfg := broadcast.WorkersConfig{Service: e.svc, Channels: chs, Workers: 4, PollInterval: 20 * time.Millisecond,
		Lease: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	w, err := broadcast.NewWorkers(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { w.Stop(context.Background()) })
	return w
}

// waitState waits until campaign id is in state.
func (e *env) waitState(id int64, state broadcast.State, timeout time.Duration) broadcast.Campaign {
	e.t.Helper()
	end := time.Now().Add(timeout)
	for {
		c, err := e.svc.Get(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if c.State == state {
			return c
		}
		if time.Now().After(end) {
			st, _ := e.svc.Stats(context.Background(), id)
			e.t.Fatalf("campaign %d is %s after %s, want %s; stats %+v", id, c.State, timeout, state, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) limiter(bucket string, rate int) broadcast.Limiter {
	e.t.Helper()
	l, err := e.redis.Limiter(bucket, redisstore.Limit{Rate: rate})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *env) pacer(name string, interval time.Duration) broadcast.ChatPacer {
	e.t.Helper()
	p, err := e.redis.ChatPacer(name, interval)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func telegramChannel(t testing.TB, fake *telegramtest.Server) broadcast.Channel {
	t.Helper()
	bot, err := telegram.New(telegram.Config{Token: fake.Token(), APIURL: fake.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return broadcast.Channel{Platform: messenger.Telegram, Sender: bot}
}

func vkChannel(t testing.TB, e *env, fake *vktest.Server, rps int) broadcast.Channel {
	t.Helper()
	bot, err := vk.New(vk.Config{Token: fake.Token(), GroupID: fake.GroupID(), APIURL: fake.URL(), HTTPClient: fake.Client(),
		Limiter: e.limiter(fmt.Sprintf("vk:%d", fake.GroupID()), rps), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return broadcast.Channel{Platform: messenger.VK, Sender: bot, Batch: bot}
}
