package postgres

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/segment"
)

// benchClients is the size of the generated CRM of the segment benchmarks.
const benchClients = 100_000

// seedBenchClients fills s (PostgreSQL) with n generated clients in one
// statement per table: cities, ages (a fifth unknown), genders,
// subscriptions, last contact over 120 days, interests and CSAT attributes,
// tags (vip, minor), portrait completions and feedback answers.
func seedBenchClients(b *testing.B, s *Store, n int) {
	b.Helper()
	now := time.Now().UTC()
	stmts := []string{
		`SELECT setseed(0.42)`,
		`INSERT INTO clients (platform, platform_user_id, city, age, gender, subscribed, attributes, created_at, updated_at, last_seen_at)
		SELECT CASE WHEN g % 3 = 0 THEN 'vk' ELSE 'telegram' END, 'bench-' || g,
			(ARRAY['Москва', 'Москва', 'Санкт-Петербург', 'Самара', 'Екатеринбург', 'Казань', '', ''])[1 + floor(random() * 8)::int],
			CASE WHEN random() < 0.2 THEN NULL ELSE 14 + floor(random() * 60)::int END,
			(ARRAY['male', 'female', ''])[1 + floor(random() * 3)::int],
			random() < 0.7,
			jsonb_build_object(
				'interests', COALESCE((SELECT jsonb_agg(x) FROM unnest(ARRAY['fitness', 'travel', 'education', 'beauty', 'kids']) AS x
					WHERE random() < 0.3 + g * 0), '[]'::jsonb),
				'csat', (1 + floor(random() * 5))::int::text),
			?, ?, CAST(? AS TIMESTAMPTZ) - (random() * interval '120 days')
		FROM generate_series(1, ?) AS g`,
		`INSERT INTO client_tags (client_id, tag) SELECT id, 'vip' FROM clients WHERE random() < 0.1`,
		`INSERT INTO client_tags (client_id, tag) SELECT id, 'minor' FROM clients WHERE age < 18`,
		`INSERT INTO completions (client_id, scenario, version, step, created_at)
			SELECT id, 'portrait', 'v1', 'thanks', last_seen_at FROM clients WHERE random() < 0.3`,
		`INSERT INTO answers (client_id, scenario, version, step, field, value, created_at)
			SELECT id, 'feedback', 'v1', 'csat', 'attributes.csat', attributes->>'csat', last_seen_at FROM clients WHERE random() < 0.2`,
		`ANALYZE`,
	}
	err := s.db.Transaction(func(tx *gorm.DB) error {
		for _, q := range stmts {
			var args []any
			if q == stmts[1] {
				args = []any{now, now, now, n}
			}
			if err := tx.Exec(q, args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed %d clients: %v", n, err)
	}
}

// BenchmarkCountSegment counts DOMAIN-style segments over 100,000
// generated clients on PostgreSQL.
func BenchmarkCountSegment(b *testing.B) {
	s := openPGTemp(b)
	seedBenchClients(b, s, benchClients)
	cases := []struct{ name, expr string }{
		{"domain", `city == "Москва" and age >= 25 and "fitness" in attributes.interests and subscribed and last_seen_at > ago("30d")`},
		{"exclusion", `subscribed and not blocked and not ("minor" in tags) and gender != "male"`},
		{"attributes", `attributes.csat <= 3 and "travel" in attributes.interests`},
		{"activity", `completed("portrait") and not answered("feedback", "csat", ago("60d"))`},
		{"everyone", `true`},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			seg, err := segment.Compile(c.expr)
			if err != nil {
				b.Fatal(err)
			}
			seg = seg.At(time.Now())
			n, err := s.CountSegment(ctx, seg)
			if err != nil || n == 0 || n == benchClients && c.name != "everyone" {
				b.Fatalf("count = %d, %v: the generated data does not exercise %q", n, err, c.expr)
			}
			for b.Loop() {
				if _, err := s.CountSegment(ctx, seg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "clients")
		})
	}
	b.Run("ids-keyset/domain", func(b *testing.B) {
		seg, _ := segment.Compile(cases[0].expr)
		for b.Loop() {
			total := 0
			err := s.EachSegmentBatch(ctx, seg, DefaultSegmentBatch, func(ids []int64) error { total += len(ids); return nil })
			if err != nil || total == 0 {
				b.Fatalf("streamed %d ids: %v", total, err)
			}
		}
	})
}
