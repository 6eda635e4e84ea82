package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/crm"
)

// TestApplyGenericPlan: a dialog step's statement, planned generically
// while clients is small and not analyzed yet (a new database: each pooled
// connection's prepared statement keeps the generic plan it got then, until
// an ANALYZE), reads clients through its indexes, not by a sequential scan
// of every client. Every step records messages, so every step has the
// once filter (CTE f, see writeOnceFilter). 30 clients stay below
// autovacuum's analyze threshold (50 rows).
func TestApplyGenericPlan(t *testing.T) {
	t.Parallel()
	s := openPGTemp(t)
	step := func(i int) *crm.Changes {
		return &crm.Changes{Now: at(i), UpdateID: fmt.Sprint(100 + i),
			Answers:  []crm.Answer{{Scenario: "portrait", Version: "v1", Step: "city", Field: "city", Value: "Самара"}},
			Messages: []crm.Message{inMsg("Самара"), botMsg("Сколько вам лет?")},
			Visits: []crm.StepVisit{
				{Scenario: "portrait", Version: "v1", Run: int64(i), Step: "city", Event: crm.VisitAnswer, Next: "age"},
				{Scenario: "portrait", Version: "v1", Run: int64(i), Step: "age", Event: crm.VisitEnter},
			}}
	}
	for i := range 30 {
		apply(t, s, newKey(), step(i))
	}
	p, err := s.newPlan(step(99))
	if err != nil {
		t.Fatal(err)
	}
	b := stmt{numbered: true}
	args := writePGApply(&b, newKey(), p, false)
	plan := genericPlan(t, s, b.String(), args)
	if !strings.Contains(string(plan), `"step_visits_client_idx"`) {
		t.Errorf("the generic plan does not find the answered visit by step_visits_client_idx:\n%s", plan)
	}
	for _, table := range []string{"clients", "step_visits"} {
		if scans := seqScans(plan, table); scans > 0 {
			t.Errorf("the generic plan scans %s sequentially %d times:\n%s", table, scans, plan)
		}
	}
}

// genericPlan prepares q on a connection of its own and returns its generic
// plan (EXPLAIN, FORMAT JSON) for args, without running it.
func genericPlan(t *testing.T, s *Store, q string, args []any) []byte {
	t.Helper()
	ctx := context.Background()
	db, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var plan []byte
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if _, err := c.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
			return err
		}
		defer c.Exec(ctx, "RESET plan_cache_mode")
		if _, err := c.Prepare(ctx, "generic_plan_test", q); err != nil {
			return err
		}
		defer c.Deallocate(ctx, "generic_plan_test")
		params := make([]string, len(args))
		for i := range args {
			params[i] = fmt.Sprintf("$%d", i+1)
		}
		return c.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE generic_plan_test("+strings.Join(params, ", ")+")",
			append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...).Scan(&plan)
	})
	if err != nil {
		t.Fatalf("explain the generic plan: %v", err)
	}
	return plan
}

// seqScans counts the sequential scans of table in an EXPLAIN (FORMAT
// JSON) plan.
func seqScans(plan []byte, table string) int {
	var nodes []any
	if err := json.Unmarshal(plan, &nodes); err != nil {
		return -1
	}
	n := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["Node Type"] == "Seq Scan" && v["Relation Name"] == table {
				n++
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(nodes)
	return n
}

// TestPGArgCount: pgArgCount counts writePGApply's arguments exactly, so
// that the list is allocated once.
func TestPGArgCount(t *testing.T) {
	t.Parallel()
	s := openPGTemp(t)
	cases := []struct {
		name string
		ch   *crm.Changes
	}{
		{"empty", &crm.Changes{Now: at(0)}},
		{"typical step", typicalStep(0)},
		{"attributes", typicalStep(1)},
		{"no update id", &crm.Changes{Now: at(0), Messages: []crm.Message{inMsg("a")}}},
		{"everything", &crm.Changes{Now: at(0), UpdateID: "7",
			Set:             []crm.FieldValue{{Field: "city", Value: "Самара"}},
			AddTags:         []string{"a", "b"},
			RemoveTags:      []string{"c"},
			Answers:         []crm.Answer{{Scenario: "s", Version: "v", Step: "x", Field: "f", Value: "1"}, {Scenario: "s", Version: "v", Step: "y", Field: "g", Value: "2"}},
			Note:            &crm.Note{Author: "a", Text: "t"},
			Handoff:         &crm.Handoff{Reason: "r", Question: "q"},
			Completion:      &crm.Completion{Scenario: "s", Version: "v", Step: "y"},
			Messages:        []crm.Message{inMsg("a"), botMsg("b"), botMsg("c")},
			HandoffActivity: &crm.HandoffActivity{Question: "q"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.newPlan(c.ch)
			if err != nil {
				t.Fatal(err)
			}
			for _, full := range []bool{false, true} {
				var b stmt
				args := writePGApply(&b, newKey(), p, full)
				if got := strings.Count(b.String(), "?"); got != len(args) || pgArgCount(p) != len(args) {
					t.Errorf("full %v: %d placeholders, %d arguments, pgArgCount %d", full, got, len(args), pgArgCount(p))
				}
			}
		})
	}
}
