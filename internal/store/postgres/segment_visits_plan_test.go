package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/segment/segmenttest"
)

// TestStuckSegmentPlanSQLite: on SQLite, stuck(...) and dropped(...) look
// a client's visits up by client (step_visits_client_idx), never through
// the (scenario, entered_at) index, which would read every visit of the
// scenario once per client.
func TestStuckSegmentPlanSQLite(t *testing.T) {
	t.Parallel()
	s := openSQLiteTemp(t)
	for _, src := range []string{`stuck("portrait", "city")`, `dropped("portrait", "city")`,
		`stuck("portrait", "city", {since: ago("7d"), version: "v1", platform: "vk", source: "promo"})`,
		`dropped("portrait", "city", ago("30d"))`} {
		seg, err := segment.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		where, err := seg.At(segmenttest.Base).SQL(segment.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.db.WithContext(context.Background()).Raw("EXPLAIN QUERY PLAN SELECT id FROM clients WHERE "+where.SQL, where.Args...).Rows()
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(detail, "step_visits") {
				plan = append(plan, detail)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if len(plan) != 1 || !strings.Contains(plan[0], "USING INDEX step_visits_client_idx (client_id=?") {
			t.Errorf("%s: step_visits read by %q; want step_visits_client_idx", src, plan)
		}
	}
}
