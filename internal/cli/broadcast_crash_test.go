package cli

import (
	"context"
	"database/sql"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
	"github.com/chathub/chathub/internal/store/postgres"
	"github.com/chathub/chathub/internal/store/storetest"
)

// The broadcast crash tests' settings: a short lease, so the rows a killed
// process had claimed are taken over within the test (the default is 2m).
const (
	crashLease    = 5 * time.Second // the shortest BROADCAST_LEASE
	crashWorkers  = 4
	crashKills    = 2
	crashDeadline = 45 * time.Second
)

// TestBroadcastCrash kills a real `chathub run` process with SIGKILL twice
// while it sends a campaign, at random sends, each time inside a send
// request (the message delivered, its answer never read, so its ledger row
// never recorded), restarts it, and counts the messages at the fake server
// once the campaign is done: nobody is lost, and every ledger row is sent.
//
//   - VK: the random_id derived from the campaign makes every re-send of an
//     unrecorded row a no-op at VK: exactly one message per recipient.
//   - Telegram has no idempotency key: the claim → send → record rule loses
//     the records of the sends in flight or not yet flushed at the kill, and
//     those rows are sent again once the dead process's lease has passed.
//     The duplicates are counted and bounded by the documented window
//     (BROADCAST_WORKERS × (flush size + the send in flight) per kill).
func TestBroadcastCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills real processes")
	}
	storetest.SkipUnlessServices(t)
	t.Run("vk", func(t *testing.T) {
		t.Parallel()
		testBroadcastCrashVK(t)
	})
	t.Run("telegram", func(t *testing.T) {
		t.Parallel()
		testBroadcastCrashTelegram(t)
	})
}

func testBroadcastCrashVK(t *testing.T) {
	const n = 600
	fake := vktest.New(t)
	// Broadcast sends ride in execute requests (several workers' peer_ids
	// sends coalesced): a kill cuts one whole request.
	k := &killer{}
	fake.SetOnSend(func(vktest.Message, bool) { k.sent() })
	cc := newCrashCampaign(t, messenger.VK, n, func(i int) string { return strconv.Itoa(vkPeer(i)) },
		"VK_TOKEN="+fake.Token(), "VK_API_URL="+fake.URL(), "VK_GROUP_ID="+strconv.Itoa(fake.GroupID()),
		// 2 requests a second, 100 peers each: the campaign takes a few
		// seconds, so the kills land mid-campaign.
		"VK_RPS=2")
	began := time.Now()
	cc.run(t, k, fake.Delivered, []killPoint{{n / 6, n / 3}, {1, n / 3}})
	cc.waitDone(t)
	took := time.Since(began)

	missing, twice := 0, 0
	for i := 1; i <= n; i++ {
		got := len(fake.Messages(vkPeer(i)))
		if got != 1 && missing+twice < 5 {
			t.Errorf("peer %d has %d messages, want exactly 1", vkPeer(i), got)
		}
		switch {
		case got == 0:
			missing++
		case got > 1:
			twice++
		}
	}
	if missing+twice > 0 {
		t.Errorf("%d of %d recipients got no message, %d more than one", missing, n, twice)
	}
	cc.ledgerAllSent(t)
	deduped := fake.Deduped()
	if deduped == 0 {
		t.Errorf("the fake deduped no re-send: the random_id changed between sends, or no kill cut a delivered request (kills at sends %v)", k.firedAt)
	}
	t.Logf("vk: %d recipients, %d kills (at sends %v), done in %s: %d messages delivered, "+
		"%d re-sends deduped by random_id; %d messages.send calls in %d requests, %d rate-limited",
		n, crashKills, k.firedAt, took.Round(time.Millisecond), fake.Delivered(), deduped,
		fake.Calls("messages.send"), fake.Requests(), fake.RateLimited())
	cc.c.stop()
}

