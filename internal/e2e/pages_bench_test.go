package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/segment"
)

// benchPage is one console page the benchmark measures: a GET of path, or
// a POST of form when form is set (as htmx sends it). A path may name what
// the seed made: {client} (a client with tags, answers and deliveries),
// {campaign} (a paused campaign with a 10,000-row ledger), {done} (a
// finished one with 10,000 rows).
type benchPage struct {
	name, path string
	form       url.Values
}

// benchPages are the console's pages measured by BenchmarkConsolePages,
// as the admin opens them. Add a page with one line.
var benchPages = []benchPage{
	{"overview", "/", nil},
	{"overview-7d", "/?days=7", nil},
	{"overview-90d", "/?days=90", nil},
	{"clients", "/clients", nil},
	{"clients-search", "/clients?q=" + url.QueryEscape("анна"), nil},
	{"clients-segment", "/clients?segment=" + url.QueryEscape(`segment("moscow-adults")`), nil},
	{"clients-segment-tag", "/clients?segment=" + url.QueryEscape(`"vip" in tags`), nil},
	{"clients-count", "/clients/count", url.Values{"q": {""}, "segment": {""}}},
	{"clients-count-search", "/clients/count", url.Values{"q": {"анна"}, "segment": {""}}},
	{"clients-count-segment", "/clients/count", url.Values{"q": {""}, "segment": {`segment("moscow-adults")`}}},
	{"client-card", "/clients/{client}", nil},
	{"segments", "/segments", nil},
	{"segment-edit", "/segments/moscow-adults", nil},
	{"segment-count", "/segments/moscow-adults/count", nil},
	{"segment-count-tags", "/segments/vip/count", nil},
	{"segment-preview", "/segments/count", url.Values{"expression": {`city == "Москва" and age >= 25 and subscribed`}}},
	{"segment-preview-all", "/segments/count", url.Values{"expression": {`subscribed`}}},
	{"segment-new", "/segments/new", nil},
	{"campaigns", "/campaigns", nil},
	{"campaign-paused", "/campaigns/{campaign}", nil},
	{"campaign-progress", "/campaigns/{campaign}/progress?shown=paused", nil},
	{"campaign-done", "/campaigns/{done}", nil},
	{"campaign-new", "/campaigns/new", nil},
	{"scenarios", "/scenarios", nil},
	{"scenario", "/scenarios/portrait", nil},
	{"scenario-play", "/scenarios/portrait/play", nil},
	{"users", "/users", nil},
	{"audit", "/audit", nil},
}

// benchClients is how many clients the benchmark generates.
const benchClients = 100_000

// BenchmarkConsolePages measures the server time of each console page on
// PostgreSQL with 100,000 generated clients (portrait fields, tags,
// answers, hand-offs, saved segments, campaigns with ledgers of 10,000
// rows): each iteration is one request over loopback from a signed-in
// HTTP client, timed from sending it to the last byte of the answer; p50
// and p95 are reported per page.
//
//	go test -run '^$' -bench ConsolePages -benchtime 200x ./internal/e2e
func BenchmarkConsolePages(b *testing.B) {
	h := startHub(b, nil)
	ctx := context.Background()
	start := time.Now()
	ids := seedBench(b, ctx, h)
	b.Logf("generated %d clients in %v", benchClients, time.Since(start).Round(time.Millisecond))
	client := benchSignIn(b, h)
	benchPlayground(b, client, h.url)
	holdBench(b, h)
	for _, p := range benchPages {
		p.path = ids.Replace(p.path)
		b.Run(p.name, func(b *testing.B) {
			for range 5 { // warm the caches and the connection
				benchGet(b, client, h.url, p)
			}
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				times = append(times, benchGet(b, client, h.url, p))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(msAt(times, 0.50), "p50_ms")
			b.ReportMetric(msAt(times, 0.95), "p95_ms")
		})
	}
	// Обзор keeps its client counts for 10 s, so the page above mostly
	// measures a fresh cache: this is what one count costs when it is
	// stale (the store call alone, no HTTP).
	b.Run("overview-counts-uncached", func(b *testing.B) {
		times := make([]time.Duration, 0, b.N)
		for range b.N {
			t0 := time.Now()
			if _, err := h.stores.CRM.ClientOverview(ctx, time.Now()); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
		slices.Sort(times)
		b.ReportMetric(msAt(times, 0.50), "p50_ms")
		b.ReportMetric(msAt(times, 0.95), "p95_ms")
	})
	// The same for Обзор's charts (both, top 5), which it keeps for 10 s
	// per period too.
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		b.Fatal(err)
	}
	for _, days := range []int{7, 30, 90} {
		b.Run(fmt.Sprintf("overview-charts-%dd-uncached", days), func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				if _, err := h.stores.CRM.OverviewCharts(ctx, time.Now(), msk, days, 5); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			b.ReportMetric(msAt(times, 0.50), "p50_ms")
			b.ReportMetric(msAt(times, 0.95), "p95_ms")
		})
	}
}

