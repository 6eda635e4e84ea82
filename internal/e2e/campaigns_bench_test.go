package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/config"
)

// BenchmarkCampaignPages measures Рассылки's pages on PostgreSQL with
// 100,000 clients: 60 campaigns (two list pages), one finished half an
// hour ago with a ledger of 100,000 rows (90% sent, 5% failed, 3%
// blocked, 2% skipped) and a newer paused one with 100,000 rows half sent
// (its counts are read afresh on every view, as a running campaign's). It reports each page's
// p95 and median time as a signed-in manager sees it over loopback.
//
//	go test -run '^$' -bench CampaignPages -benchtime 200x ./internal/e2e/
func BenchmarkCampaignPages(b *testing.B) {
	h := startHub(b, func(c *config.Config) { c.Workers = 1 })
	pcfg, err := pgx.ParseConfig(h.cfg.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	db := stdlib.OpenDB(*pcfg)
	defer db.Close()
	const clients = 100000
	now := time.Now().UTC()
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO clients (platform, platform_user_id, first_name, subscribed, created_at, updated_at)
			SELECT 'telegram', g::text, 'Имя' || g, TRUE, now(), now() FROM generate_series(1, %d) g`, clients),
		`INSERT INTO campaigns (name, segment, text, state, created_at, updated_at)
			SELECT 'Рассылка ' || g, 'subscribed', 'Текст', 'draft', now(), now() FROM generate_series(1, 58) g`,
		`INSERT INTO campaigns (name, segment, text, state, filled, created_at, updated_at, started_at, finished_at)
			VALUES ('Большая', 'subscribed', 'Текст', 'done', TRUE, now(), now(), now() - interval '1 hour', now() - interval '30 minutes')`,
		`INSERT INTO deliveries (campaign_id, client_id, platform, platform_user_id, status, reason, attempts, sent_at)
			SELECT (SELECT max(id) FROM campaigns), id, 'telegram', platform_user_id,
				CASE WHEN id % 100 < 90 THEN 'sent' WHEN id % 100 < 95 THEN 'failed' WHEN id % 100 < 98 THEN 'blocked' ELSE 'skipped' END,
				CASE WHEN id % 100 < 90 THEN '' WHEN id % 100 < 95 THEN 'bad_request' WHEN id % 100 < 98 THEN 'blocked' ELSE 'frequency_cap' END,
				1, CASE WHEN id % 100 < 90 THEN now() END
			FROM clients`,
		`INSERT INTO campaigns (name, segment, text, state, filled, created_at, updated_at, started_at)
			VALUES ('Идущая', 'subscribed', 'Текст', 'paused', TRUE, now(), now(), now() - interval '10 minutes')`,
		`INSERT INTO deliveries (campaign_id, client_id, platform, platform_user_id, status, attempts, sent_at)
			SELECT (SELECT max(id) FROM campaigns), id, 'telegram', platform_user_id,
				CASE WHEN id % 2 = 0 THEN 'sent' ELSE 'queued' END, 1, CASE WHEN id % 2 = 0 THEN now() END
			FROM clients`,
		`VACUUM ANALYZE`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Logf("seeded in %s", time.Since(now).Round(time.Millisecond))
	var done, running int64
	if err := db.QueryRow(`SELECT id FROM campaigns WHERE name = 'Большая'`).Scan(&done); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow(`SELECT id FROM campaigns WHERE name = 'Идущая'`).Scan(&running); err != nil {
		b.Fatal(err)
	}
	client := signedInClient(b, h, "manager")
	pages := []struct{ name, path string }{
		{"list", "/campaigns"},
		{"list-older", "/campaigns?before=" + strconv.FormatInt(done, 10)},
		{"done", "/campaigns/" + strconv.FormatInt(done, 10)},
		{"done-failures-p2", "/campaigns/" + strconv.FormatInt(done, 10) + "?failed_after=5000"},
		{"running", "/campaigns/" + strconv.FormatInt(running, 10)},
		{"progress", "/campaigns/" + strconv.FormatInt(running, 10) + "/progress?shown=paused"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			get(b, client, h.url+p.path) // warm
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				get(b, client, h.url+p.path)
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// signedInClient is an HTTP client with a session of name (the form
// login, as a browser does it).
func signedInClient(b *testing.B, h *hub, name string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(h.url+"/login", url.Values{"name": {name}, "password": {password(name)}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(h.url)
	if len(jar.Cookies(u)) == 0 {
		b.Fatalf("login as %s: %s, no session cookie", name, resp.Status)
	}
	return c
}

func get(b *testing.B, c *http.Client, target string) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", target, resp.Status)
	}
}
