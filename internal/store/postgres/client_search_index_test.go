package postgres

import (
	"strings"
	"testing"
)

// TestClientSearchUsesIndexes: on PostgreSQL every kind of client search
// can be answered from the indexes of migration 12, so a search that
// matches few clients does not read the table. With sequential scans
// disabled the plan must name the expected indexes: a search condition
// that drifts from the indexed expressions (say, lower() dropped) fails.
func TestClientSearchUsesIndexes(t *testing.T) {
	t.Parallel()
	skipPG(t)
	s := openPGTemp(t)
	tests := []struct {
		search string
		want   []string
	}{
		{"Анна", []string{"clients_first_name_prefix_idx", "clients_last_name_prefix_idx", "clients_username_prefix_idx"}},
		{"анна пет", []string{"clients_first_name_prefix_idx", "clients_last_name_prefix_idx"}},
		{"@Anna_K", []string{"clients_username_prefix_idx"}},
		{"+7 912 345-67-89", []string{"clients_phone_idx"}},
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			where, args, err := s.searchWhere(tt.search)
			if err != nil {
				t.Fatal(err)
			}
			tx := s.db.Begin()
			defer tx.Rollback()
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				t.Fatal(err)
			}
			var plan []string
			if err := tx.Raw("EXPLAIN SELECT id FROM clients WHERE "+where, args...).Scan(&plan).Error; err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			for _, idx := range tt.want {
				if !strings.Contains(text, idx) {
					t.Errorf("plan does not use %s:\n%s", idx, text)
				}
			}
		})
	}
}