func testBroadcastCrashTelegram(t *testing.T) {
	const n = 300
	fake := telegramtest.New(t)
	for i := 1; i <= n; i++ {
		fake.AddUser(tgUser(i))
	}
	k := &killer{}
	fake.SetOnSend(func(int64, telegramtest.Sent) { k.sent() })
	reached := func() int { // recipients with their message
		r := 0
		for i := 1; i <= n; i++ {
			if len(fake.Messages(tgUser(i))) > 0 {
				r++
			}
		}
		return r
	}
	cc := newCrashCampaign(t, messenger.Telegram, n, func(i int) string { return strconv.FormatInt(tgUser(i), 10) },
		"TELEGRAM_TOKEN="+fake.Token(), "TELEGRAM_API_URL="+fake.URL(), "TELEGRAM_RPS=30")
	began := time.Now()
	cc.run(t, k, reached, []killPoint{{n / 6, n / 3}, {1, n / 3}})
	cc.waitDone(t)
	took := time.Since(began)
	time.Sleep(300 * time.Millisecond) // a late duplicate would show up now

	lost, dups := 0, 0
	for i := 1; i <= n; i++ {
		got := len(fake.Messages(tgUser(i)))
		if got == 0 {
			if lost++; lost <= 5 {
				t.Errorf("user %d got no message", tgUser(i))
			}
		}
		dups += max(got-1, 0)
	}
	if lost > 0 {
		t.Errorf("%d of %d recipients got no message", lost, n)
	}
	cc.ledgerAllSent(t)
	// Per kill: every worker's outcomes not yet written (at most a flush's
	// worth) plus the send it has in flight.
	bound := crashKills * crashWorkers * (broadcast.DefaultFlushSize + 1)
	switch {
	case dups > bound:
		t.Errorf("%d duplicate messages after %d kills; the send-to-record window allows at most %d", dups, crashKills, bound)
	case dups < crashKills:
		// Each kill lands inside a send whose answer is never read: that
		// row must be sent again.
		t.Errorf("%d duplicate messages after %d kills inside a send: want at least one per kill", dups, crashKills)
	}
	t.Logf("telegram: %d recipients, %d kills (at sends %v), done in %s: %d messages sent, %d duplicates "+
		"(bound %d; %d workers); %d sendMessage calls, %d refused with 429",
		n, crashKills, k.firedAt, took.Round(time.Millisecond), k.sends(), dups, bound, crashWorkers,
		fake.Calls("sendMessage"), fake.TooManyRequests())
	cc.c.stop()
}

func vkPeer(i int) int   { return 5000 + i }
func tgUser(i int) int64 { return int64(7000 + i) }

// killPoint: a kill at a random send between min and max sends after the
// (re)start (max capped at the sends still sure to come).
type killPoint struct{ min, max int }

func (k killPoint) pick() int { return k.min + rand.IntN(k.max-k.min+1) }

// crashCampaign is one platform's crash run: its schema with n subscribed
// clients, the broadcast service managers use, the `chathub run` child and
// the campaign.
type crashCampaign struct {
	c   *child
	svc *broadcast.Service
	sql *sql.DB
	id  int64
	n   int
}

// newCrashCampaign seeds n subscribed clients of platform (user ids from
// uid) into a fresh schema, starts `chathub run` on it with the platform's
// env, then creates and starts a campaign to them through the broadcast
// service: the child sends it.
func newCrashCampaign(t *testing.T, platform messenger.Platform, n int, uid func(int) string, platformEnv ...string) *crashCampaign {
	t.Helper()
	ctx := context.Background()
	dbURL := storetest.PostgresURL(t)
	prefix := storetest.Name(t, "bcrash")
	t.Cleanup(func() { cleanRedisPrefix(t, prefix) })

	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL, MaxOpenConns: 2}) // migrates
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	pcfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	raw := stdlib.OpenDB(*pcfg)
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = raw.Close() })
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uid(i + 1)
	}
	if _, err := raw.Exec(`INSERT INTO clients (platform, platform_user_id, first_name, subscribed, created_at, updated_at)
		SELECT $1, u, 'Имя', TRUE, now(), now() FROM unnest($2::text[]) u`, string(platform), ids); err != nil {
		t.Fatalf("seed clients: %v", err)
	}

	cfg := config.Default()
	cfg.DatabaseURL = dbURL
	cfg.Broadcast.QuietHours, cfg.Broadcast.FrequencyCap = "off", 0
	svc, err := app.BroadcastService(cfg, db, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	logf, err := os.Create(filepath.Join(t.TempDir(), "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	c := &child{t: t, log: logf, env: append([]string{
		childEnv + "=1",
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + storetest.RedisURL(), "REDIS_PREFIX=" + prefix,
		"SCENARIOS_DIR=" + repoPath(t, "scenarios"), "HTTP_ADDR=127.0.0.1:" + freePort(t),
		"LOG_LEVEL=info", "LOG_FORMAT=json",
		"QUIET_HOURS=off", "FREQUENCY_CAP=off",
		"BROADCAST_WORKERS=" + strconv.Itoa(crashWorkers), "BROADCAST_LEASE=" + crashLease.String(),
	}, platformEnv...)}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := os.ReadFile(logf.Name())
			_ = os.WriteFile(filepath.Join(os.TempDir(), "chathub-broadcast-crash-"+string(platform)+".log"), logs, 0o644)
			t.Logf("chathub run log (tail):\n%s", tail(string(logs), 4000))
		}
	})
	c.start()

	camp, err := svc.Create(ctx, broadcast.Campaign{
		Name: "crash " + string(platform), Segment: "subscribed", Text: "Новости недели",
		Platforms: []messenger.Platform{platform}, IgnoreFrequencyCap: true, IgnoreQuietHours: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx, camp.ID); err != nil {
		t.Fatal(err)
	}
	return &crashCampaign{c: c, svc: svc, sql: raw, id: camp.ID, n: n}
}

