package postgres

import (
	"context"
	"testing"
)

// BenchmarkClientSearch measures `chathub clients --search` on PostgreSQL
// over 100,000 clients, on the search indexes of migration 12 (prefixes of
// lower-cased names and usernames, phones): a search that matches one
// client or nobody reads that much, not the table.
//
//	go test -run '^$' -bench ClientSearch -benchtime 20x ./internal/store/postgres/
func BenchmarkClientSearch(b *testing.B) {
	s := openPGTemp(b)
	const n = 100_000
	if err := s.db.Exec(`INSERT INTO clients (platform, platform_user_id, first_name, last_name, username, phone, created_at, updated_at)
		SELECT 'telegram', i::text, (ARRAY['Анна','Олег','Марина','Сергей'])[1 + i % 4], 'Фамилия' || i, 'user' || i,
		       '+7912' || lpad(i::text, 7, '0'), now(), now()
		FROM generate_series(1, ?) AS i`, n).Error; err != nil {
		b.Fatal(err)
	}
	if err := s.db.Exec("ANALYZE clients").Error; err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, search string }{
		{"name_many_matches", "анна"},
		{"name_one_match", "фамилия99999"},
		{"name_no_match", "Зинаида"},
		{"phone", "+7 912 000-00-17"},
		{"username", "@user5"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.ListClients(context.Background(), ListOptions{Search: bc.search, Limit: 100}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
