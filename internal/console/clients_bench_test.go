package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/store/postgres"
	"github.com/chathub/chathub/internal/store/storetest"
)

// noClientEditor is a ClientEditor the benchmark never calls.
type noClientEditor struct{}

func (noClientEditor) Edit(context.Context, int64, admin.ClientChange) error { return nil }
func (noClientEditor) Erase(context.Context, int64) error                    { return nil }

// BenchmarkClientPages measures Клиенты's server time on PostgreSQL with
// 100,000 generated clients (each with a tag and two answers; one campaign
// ledger over all of them) and reports each request's p95 (the issue's
// bar: ≤ 50 ms). A list page runs no count: its status line loads the
// count from POST /clients/count (count_*) once shown.
//
//	go test -run '^$' -bench ClientPages -benchtime 200x ./internal/console/
func BenchmarkClientPages(b *testing.B) {
	storetest.SkipUnlessServices(b)
	ctx := context.Background()
	dsn := storetest.PostgresURL(b)
	store, err := postgres.Open(ctx, postgres.Config{URL: dsn})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	const n = 100_000
	for _, q := range []string{
		`INSERT INTO clients (platform, platform_user_id, first_name, last_name, username, phone, city, subscribed, created_at, updated_at)
		 SELECT 'telegram', i::text, (ARRAY['Анна','Олег','Марина','Сергей'])[1 + i % 4], 'Фамилия' || i, 'user' || i,
		        '+7912' || lpad(i::text, 7, '0'), (ARRAY['Москва','Самара','Казань'])[1 + i % 3], i % 2 = 0,
		        now() - (n - i) * interval '1 minute', now()
		 FROM generate_series(1, 100000) AS i, (SELECT 100000 AS n) AS c`,
		`INSERT INTO client_tags (client_id, tag) SELECT id, (ARRAY['vip','survey','lead'])[1 + id % 3] FROM clients`,
		`INSERT INTO answers (client_id, scenario, step, field, value, created_at)
		 SELECT id, 'portrait', s, s, 'ответ', now() FROM clients, unnest(ARRAY['name','city']) AS s`,
		`INSERT INTO campaigns (name, segment, text, state) VALUES ('Весна', 'subscribed', 'Привет', 'done')`,
		`INSERT INTO deliveries (campaign_id, client_id, platform, platform_user_id, status, reason)
		 SELECT 1, id, platform, platform_user_id, 'sent', '' FROM clients`,
		`ANALYZE`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatalf("%.60s: %v", q, err)
		}
	}
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Clients: ClientPages{Clients: store, Segments: store, Saver: store, Editor: noClientEditor{}}})
	if err != nil {
		b.Fatal(err)
	}
	h := c.Handler()
	tok := auth.Login("manager")
	seg := url.QueryEscape(`city == "Москва" and subscribed and "vip" in tags`)
	for _, bc := range []struct {
		name, method, target string
		form                 url.Values
	}{
		{"list", "GET", "/clients", nil},
		{"list_older", "GET", "/clients?before=50000", nil},
		{"search_name", "GET", "/clients?q=" + url.QueryEscape("анна"), nil},
		{"search_phone", "GET", "/clients?q=" + url.QueryEscape("+7 912 000-12-34"), nil},
		{"segment", "GET", "/clients?segment=" + seg, nil},
		{"count_all", "POST", "/clients/count", url.Values{}},
		{"count_search", "POST", "/clients/count", url.Values{"q": {"анна"}}},
		{"count_segment", "POST", "/clients/count", url.Values{"segment": {`city == "Москва" and subscribed and "vip" in tags`}}},
		{"count_segment_few", "POST", "/clients/count", url.Values{"segment": {`city == "Самара" and age > 30`}}},
		{"count_error", "POST", "/clients/count", url.Values{"segment": {`city ==`}}},
		{"card", "GET", "/clients/77777", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				w := do(h, bc.method, bc.target, tok, bc.form, nil)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "[clients.") {
					b.Fatalf("%s: %d", bc.target, w.Code)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
