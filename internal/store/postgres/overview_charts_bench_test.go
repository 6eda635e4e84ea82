package postgres

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedChartClients fills s (PostgreSQL) with n clients created over the
// last year from 11 sources (a quarter without one) and a completion of
// one of 4 scenarios for 40% of them, then VACUUM ANALYZE.
func seedChartClients(b *testing.B, s *Store, n int) {
	b.Helper()
	now := time.Now().UTC()
	stmts := []string{
		`SELECT setseed(0.42)`,
		`INSERT INTO clients (platform, platform_user_id, source, subscribed, created_at)
		SELECT CASE WHEN g % 3 = 0 THEN 'vk' ELSE 'telegram' END, 'chart-' || g,
			CASE WHEN random() < 0.25 THEN '' ELSE (ARRAY['vk_ads', 'vk_ads', 'vk_ads', 'site', 'site', 'instagram', 'promo_dec',
				'partner_a', 'partner_b', 'qr_shop', 'qr_street', 'mail', 'friend', 'tg_channel'])[1 + floor(random() * 14)::int] END,
			random() < 0.7, CAST(? AS TIMESTAMPTZ) - (random() * interval '365 days')
		FROM generate_series(1, ?) AS g`,
		`INSERT INTO completions (client_id, scenario, version, step, created_at)
			SELECT id, (ARRAY['portrait', 'portrait', 'feedback', 'quiz', 'promo'])[1 + floor(random() * 5)::int], 'v1', 'done',
				created_at + random() * interval '2 hours'
			FROM clients WHERE random() < 0.4`,
	}
	for i, q := range stmts {
		var args []any
		if i == 1 {
			args = []any{now, n}
		}
		if err := s.db.Exec(q, args...).Error; err != nil {
			b.Fatalf("seed %d clients: %v", n, err)
		}
	}
	if err := s.db.Exec("VACUUM ANALYZE").Error; err != nil {
		b.Fatalf("vacuum: %v", err)
	}
}

// BenchmarkOverviewCharts times OverviewCharts (both charts, top 5) for 7,
// 30 and 90 days on 100,000 PostgreSQL clients and their completions,
// reporting p50/p95; CHATHUB_BENCH_EXPLAIN=1 logs EXPLAIN (ANALYZE,
// BUFFERS) of the 90 days' statements.
func BenchmarkOverviewCharts(b *testing.B) {
	s := openPGTemp(b)
	seedChartClients(b, s, benchClients)
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	if os.Getenv("CHATHUB_BENCH_EXPLAIN") == "1" {
		c := newChartDays(time.Now(), msk, 90)
		for _, tc := range [][2]string{{"clients", "source"}, {"completions", "scenario"}} {
			q, args := s.dailySeriesQuery(c, tc[0], tc[1], 5)
			var lines []string
			err := eachRow(s.db, "EXPLAIN (ANALYZE, BUFFERS) "+q, args, func(scan func(...any) error) error {
				var l string
				err := scan(&l)
				lines = append(lines, l)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s by %s, 90 days:\n%s", tc[0], tc[1], strings.Join(lines, "\n"))
		}
	}
	for _, days := range []int{7, 30, 90} {
		b.Run(fmt.Sprintf("days=%d", days), func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				if _, err := s.OverviewCharts(ctx, time.Now(), msk, days, 5); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			at := func(q float64) float64 {
				i := max(0, min(int(float64(len(times))*q+0.999999)-1, len(times)-1))
				return float64(times[i].Microseconds()) / 1000
			}
			b.ReportMetric(at(0.50), "p50_ms")
			b.ReportMetric(at(0.95), "p95_ms")
		})
	}
}
