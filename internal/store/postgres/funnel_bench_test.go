package postgres

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/platformtest/proccpu"
)

// seedFunnelClients fills s (PostgreSQL) with n clients created evenly
// over the last 90 days (a third on vk, a quarter without a source), each
// with one conversation of the portrait scenario (a tenth with a second
// one up to 5 days later) and three in ten with one of feedback; the
// portrait's visits: 72% go through all 8 steps, 4% decline at consent,
// 2% are minors, 22% stop unanswered at one of the 7 questions. A first
// reminder went out for 80% of the unanswered visits and for 5% of the
// answered ones (those came back). Visits are inserted in time order, as
// the dialog writes them. Then VACUUM ANALYZE of the tables read.
func seedFunnelClients(b *testing.B, s *Store, n int) {
	b.Helper()
	now := time.Now().UTC()
	stmts := []struct {
		q    string
		args []any
	}{
		{`SELECT setseed(0.13)`, nil},
		{`INSERT INTO clients (platform, platform_user_id, source, subscribed, created_at)
		SELECT CASE WHEN g % 3 = 0 THEN 'vk' ELSE 'telegram' END, 'funnel-' || g,
			CASE WHEN random() < 0.25 THEN '' ELSE (ARRAY['vk_ads', 'vk_ads', 'vk_ads', 'site', 'site', 'instagram',
				'promo_dec', 'qr_shop', 'friend', 'tg_channel'])[1 + floor(random() * 10)::int] END,
			true, CAST(? AS TIMESTAMPTZ) - interval '90 days' + (g::float8 / ?) * interval '90 days' - interval '1 hour'
		FROM generate_series(1, ?) AS g`, []any{now, n, n}},
		{`INSERT INTO step_visits (client_id, run, scenario, version, step, entered_at, answered_at, left_at, next_step)
		WITH conv AS (
			SELECT id, created_at + random() * interval '10 minutes' AS t0, random() AS r, 5 + random() * 60 AS pace
			FROM clients
			UNION ALL
			SELECT id, LEAST(created_at + random() * interval '5 days', CAST(? AS TIMESTAMPTZ) - interval '10 minutes'),
				random(), 5 + random() * 60
			FROM clients WHERE random() < 0.1
		), portrait AS (
			SELECT id, t0, pace, 'portrait' AS scenario,
				CASE WHEN t0 < CAST(? AS TIMESTAMPTZ) - interval '30 days' OR r < 0.4 THEN 'v1' ELSE 'v2' END AS ver,
				CASE WHEN r < 0.72 THEN ARRAY['consent', 'name', 'age', 'city', 'family', 'interests', 'phone', 'thanks']
					WHEN r < 0.76 THEN ARRAY['consent', 'declined']
					WHEN r < 0.78 THEN ARRAY['consent', 'name', 'age', 'minor']
					ELSE (ARRAY['consent', 'name', 'age', 'city', 'family', 'interests', 'phone'])[1:
						(ARRAY[1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7])[1 + floor(random() * 22)::int]] END AS path,
				r >= 0.78 AS open
			FROM conv
		), feedback AS (
			SELECT id, t0 + interval '1 day' AS t0, pace, 'feedback', 'v1', ARRAY['csat', 'csat_why', 'nps', 'nps_why'], false
			FROM conv WHERE r < 0.3 AND t0 < CAST(? AS TIMESTAMPTZ) - interval '1 day'
		), all_conv AS (
			SELECT *, (EXTRACT(EPOCH FROM t0) * 1000000)::bigint AS run FROM portrait
			UNION ALL
			SELECT *, (EXTRACT(EPOCH FROM t0) * 1000000)::bigint FROM feedback
		), visits AS (
			SELECT c.id, c.run, c.scenario, c.ver, c.path[i] AS step,
				c.t0 + (i - 1) * c.pace * interval '1 second' AS entered,
				i = cardinality(c.path) AND c.open AS unanswered,
				c.path[i] IN ('thanks', 'declined', 'minor', 'nps_why') AS pass,
				COALESCE(c.path[i + 1], '') AS next, c.pace
			FROM all_conv AS c, generate_series(1, cardinality(c.path)) AS i
		)
		SELECT id, run, scenario, ver, step, entered,
			CASE WHEN pass THEN entered WHEN NOT unanswered THEN entered + pace * (0.3 + random() * 0.7) * interval '1 second' END,
			CASE WHEN pass THEN entered WHEN NOT unanswered THEN entered + pace * interval '1 second' END,
			CASE WHEN unanswered THEN '' ELSE next END
		FROM visits ORDER BY entered`, []any{now, now, now}},
		{`INSERT INTO reminders (client_id, scenario, version, step, run, n, reminder_key, sent_at, answered_at)
		SELECT client_id, scenario, version, step, run, 1, step || ':1:' || run, entered_at + interval '1 hour', NULL
		FROM step_visits WHERE answered_at IS NULL AND random() < 0.8 AND entered_at < CAST(? AS TIMESTAMPTZ) - interval '1 hour'
		UNION ALL
		SELECT client_id, scenario, version, step, run, 1, step || ':1:' || run, entered_at + interval '1 hour',
			entered_at + interval '2 hours'
		FROM step_visits WHERE answered_at IS NOT NULL AND answered_at > entered_at AND random() < 0.05
			AND entered_at < CAST(? AS TIMESTAMPTZ) - interval '2 hours'`, []any{now, now}},
		{`VACUUM ANALYZE clients, step_visits, reminders`, nil},
	}
	for i, st := range stmts {
		if err := s.db.Exec(st.q, st.args...).Error; err != nil {
			b.Fatalf("seed %d clients, statement %d: %v", n, i, err)
		}
	}
}

