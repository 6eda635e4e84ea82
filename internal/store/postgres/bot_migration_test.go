package postgres

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestBotMigrationKeepsRows migrates a database that has clients, tags,
// answers and a delivery ledger from version 7 to the newest: every row and
// id survives as the environment's bot (bot ”), the references still hold,
// and the same user id can then have a second card in a named bot.
func TestBotMigrationKeepsRows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  func(t *testing.T) Config
	}{
		{DialectSQLite, func(t *testing.T) Config { return Config{URL: filepath.Join(t.TempDir(), "crm.db")} }},
		{DialectPostgres, func(t *testing.T) Config { return Config{URL: testDatabaseURL(), Schema: newPGSchema(t)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg(t)
			old := cfg
			old.migrateTo = 7
			s7 := mustOpen(t, old)
			seedVersion7(t, s7)
			if err := s7.Close(); err != nil {
				t.Fatal(err)
			}

			s := mustOpen(t, cfg)
			if n := count(t, s, "SELECT COUNT(*) FROM schema_migrations"); n != int64(len(migrations)) {
				t.Errorf("schema_migrations has %d rows; want %d", n, len(migrations))
			}
			for q, want := range map[string]int64{
				"SELECT COUNT(*) FROM clients WHERE bot = ''":              2,
				"SELECT COUNT(*) FROM client_tags":                         2,
				"SELECT COUNT(*) FROM answers":                             1,
				"SELECT COUNT(*) FROM deliveries WHERE bot = ''":           1,
				"SELECT COUNT(*) FROM clients WHERE id IN (1, 2)":          2,
				"SELECT COUNT(*) FROM clients WHERE city = 'Самара'":       1,
				"SELECT COUNT(*) FROM clients WHERE last_update_id = 'u9'": 1,
			} {
				if n := count(t, s, q); n != want {
					t.Errorf("%s = %d; want %d", q, n, want)
				}
			}
			def := messenger.ChatKey{Platform: messenger.Telegram, ID: "100"}
			c := get(t, s, def)
			if c == nil || c.ID != 1 || c.City != "Самара" || c.Bot != "" || !c.HasTag("vip") {
				t.Fatalf("GetClient(%s) after the migration = %+v; want client 1 of the default bot with its city and tag", def, c)
			}
			// The same user in a named bot is a second card, with a new id
			// past every id the old table ever handed out.
			shop := messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "100"}
			sc := apply(t, s, shop, &crm.Changes{Now: t0, Set: []crm.FieldValue{{Field: "city", Value: "Казань"}}})
			if sc.ID <= 3 || sc.Bot != "shop" || sc.City != "Казань" {
				t.Errorf("shop client = id %d bot %q city %q; want a new id above 3, bot shop, its own city", sc.ID, sc.Bot, sc.City)
			}
			if c := get(t, s, def); c.City != "Самара" {
				t.Errorf("default bot's card changed to city %q by the shop bot's write", c.City)
			}
			// Existing rows are still upserted in place.
			if dc := apply(t, s, def, &crm.Changes{Now: at(1), AddTags: []string{"new"}}); dc.ID != 1 {
				t.Errorf("default client upserted as id %d; want 1", dc.ID)
			}
		})
	}
}

// seedVersion7 writes rows the way schema version 7 holds them: three
// clients (the third deleted again, so its id is used up), tags, an answer,
// a campaign and one ledger row.
func seedVersion7(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	stmts := []struct {
		q    string
		args []any
	}{
		{"INSERT INTO clients (platform, platform_user_id, city, last_update_id) VALUES (?, ?, ?, ?)", []any{"telegram", "100", "Самара", "u9"}},
		{"INSERT INTO clients (platform, platform_user_id) VALUES (?, ?)", []any{"vk", "200"}},
		{"INSERT INTO clients (platform, platform_user_id) VALUES (?, ?)", []any{"vk", "300"}},
		{"DELETE FROM clients WHERE platform_user_id = ?", []any{"300"}},
		{"INSERT INTO client_tags (client_id, tag) VALUES (1, 'vip'), (2, 'survey')", nil},
		{"INSERT INTO answers (client_id, scenario, step, value) VALUES (1, 'portrait', 'city', 'Самара')", nil},
		{"INSERT INTO campaigns (name, segment, text, state) VALUES ('c', 'subscribed', 'hi', 'running')", nil},
		{"INSERT INTO deliveries (campaign_id, client_id, platform, platform_user_id, status) VALUES (1, 2, 'vk', '200', 'queued')", nil},
	}
	for _, st := range stmts {
		if err := s.db.WithContext(ctx).Exec(st.q, st.args...).Error; err != nil {
			t.Fatalf("seed %q: %v", st.q, err)
		}
	}
}
