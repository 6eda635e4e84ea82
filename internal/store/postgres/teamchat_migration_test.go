package postgres

import (
	"context"
	"path/filepath"
	"testing"
)

// TestTeamChatMigrationCarriesState migrates a database of version 23 (one
// team chat, its state on the request) to the newest: the request that was
// announced keeps its forwarded mark in the chat of its posts and is not
// announced there again, the one that was not is claimed, and a second team
// chat claims both.
func TestTeamChatMigrationCarriesState(t *testing.T) {
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
			ctx := context.Background()
			cfg := tc.cfg(t)
			old := cfg
			old.migrateTo = 23
			s23 := mustOpen(t, old)
			announced, _ := newRequest(t, s23, 0, nil, "где заказ?")
			fresh, _ := newRequest(t, s23, 1, nil, "а мой?")
			db := s23.db.WithContext(ctx)
			if err := db.Exec("UPDATE handoffs SET announced_at = ?, forwarded_id = 4242 WHERE id = ?", stampTime(at(2)), announced).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("INSERT INTO handoff_posts (chat, message_id, handoff_id, created_at) VALUES ('-100', '7', ?, ?)",
				announced, stampTime(at(2))).Error; err != nil {
				t.Fatal(err)
			}
			if err := s23.Close(); err != nil {
				t.Fatal(err)
			}

			s := mustOpen(t, cfg)
			got, err := s.ClaimAnnouncements(ctx, "-100", at(3), 0, 10)
			if err != nil || !eqIDs(requestIDs(got), []int64{fresh}) {
				t.Fatalf("ClaimAnnouncements(-100) after the migration = %v, %v; want only %d", requestIDs(got), err, fresh)
			}
			if n := count(t, s, "SELECT COUNT(*) FROM handoff_team_chats WHERE handoff_id = ? AND chat = '-100' AND forwarded_id = 4242 "+
				"AND announced_at IS NOT NULL", announced); n != 1 {
				t.Errorf("the announced request's state in -100: %d rows, want 1", n)
			}
			if got, err := s.ClaimAnnouncements(ctx, "vk:2000000001", at(3), 0, 10); err != nil || !eqIDs(requestIDs(got), []int64{announced, fresh}) {
				t.Errorf("ClaimAnnouncements(vk) = %v, %v; want both", requestIDs(got), err)
			}
		})
	}
}
