package postgres

import (
	"strconv"

	"github.com/chathub/chathub/internal/crm"
)

// stepVisitsSchema is the step_visits table, the funnel's record
// (docs/FUNNEL.md): one row per step a conversation entered, written by
// the dialog's own CRM write (crm.Changes.Visits, in ApplyChanges's one
// statement). A conversation is the client's run (its start in Unix
// microseconds). answered_at is set when the client answered the step (at
// entry for a message-only step), left_at when the conversation left it,
// answered or not (NULL: it still waits there), next_step where it went
// ("" when it ended). Rows go with their client (ON DELETE CASCADE).
//
// Indexes are few, the table being written on every dialog turn:
// (client_id, run) finds a conversation's open visit for the answer's
// UPDATE, the cascade and stuck(...); the funnel's period filter reads
// entered_at, on PostgreSQL through a BRIN index (rows come in time
// order, so it costs a few pages, not a B-tree entry per visit; the
// answer's UPDATE changes no indexed column, so it is HOT when the page
// has room for the new row version: pgStepVisitsFillfactor).
func stepVisitsSchema(id, ref, ts string, pg bool) []string {
	out := []string{
		`CREATE TABLE step_visits (
			id ` + id + `,
			client_id ` + ref + ` NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
			run BIGINT NOT NULL,
			scenario TEXT NOT NULL,
			version TEXT NOT NULL,
			step TEXT NOT NULL,
			entered_at ` + ts + ` NOT NULL,
			answered_at ` + ts + `,
			left_at ` + ts + `,
			next_step TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX step_visits_client_idx ON step_visits (client_id, run)`,
	}
	if pg {
		return append(out, `CREATE INDEX step_visits_entered_idx ON step_visits USING BRIN (entered_at)`)
	}
	return append(out, `CREATE INDEX step_visits_scenario_idx ON step_visits (scenario, entered_at)`)
}

// pgStepVisitsFillfactor (migration 29) leaves 30 % of each new
// step_visits page free. Every visit row is inserted when its step is
// entered and updated once when it is answered or left, usually a turn
// later; packed full, the page had no room for the new row version, so
// about half of those updates moved the row to another page, a non-HOT
// update with an entry in each of the table's indexes (2 B-trees and the
// BRIN). With the room, 90 % of them are HOT in the inbound benchmark
// (docs/BENCHMARKS.md, issue 14). Pages written before keep their layout.
// SQLite has no such setting.
var pgStepVisitsFillfactor = []string{
	`ALTER TABLE step_visits SET (fillfactor = 70)`,
}

// visitsSplit counts p's visits that insert a row (entered, passed) and
// those that update an open one (answered, dropped).
func visitsSplit(visits []crm.StepVisit) (inserts, updates int) {
	for i := range visits {
		switch visits[i].Event {
		case crm.VisitEnter, crm.VisitPass:
			inserts++
		default:
			updates++
		}
	}
	return inserts, updates
}

// visitInsertWidth and visitUpdateWidth are how many arguments
// writePGVisits gives per inserted and per updated visit.
const (
	visitInsertWidth = 6
	visitUpdateWidth = 4
)

// writePGVisits renders the step visit CTEs: one INSERT of the entered
// and passed steps, one UPDATE per answered or dropped open visit (they
// touch distinct rows: one statement must not update a row twice), each
// reading the client from src (c or f: recorded once per update).
func writePGVisits(b *stmt, args []any, p *plan, src string) []any {
	ins, _ := visitsSplit(p.visits)
	if ins > 0 {
		b.WriteString(", vi AS (INSERT INTO step_visits (client_id, run, scenario, version, step, entered_at, " +
			"answered_at, left_at, next_step) SELECT s.id, v.r, v.sc, v.ve, v.st, s.updated_at, " +
			"CASE WHEN v.pass THEN s.updated_at END, CASE WHEN v.pass THEN s.updated_at END, v.nx FROM ")
		b.WriteString(src)
		b.WriteString(" AS s, (VALUES ")
		n := 0
		for i := range p.visits {
			v := &p.visits[i]
			if v.Event != crm.VisitEnter && v.Event != crm.VisitPass {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			b.sql("(CAST(? AS BIGINT), ?, ?, ?, CAST(? AS BOOLEAN), ?)")
			args = append(args, v.Run, v.Scenario, v.Version, v.Step, v.Event == crm.VisitPass, v.Next)
		}
		b.WriteString(") AS v(r, sc, ve, st, pass, nx))")
	}
	n := 0
	for i := range p.visits {
		v := &p.visits[i]
		if v.Event != crm.VisitAnswer && v.Event != crm.VisitDrop {
			continue
		}
		b.WriteString(", vu")
		b.WriteString(strconv.Itoa(n))
		n++
		b.WriteString(" AS (UPDATE step_visits SET left_at = s.updated_at, ")
		if v.Event == crm.VisitAnswer {
			b.WriteString("answered_at = s.updated_at, ")
		}
		b.sql("next_step = CAST(? AS TEXT) FROM ")
		b.WriteString(src)
		b.sql(" AS s WHERE step_visits.client_id = s.id AND step_visits.run = CAST(? AS BIGINT) " +
			"AND step_visits.scenario = CAST(? AS TEXT) AND step_visits.step = CAST(? AS TEXT) AND step_visits.left_at IS NULL)")
		args = append(args, v.Next, v.Run, v.Scenario, v.Step)
	}
	return args
}

// sqliteVisits renders the step visit statements of client id (see
// writePGVisits).
func sqliteVisits(id int64, p *plan) []sqlStmt {
	var out []sqlStmt
	ins, _ := visitsSplit(p.visits)
	if ins > 0 {
		args := make([]any, 0, 9*ins)
		for i := range p.visits {
			v := &p.visits[i]
			if v.Event != crm.VisitEnter && v.Event != crm.VisitPass {
				continue
			}
			var at any
			if v.Event == crm.VisitPass {
				at = p.now
			}
			args = append(args, id, v.Run, v.Scenario, v.Version, v.Step, p.now, at, at, v.Next)
		}
		out = append(out, sqlStmt{"add step visits", "INSERT INTO step_visits (client_id, run, scenario, version, step, " +
			"entered_at, answered_at, left_at, next_step) VALUES " + values(ins, 9), args})
	}
	for i := range p.visits {
		v := &p.visits[i]
		switch v.Event {
		case crm.VisitAnswer:
			out = append(out, sqlStmt{"answer step visit", "UPDATE step_visits SET left_at = ?, answered_at = ?, next_step = ? " +
				"WHERE client_id = ? AND run = ? AND scenario = ? AND step = ? AND left_at IS NULL",
				[]any{p.now, p.now, v.Next, id, v.Run, v.Scenario, v.Step}})
		case crm.VisitDrop:
			out = append(out, sqlStmt{"drop step visit", "UPDATE step_visits SET left_at = ?, next_step = ? " +
				"WHERE client_id = ? AND run = ? AND scenario = ? AND step = ? AND left_at IS NULL",
				[]any{p.now, v.Next, id, v.Run, v.Scenario, v.Step}})
		}
	}
	return out
}
