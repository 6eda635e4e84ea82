package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// sqliteFunnelClients is how many clients BenchmarkFunnelSQLite seeds:
// the embedded default's scale (one process, a small audience).
const sqliteFunnelClients = 20_000

// BenchmarkFunnelSQLite times the live funnel on SQLite (which has no
// rollup): sqliteFunnelClients clients created evenly over 90 days, each
// with one portrait conversation shaped as seedFunnelClients's (72 %
// through all 8 steps, 4 % decline, 2 % minors, 22 % stop unanswered at
// one of the 7 questions), for 7, 30 and 90 days, without a filter and
// by source; p50/p95.
func BenchmarkFunnelSQLite(b *testing.B) {
	s := openSQLiteTemp(b)
	ctx := context.Background()
	now := time.Now().UTC()
	r := rand.New(rand.NewPCG(13, 13))
	full := []string{"consent", "name", "age", "city", "family", "interests", "phone", "thanks"}
	srcs := []string{"", "vk_ads", "site", "instagram", "promo_dec"}
	t0 := time.Now()
	visits := 0
	tx := s.db.Begin()
	var cargs, vargs []any
	nc, nv := 0, 0
	flush := func(force bool) {
		force = force || nv >= 500 // a visit's client goes first
		if nc > 0 && (force || nc >= 500) {
			if err := tx.Exec("INSERT INTO clients (id, platform, platform_user_id, source, subscribed, created_at, updated_at, last_seen_at) VALUES "+
				values(nc, 8), cargs...).Error; err != nil {
				b.Fatal(err)
			}
			cargs, nc = cargs[:0], 0
		}
		if nv > 0 && (force || nv >= 500) {
			if err := tx.Exec("INSERT INTO step_visits (client_id, run, scenario, version, step, entered_at, answered_at, left_at, next_step) VALUES "+
				values(nv, 9), vargs...).Error; err != nil {
				b.Fatal(err)
			}
			vargs, nv = vargs[:0], 0
		}
	}
	for i := range sqliteFunnelClients {
		id := int64(i + 1)
		created := now.Add(-90 * 24 * time.Hour).Add(time.Duration(float64(90*24*time.Hour) * float64(i) / sqliteFunnelClients))
		platform := "telegram"
		if i%3 == 0 {
			platform = "vk"
		}
		cargs = append(cargs, id, platform, fmt.Sprint("f-", i), srcs[r.IntN(len(srcs))], true, created, created, created)
		nc++
		path, open := full, false
		switch x := r.Float64(); {
		case x < 0.04:
			path = []string{"consent", "declined"}
		case x < 0.06:
			path = []string{"consent", "name", "age", "minor"}
		case x < 0.28:
			path, open = full[:1+r.IntN(7)], true
		}
		at := created.Add(time.Duration(r.IntN(600)) * time.Second)
		run := at.UnixMicro()
		pace := time.Duration(5+r.IntN(60)) * time.Second
		for j, st := range path {
			entered := at.Add(time.Duration(j) * pace)
			var ans, left any
			next := ""
			if j+1 < len(path) {
				next = path[j+1]
			}
			switch {
			case st == "thanks" || st == "declined" || st == "minor":
				ans, left = entered, entered
			case j == len(path)-1 && open:
			default:
				ans, left = entered.Add(pace/2), entered.Add(pace)
			}
			vargs = append(vargs, id, run, "portrait", "v1", st, entered, ans, left, next)
			nv++
			visits++
		}
		flush(false)
	}
	flush(true)
	if err := tx.Commit().Error; err != nil {
		b.Fatal(err)
	}
	if err := s.db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d clients, %d step visits in %s", sqliteFunnelClients, visits, time.Since(t0).Round(time.Millisecond))
	for _, days := range []int{7, 30, 90} {
		for _, f := range []string{"all", "source"} {
			b.Run(fmt.Sprintf("period=%dd/filter=%s", days, f), func(b *testing.B) {
				times := make([]time.Duration, 0, b.N)
				for range b.N {
					q := crm.FunnelQuery{Scenario: "portrait", Since: time.Now().AddDate(0, 0, -days), OpenSince: time.Now().Add(-24 * time.Hour)}
					if f == "source" {
						q.Source = "vk_ads"
					}
					t0 := time.Now()
					if _, err := s.FunnelSteps(ctx, q); err != nil {
						b.Fatal(err)
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