// funnelBenchOpenFor is the refreshes' window: STATE_TTL's default (the
// queries' OpenSince, one day back, is within it, so they read the
// rollup; a waiting conversation's day is rebuilt when it passes 30 days,
// as in production).
const funnelBenchOpenFor = 30 * 24 * time.Hour

// funnelBenchFilters are the filters BenchmarkFunnel tries in each period.
var funnelBenchFilters = []struct {
	name string
	set  func(*crm.FunnelQuery)
}{
	{"all", func(*crm.FunnelQuery) {}},
	{"version", func(q *crm.FunnelQuery) { q.Version = "v2" }},
	{"platform", func(q *crm.FunnelQuery) { q.Platform = "vk" }},
	{"source", func(q *crm.FunnelQuery) { q.Source = "vk_ads" }},
}

// BenchmarkFunnel times FunnelSteps of the portrait scenario from the
// rollup (CHATHUB_BENCH_FUNNEL_LIVE=1: live, periods not on the hour), and
// the rollup's first build and refreshes (sub-benchmark refresh), for 7, 30, 90
// days and all time, without and with a version, platform or source
// filter, on 100,000 PostgreSQL clients (seedFunnelClients), reporting
// p50/p95; CHATHUB_BENCH_EXPLAIN=1 logs EXPLAIN (ANALYZE, BUFFERS) of the
// 30 days' statements (no filter and the source filter).
func BenchmarkFunnel(b *testing.B) {
	s := openPGTemp(b)
	t0 := time.Now()
	seedFunnelClients(b, s, benchClients)
	var visits, reminders int64
	if err := s.db.Raw("SELECT (SELECT COUNT(*) FROM step_visits), (SELECT COUNT(*) FROM reminders)").
		Row().Scan(&visits, &reminders); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d clients, %d step visits, %d reminders in %s", benchClients, visits, reminders,
		time.Since(t0).Round(time.Millisecond))
	ctx := context.Background()
	live := os.Getenv("CHATHUB_BENCH_FUNNEL_LIVE") == "1"
	query := func(days int) crm.FunnelQuery {
		now := time.Now()
		q := crm.FunnelQuery{Scenario: "portrait", OpenSince: now.Add(-24 * time.Hour)}
		if days > 0 {
			q.Since = now.AddDate(0, 0, -days)
		}
		return q
	}
	pg := postmasterPID(b, s)
	if !live {
		t0, cpu0 := time.Now(), proccpu.Tree(pg)
		res, err := s.RefreshFunnel(ctx, time.Now(), funnelBenchOpenFor)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("first build: %d days, %d visits in %s (PostgreSQL CPU %s)", res.Days, res.Visits,
			time.Since(t0).Round(time.Millisecond), (proccpu.Tree(pg) - cpu0).Round(time.Millisecond))
		var rows int64
		if err := s.db.Raw("SELECT (SELECT COUNT(*) FROM funnel_days) + " +
			"(SELECT COUNT(*) FROM funnel_open)").Row().Scan(&rows); err != nil {
			b.Fatal(err)
		}
		b.Logf("rollup rows: %d", rows)
		b.Run("refresh", func(b *testing.B) { benchFunnelRefresh(b, s, pg) })
	}
	if os.Getenv("CHATHUB_BENCH_EXPLAIN") == "1" {
		for _, f := range []int{0, 3} {
			q := query(30)
			funnelBenchFilters[f].set(&q)
			for _, st := range []struct {
				name string
				q    func(crm.FunnelQuery) (string, []any)
			}{{"counts", funnelCountsQuery}, {"medians", pgFunnelMediansQuery}, {"reminders", funnelRemindersQuery},
				{"rollup days", func(q crm.FunnelQuery) (string, []any) {
					return rollupFunnelQuery(q, (q.Since.UnixMicro()+microsPerDay-1)/microsPerDay, q.OpenSince)
				}},
				{"rollup first day", func(q crm.FunnelQuery) (string, []any) {
					first := (q.Since.UnixMicro() + microsPerDay - 1) / microsPerDay
					last := time.UnixMicro(first * microsPerDay).Add(10 * time.Minute)
					return funnelHeadQuery(q, first, last, time.Now().Add(-funnelFreshMargin))
				}}} {
				sql, args := st.q(q)
				var lines []string
				err := eachRow(s.db, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args, func(scan func(...any) error) error {
					var l string
					err := scan(&l)
					lines = append(lines, l)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("%s, 30 days, filter %s:\n%s\n%s", st.name, funnelBenchFilters[f].name, sql, strings.Join(lines, "\n"))
			}
		}
	}
	for _, days := range []int{7, 30, 90, 0} {
		for _, f := range funnelBenchFilters {
			period := "all"
			if days > 0 {
				period = fmt.Sprintf("%dd", days)
			}
			b.Run("period="+period+"/filter="+f.name, func(b *testing.B) {
				times := make([]time.Duration, 0, b.N)
				for range b.N {
					q := query(days)
					f.set(&q)
					t0 := time.Now()
					if _, asOf, err := s.FunnelStepsAsOf(ctx, q); err != nil {
						b.Fatal(err)
					} else if asOf.IsZero() != live {
						b.Fatalf("from the rollup: %v, want %v", !asOf.IsZero(), !live)
					}
					times = append(times, time.Since(t0))
				}
				slices.Sort(times)
				at := func(p float64) float64 {
					i := max(0, min(int(float64(len(times))*p+0.999999)-1, len(times)-1))
					return float64(times[i].Microseconds()) / 1000
				}
				b.ReportMetric(at(0.50), "p50_ms")
				b.ReportMetric(at(0.95), "p95_ms")
			})
		}
	}
}

// benchFunnelRefresh times RefreshFunnel after each of b.N minutes of
// traffic: 100 clients write (90 who came in the last two days, 10 from
// any day: returning ones), each starting a conversation (a visit
// inserted, the client row updated), 40 of the recent ones also answering
// their waiting question. It reports ms and PostgreSQL CPU ms per refresh
// (the server's backends: run it on a server of its own).
func benchFunnelRefresh(b *testing.B, s *Store, pg int) {
	ctx := context.Background()
	var took, cpu time.Duration
	days, visits := 0, 0
	for range b.N {
		b.StopTimer()
		now := time.Now().UTC()
		for i, q := range []string{
			`CREATE TABLE IF NOT EXISTS picked (id BIGINT, recent BOOLEAN)`,
			`TRUNCATE picked`,
			`INSERT INTO picked SELECT id, true FROM clients WHERE created_at > CAST(? AS TIMESTAMPTZ) - interval '2 days'
				ORDER BY random() LIMIT 90`,
			`INSERT INTO picked SELECT id, false FROM clients ORDER BY random() LIMIT 10`,
			`UPDATE step_visits AS v SET answered_at = CAST(? AS TIMESTAMPTZ), left_at = CAST(? AS TIMESTAMPTZ)
				FROM (SELECT id FROM picked WHERE recent LIMIT 40) AS p
				WHERE v.client_id = p.id AND v.left_at IS NULL`,
			`INSERT INTO step_visits (client_id, run, scenario, version, step, entered_at)
				SELECT id, (EXTRACT(EPOCH FROM CAST(? AS TIMESTAMPTZ)) * 1000000)::bigint, 'portrait', 'v2', 'consent',
					CAST(? AS TIMESTAMPTZ) FROM picked`,
			`UPDATE clients SET updated_at = CAST(? AS TIMESTAMPTZ) WHERE id IN (SELECT id FROM picked)`,
		} {
			var args []any
			for range strings.Count(q, "?") {
				args = append(args, now)
			}
			if err := s.db.Exec(q, args...).Error; err != nil {
				b.Fatalf("traffic %d: %v", i, err)
			}
		}
		b.StartTimer()
		t0, cpu0 := time.Now(), proccpu.Tree(pg)
		res, err := s.RefreshFunnel(ctx, time.Now(), funnelBenchOpenFor)
		if err != nil {
			b.Fatal(err)
		}
		took += time.Since(t0)
		cpu += proccpu.Tree(pg) - cpu0
		days += res.Days
		visits += res.Visits
	}
	n := float64(b.N)
	b.ReportMetric(float64(took.Microseconds())/1000/n, "ms/refresh")
	b.ReportMetric(float64(cpu.Microseconds())/1000/n, "pg-cpu-ms/refresh")
	b.ReportMetric(float64(days)/n, "days/refresh")
	b.ReportMetric(float64(visits)/n, "visits/refresh")
}

// postmasterPID is the PostgreSQL server's process on this machine (0 if
// it is elsewhere).
func postmasterPID(b *testing.B, s *Store) int {
	var backend int
	if err := s.db.Raw("SELECT pg_backend_pid()").Row().Scan(&backend); err != nil {
		b.Fatal(err)
	}
	return proccpu.Parent(backend)
}