// run kills the child at each of points and restarts it. A kill lands at a
// random send (counted by k) from the sends so far, inside the request that
// makes it; unique counts the recipients that have their message, which
// bounds how many more sends are sure to come: the ones not yet delivered,
// plus at least one re-send of the rows of the request a kill cut.
func (cc *crashCampaign) run(t *testing.T, k *killer, unique func() int, points []killPoint) {
	t.Helper()
	for _, p := range points {
		hi := min(p.max, max(cc.n-unique(), 1))
		lo := min(p.min, hi)
		at := k.sends() + lo + rand.IntN(hi-lo+1)
		fired := k.arm(cc.c.cmd.Process, at)
		select {
		case <-fired:
		case <-time.After(crashDeadline):
			st, _ := cc.svc.Stats(context.Background(), cc.id)
			t.Fatalf("no kill: %d sends in %s, waiting for the %dth; stats %+v", k.sends(), crashDeadline, at, st)
		}
		_ = cc.c.cmd.Wait() // reap the killed process
		cc.c.start()
	}
}

// waitDone waits until the campaign is done.
func (cc *crashCampaign) waitDone(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(crashDeadline)
	for {
		c, err := cc.svc.Get(ctx, cc.id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == broadcast.Done {
			return
		}
		if time.Now().After(deadline) {
			st, _ := cc.svc.Stats(ctx, cc.id)
			t.Fatalf("campaign %d is %s %s after the last restart, want done; stats %+v", cc.id, c.State, crashDeadline, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ledgerAllSent checks the ledger has one row per recipient and says sent for each.
func (cc *crashCampaign) ledgerAllSent(t *testing.T) {
	t.Helper()
	var rows, sent int
	if err := cc.sql.QueryRow(`SELECT count(*), count(*) FILTER (WHERE status = 'sent' AND sent_at IS NOT NULL)
		FROM deliveries WHERE campaign_id = $1`, cc.id).Scan(&rows, &sent); err != nil {
		t.Fatal(err)
	}
	if rows != cc.n || sent != cc.n {
		st, _ := cc.svc.Stats(context.Background(), cc.id)
		t.Errorf("ledger: %d rows, %d sent; want %d sent (stats %+v)", rows, sent, cc.n, st)
	}
}

// killer SIGKILLs the armed process from a fake server's send hook at the
// at-th send: inside the request, before it is answered, so the process
// dies with a message delivered whose answer it never read.
type killer struct {
	mu      sync.Mutex
	n, at   int
	proc    *os.Process
	fired   chan struct{}
	firedAt []int
}

func (k *killer) arm(p *os.Process, at int) <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.proc, k.at, k.fired = p, at, make(chan struct{})
	return k.fired
}

// sends is how many sends the fake has counted.
func (k *killer) sends() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n
}

// sent counts one send at the fake.
func (k *killer) sent() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n++
	if k.proc != nil && k.n >= k.at {
		_ = k.proc.Kill()
		k.proc = nil
		k.firedAt = append(k.firedAt, k.n)
		close(k.fired)
	}
}