// msAt is the q-quantile of sorted times in milliseconds (nearest rank).
func msAt(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

// benchGet requests p once and returns the time to its last byte; any
// status but 200 fails the benchmark.
func benchGet(b *testing.B, client *http.Client, base string, p benchPage) time.Duration {
	var req *http.Request
	var err error
	if p.form != nil {
		req, err = http.NewRequest(http.MethodPost, base+p.path, strings.NewReader(p.form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
		}
	} else {
		req, err = http.NewRequest(http.MethodGet, base+p.path, nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatalf("%s: %v", p.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: status %d, %v: %.300s", req.Method, p.path, resp.StatusCode, err, body)
	}
	return d
}

// benchSignIn signs in as admin through the console's form and returns a
// client holding the session cookie.
func benchSignIn(b *testing.B, h *hub) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := client.PostForm(h.url+"/login", url.Values{"name": {"admin"}, "password": {password("admin")}})
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		b.Fatalf("sign in: status %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return client
}

// seedBench fills the hub's database: benchClients clients in one INSERT …
// SELECT generate_series (two platforms, six cities, ages 18-67, a tenth
// unsubscribed, one in 37 blocked, created over the last year, interests
// in attributes), tags on a third of them, an answer for every second,
// a completion for two in five (four scenarios, five minutes after they came),
// 150 hand-offs (40 open), four saved segments, four campaigns using
// them — two paused and one done with 10,000 ledger rows each (filled,
// started; the done one finished), one scheduled in a month — and 40
// drafts, so that Рассылки has more than one page. It returns what the
// paths of benchPages name ({client}, {campaign}, {done}).
func seedBench(b *testing.B, ctx context.Context, h *hub) *strings.Replacer {
	db := benchDB(b, h)
	stmts := []string{
		`INSERT INTO clients (platform, platform_user_id, first_name, last_name, username, phone, gender, age, city,
			source, language, lifecycle_stage, temperature, subscribed, consent_at, blocked_at, attributes,
			created_at, updated_at, last_seen_at)
		SELECT CASE WHEN g % 5 = 0 THEN 'vk' ELSE 'telegram' END, 'bench' || g,
			(ARRAY['Анна','Борис','Вера','Глеб','Дарья','Егор','Жанна','Зоя'])[1 + g % 8],
			(ARRAY['Иванова','Петров','Сидорова','Кузнецов','Смирнова'])[1 + g % 5],
			'user' || g, '+7900' || lpad(g::text, 7, '0'),
			CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, 18 + g % 50,
			(ARRAY['Москва','Санкт-Петербург','Казань','Новосибирск','Екатеринбург','Самара'])[1 + g % 6],
			(ARRAY['instagram','vk_ads','friend','site'])[1 + g % 4], 'ru',
			(ARRAY['new','lead','customer','regular','lost'])[1 + g % 5],
			(ARRAY['cold','warm','hot'])[1 + g % 3],
			g % 10 <> 0, CASE WHEN g % 10 <> 0 THEN now() - interval '1 day' * (g % 300) END,
			CASE WHEN g % 37 = 0 THEN now() - interval '1 day' * (g % 20) END,
			jsonb_build_object('interests', jsonb_build_array((ARRAY['fitness','yoga','running','books'])[1 + g % 4]),
				'budget', g % 5000),
			now() - interval '1 minute' * ((g::bigint * 7919) % (365 * 24 * 60)),
			now() - interval '1 minute' * (g % 1000), now() - interval '1 minute' * ((g::bigint * 31) % (60 * 24 * 60))
		FROM generate_series(1, ` + fmt.Sprint(benchClients) + `) g`,
		`INSERT INTO client_tags (client_id, tag) SELECT id, (ARRAY['vip','fitness','minor','wholesale'])[1 + id % 4]
			FROM clients WHERE id % 3 = 0`,
		`INSERT INTO client_tags (client_id, tag) SELECT id, 'newsletter' FROM clients WHERE id % 7 = 0`,
		`INSERT INTO answers (client_id, scenario, version, step, field, value, created_at)
			SELECT id, 'portrait', '1', 'city', 'city', city, created_at FROM clients WHERE id % 2 = 0`,
		`INSERT INTO completions (client_id, scenario, version, step, created_at)
			SELECT id, (ARRAY['portrait','portrait','feedback','quiz'])[1 + id % 4], '1', 'done', created_at + interval '5 minutes'
			FROM clients WHERE id % 5 < 2`,
		`INSERT INTO handoffs (client_id, scenario, step, reason, status)
			SELECT id, 'portrait', 'help', 'asked for a person', CASE WHEN id % 150 < 40 THEN 'open' ELSE 'closed' END
			FROM clients WHERE id <= 150`,
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	for name, expr := range map[string]string{
		"moscow-adults": `city == "Москва" and age >= 25 and subscribed`,
		"vip":           `"vip" in tags`,
		"fitness":       `"fitness" in attributes.interests and subscribed`,
		"active-30d":    `last_seen_at > ago("30d") and not blocked`,
	} {
		if _, err := h.stores.CRM.SaveSegment(ctx, segment.Definition{Name: name, Expression: expr}); err != nil {
			b.Fatal(err)
		}
	}
	month := time.Now().Add(30 * 24 * time.Hour)
	var paused, done int64
	for i, c := range []broadcast.Campaign{
		{Name: "Весенняя распродажа", Segment: `segment("moscow-adults")`, State: broadcast.Paused},
		{Name: "VIP-вечер", Segment: `segment("vip")`, State: broadcast.Paused},
		{Name: "Итоги года", Segment: `segment("fitness")`, State: broadcast.Done},
		{Name: "Новый год", Segment: `segment("active-30d")`, State: broadcast.Scheduled, StartAt: &month},
	} {
		c.Text = "Здравствуйте, {{ .client.first_name }}!"
		out, err := h.stores.CRM.CreateCampaign(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if c.State == broadcast.Scheduled {
			continue
		}
		if i == 0 {
			paused = out.ID
		}
		if c.State == broadcast.Done {
			done = out.ID
		}
		seedLedger(b, ctx, db, out.ID, c.State == broadcast.Done, i*10000)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO campaigns (name, segment, text, state, created_at, updated_at)
		SELECT 'Черновик ' || g, 'subscribed', 'Текст', 'draft', now() - interval '1 day' * g, now() - interval '1 day' * g
		FROM generate_series(1, 40) g`); err != nil {
		b.Fatalf("seed drafts: %v", err)
	}
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatalf("vacuum: %v", err)
	}
	var client int64 // tagged (vip, newsletter), answered, in the first ledger
	if err := db.QueryRowContext(ctx, `SELECT id FROM clients WHERE platform_user_id = 'bench42'`).Scan(&client); err != nil {
		b.Fatalf("seeded client: %v", err)
	}
	return strings.NewReplacer("{client}", fmt.Sprint(client), "{campaign}", fmt.Sprint(paused), "{done}", fmt.Sprint(done))
}

// seedLedger gives campaign id 10,000 ledger rows, the clients after
// offset: all sent when done, else 60% sent, 10% failed, 30% queued; and
// marks the campaign filled and started (finished when done), as the
// broadcast workers leave it.
func seedLedger(b *testing.B, ctx context.Context, db *sql.DB, id int64, done bool, offset int) {
	if _, err := db.ExecContext(ctx, `INSERT INTO deliveries (campaign_id, client_id, platform, platform_user_id,
		status, reason, sent_at)
		SELECT $1, id, platform, platform_user_id,
			CASE WHEN $2 OR id % 10 < 6 THEN 'sent' WHEN id % 10 = 6 THEN 'failed' ELSE 'queued' END,
			CASE WHEN NOT $2 AND id % 10 = 6 THEN 'transient' ELSE '' END,
			CASE WHEN $2 OR id % 10 < 6 THEN now() - interval '1 second' * id END
		FROM clients WHERE id > $3 AND id <= $3 + 10000`, id, done, offset); err != nil {
		b.Fatalf("seed the ledger: %v", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE campaigns SET filled = TRUE, started_at = now() - interval '3 hours',
		finished_at = CASE WHEN $2 THEN now() - interval '1 hour' END WHERE id = $1`, id, done); err != nil {
		b.Fatalf("seed the campaign: %v", err)
	}
}

// benchPlayground starts the portrait scenario in the admin's playground,
// so that its page shows a chat with the first question.
func benchPlayground(b *testing.B, client *http.Client, base string) {
	resp, err := client.Post(base+"/scenarios/portrait/play/restart", "application/x-www-form-urlencoded", nil)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("playground restart: status %d", resp.StatusCode)
	}
}

// holdBench, when CHATHUB_BENCH_HOLD names a file, logs the seeded
// database's URL and waits until that file exists (at most an hour), so
// that EXPLAIN ANALYZE can be run on the same data from psql.
func holdBench(b *testing.B, h *hub) {
	file := os.Getenv("CHATHUB_BENCH_HOLD")
	if file == "" {
		return
	}
	fmt.Fprintf(os.Stderr, "seeded: psql %q; touch %s to go on\n", h.cfg.DatabaseURL, file)
	for deadline := time.Now().Add(time.Hour); time.Now().Before(deadline); time.Sleep(time.Second) {
		if _, err := os.Stat(file); err == nil {
			return
		}
	}
}

// benchDB opens the hub's database (its schema on the search path).
func benchDB(b *testing.B, h *hub) *sql.DB { return hubDB(b, h) }

// hubDB opens the hub's database (its schema on the search path), closed
// when t ends.
func hubDB(t testing.TB, h *hub) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(h.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return db
}
