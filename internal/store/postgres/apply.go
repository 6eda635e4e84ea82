package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// ApplyChanges creates the client with chat key key if needed, applies ch
// atomically and returns the client as stored afterwards (a nil ch only
// touches updated_at and last_seen_at). See crm.Changes for what each part
// does; in short:
//
//   - Profile fills names, username, language, city, gender and birth date
//     only where the client has no value yet: what the client typed wins;
//   - Set writes whitelisted core columns (crm.LookupField), checking types
//     and enum values; setting birth_date sets age too unless age is set;
//   - Attributes merge key by key into the attributes JSON;
//   - every Set and Attributes field is stamped in Confirmed with ch.Now;
//   - Source is kept only when the client has none (first touch wins);
//   - a tag both added and removed ends up removed;
//   - Answers, Note, Handoff, Completion, the transcript Messages and the
//     HandoffActivity stamp are recorded once per update: applied again
//     with the client's last UpdateID they are skipped (see
//     writeOnceFilter), the rest is applied again and the client returned;
//   - each message belongs to the client's live request (NULL when none,
//     the request this change records included) and is stamped with the
//     change's time (Message.CreatedAt is not read: the messages of one
//     update keep their order by id); its texts are made storable with
//     crm.CutMessageText.
//
// On PostgreSQL it is a single statement (the upsert plus data-modifying
// CTEs), so one round trip whatever ch holds. On SQLite it is a transaction
// of one statement per kind of change. Tags in the returned client reflect
// concurrent writers that committed before the statement began.
func (s *Store) ApplyChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) (*crm.Client, error) {
	c, err := s.applyChanges(ctx, key, ch, true)
	if err != nil {
		return nil, fmt.Errorf("apply changes %s: %w", key, err)
	}
	return c, nil
}

// RecordChanges is ApplyChanges for a caller that does not read the client
// back (the dialog, on every update): on PostgreSQL the statement returns
// only the client's id, with no columns to send and decode and no tag list
// to aggregate.
//
// Changes with Forget delete the client instead (DeleteClient).
func (s *Store) RecordChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) error {
	if ch != nil && ch.Forget {
		_, err := s.DeleteClient(ctx, key)
		return err
	}
	if _, err := s.applyChanges(ctx, key, ch, false); err != nil {
		return fmt.Errorf("record changes %s: %w", key, err)
	}
	return nil
}

// applyChanges applies ch and, when full, returns the client as stored
// afterwards (else nil on PostgreSQL).
func (s *Store) applyChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes, full bool) (*crm.Client, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if ch == nil {
		ch = &crm.Changes{}
	}
	p, err := s.newPlan(ch)
	if err != nil {
		// A change that does not validate never will: refused for good.
		return nil, fmt.Errorf("%w: %w", crm.ErrRejected, err)
	}
	var c *crm.Client
	if s.pg() {
		c, err = s.applyPostgres(ctx, key, p, full)
	} else {
		c, err = s.applySQLite(ctx, key, p)
	}
	return c, classify(err)
}

// checkKey rejects keys that cannot identify a client.
func checkKey(key messenger.ChatKey) error {
	if key.Platform == "" || key.ID == "" {
		return errors.New("chat key needs a platform and an id")
	}
	return nil
}

// lastSeenPrecision is how fine clients.last_seen_at is on PostgreSQL: a
// write less than this after the stored time keeps the stored time. The
// column is indexed (activity segments), so writing it on every update made
// every client update a non-HOT one, inserting into each of the table's
// indexes and its GIN index; kept as it is, the row is updated in place
// (HOT) unless an indexed column changes, which cut the WAL of the dialog
// benchmark by a third (docs/BENCHMARKS.md). Segments ask "seen within 30
// days", never within seconds. SQLite has no HOT updates and writes the
// exact time.
const lastSeenPrecision = time.Minute

// pgLastSeen sets last_seen_at on conflict unless the stored time is at most
// lastSeenPrecision before the new one; its parameter is that bound.
const pgLastSeen = "last_seen_at = CASE WHEN t.last_seen_at > ? AND t.last_seen_at <= EXCLUDED.last_seen_at " +
	"THEN t.last_seen_at ELSE EXCLUDED.last_seen_at END"

// writeUpsert renders the clients upsert returning returning (a column list);
// pg selects PostgreSQL's coarse last_seen_at (see lastSeenPrecision).
func writeUpsert(b *stmt, args []any, key messenger.ChatKey, p *plan, returning string, pg bool) []any {
	b.WriteString("INSERT INTO clients AS t (platform, bot, platform_user_id, created_at, updated_at, last_seen_at")
	for _, c := range p.cols {
		b.WriteString(", ")
		b.WriteString(c.name)
	}
	b.sql(") VALUES (?, ?, ?, ?, ?, ?")
	args = append(args, string(key.Platform), key.Bot, key.ID, p.now, p.now, p.now)
	for _, c := range p.cols {
		b.WriteString(", ")
		b.param()
		args = append(args, c.val)
	}
	b.WriteString(") ON CONFLICT (platform, bot, platform_user_id) DO UPDATE SET updated_at = EXCLUDED.updated_at, ")
	if pg {
		b.sql(pgLastSeen)
		args = append(args, p.now.Add(-lastSeenPrecision))
	} else {
		b.WriteString("last_seen_at = EXCLUDED.last_seen_at")
	}
	// Column names and update expressions hold no placeholder.
	for _, c := range p.cols {
		b.WriteString(", ")
		b.WriteString(c.set)
	}
	b.WriteString(" RETURNING ")
	b.WriteString(returning)
	return args
}

// stmt is a statement being built. Its placeholders are written as
// PostgreSQL's $1, $2, … when numbered (statements the group commit hands
// to pgx as they are), else as gorm's '?' (gorm numbers them for
// PostgreSQL; SQLite takes them as they are). Numbering while writing
// spares the dialog's statement a second pass and a copy on every update.
type stmt struct {
	strings.Builder
	numbered bool
	n        int // placeholders written so far
}

// newStmt returns a statement builder for queryRow: numbered when the
// statement goes to the group commit.
func (s *Store) newStmt() stmt {
	return stmt{numbered: s.batch != nil}
}

// sql writes q, whose every '?' is a placeholder (statements carry every
// value as a parameter: no string literal holds a '?', and the jsonb '?'
// operators are not used), numbering them when b is numbered. Fragments
// with no placeholder are written with WriteString instead: the dialog's
// statement is built on every update, and scanning its constant text was
// some 8% of building it in a micro-benchmark (docs/BENCHMARKS.md);
// TestWritePGApplyPlaceholders catches a '?' written that way.
func (b *stmt) sql(q string) {
	if !b.numbered {
		b.WriteString(q)
		return
	}
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return
		}
		b.WriteString(q[:i])
		b.param()
		q = q[i+1:]
	}
}

// param writes the next placeholder.
func (b *stmt) param() {
	if !b.numbered {
		b.WriteByte('?')
		return
	}
	b.n++
	var buf [20]byte
	b.WriteByte('$')
	b.Write(strconv.AppendInt(buf[:0], int64(b.n), 10))
}

// upsertKeyColumns is what the statement's other CTEs read from the upsert.
const upsertKeyColumns = "id, updated_at"

// writeValues renders "(?, ?), (?, ?)" for rows of width params each
// (into b: nothing to allocate on every update).
func writeValues(b *stmt, rows, width int) {
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.param()
		for j := 1; j < width; j++ {
			b.WriteString(", ")
			b.param()
		}
		b.WriteByte(')')
	}
}

// tagArgs returns tags as query arguments.
func tagArgs(args []any, tags []string) []any {
	for _, t := range tags {
		args = append(args, t)
	}
	return args
}

// answerArgs returns the per-row values of answers.
func answerArgs(args []any, answers []crm.Answer) []any {
	for _, a := range answers {
		args = append(args, a.Scenario, a.Version, a.Step, a.Field, a.Value)
	}
	return args
}

// pgStatementSize is room for a typical dialog step's statement (about
// 2.0-2.2 KB: the upsert, an answer, a tag), so that building it does not
// regrow the buffer.
const pgStatementSize = 2560

// applyPostgres runs the whole plan as one statement: the upsert is CTE c,
// every other change a data-modifying CTE reading the client id from c (or,
// for the rows an update records once, from f: see writeOnceFilter).
//
// When full is false the statement returns only the client's id and
// applyPostgres returns a nil client.
func (s *Store) applyPostgres(ctx context.Context, key messenger.ChatKey, p *plan, full bool) (*crm.Client, error) {
	b := s.newStmt()
	b.Grow(pgStatementSize)
	args := writePGApply(&b, key, p, full)
	var r clientRow
	dest := []any{&r.c.ID}
	if full {
		dest = r.targets()
	}
	found, err := s.queryRow(ctx, b.String(), args, dest...)
	if err == nil && !found {
		err = errors.New("upsert returned no row")
	}
	if err != nil || !full {
		return nil, err
	}
	return r.client(), nil
}

// writePGApply renders applyPostgres's statement and returns its
// arguments: with full it returns the client's columns and tags (see
// clientRow.targets), else the client's id alone.
func writePGApply(b *stmt, key messenger.ChatKey, p *plan, full bool) []any {
	b.WriteString("WITH c AS (")
	returning := upsertKeyColumns
	if full {
		returning = clientColumns
	}
	args := writeUpsert(b, make([]any, 0, pgArgCount(p)), key, p, returning, true)
	b.WriteString(")")
	args = writePGTags(b, args, p)
	args, src := writeOnceFilter(b, args, p)
	args = writePGAppends(b, args, p, src)
	if full {
		b.WriteString(" SELECT ")
		b.WriteString(clientColumns)
		b.WriteString(", ")
		b.WriteString(pgTagsAfter(p))
		b.WriteString(" FROM c")
	} else {
		b.WriteString(" SELECT id FROM c")
	}
	return args
}

// pgArgCount is how many arguments writePGApply gives for p, so that its
// argument list is allocated once.
func pgArgCount(p *plan) int {
	// The key, the times and last_seen_at's bound (writeUpsert).
	n := 7 + len(p.cols) + len(p.addTags) + len(p.rmTags) + 5*len(p.answers) + messageWidth*len(p.messages)
	if p.once() {
		n++
	}
	if p.note != nil {
		n += 2
	}
	if p.handoff != nil {
		n += 4
	}
	if p.activity != nil {
		n += 3
	}
	if p.completed != nil {
		n += 3
	}
	ins, upd := visitsSplit(p.visits)
	n += visitInsertWidth*ins + visitUpdateWidth*upd
	return n
}

// writeOnceFilter renders CTE f when p.once() and returns the CTE the
// append-only INSERTs read the client from (f, or else c). It is how an
// update records its answers, note, hand-off and completion once even when
// it is handled again after its CRM write committed (Redis lost before the
// state save, or the process died there, so the engine re-runs the step
// from the old state). clients.last_update_id names the update whose
// changes the client's latest write recorded; a write of the same update id
// again skips the append-only rows and applies the rest (column, attribute
// and tag writes are idempotent, and the client row comes back as usual).
//
// One column on the row the upsert writes anyway was chosen over an
// update_id column with a partial unique index on each append-only table
// (ON CONFLICT DO NOTHING): it adds no index maintenance to the answer
// history, the largest and most written table, and no round trip. It
// dedupes a repeat of the client's latest update, which is the case that
// occurs: the updates of one chat are handled one at a time in order, and
// the conversation state in Redis likewise remembers only the last applied
// update (dialog.Handler). The check is in the same statement: every CTE
// reads the snapshot taken before the upsert, so f, the upserted row
// filtered on the stored last_update_id, is empty for a repeated update and
// the INSERTs reading it insert nothing. (SQLite reads the stored id in its
// transaction first: sqliteRecordsAppends.) Two writes of one update id
// never race: the dispatcher's claim on the update id and the chat's lock
// keep one handler per chat.
//
// f reads the stored id with a scalar subquery on the primary key, not an
// anti-join (NOT EXISTS ... AND last_update_id = ?): until clients is first
// analyzed, the anti-join's filter on last_update_id made a sequential scan
// look cheaper than the index, and each connection's prepared statement
// keeps the generic plan it got then, so on a new database every update
// scanned every client (and every update has f since the transcript:
// docs/BENCHMARKS.md, issue 12). The lookup by id alone uses the primary
// key there (TestApplyGenericPlan).
func writeOnceFilter(b *stmt, args []any, p *plan) ([]any, string) {
	if !p.once() {
		return args, "c"
	}
	b.sql(", f AS (SELECT c.id, c.updated_at FROM c WHERE " +
		"(SELECT o.last_update_id FROM clients AS o WHERE o.id = c.id) IS DISTINCT FROM ?)")
	return append(args, p.updateArg), "f"
}

// writeSource ends an INSERT's SELECT with "src AS s)" (no concatenation:
// the statement is built on every update).
func writeSource(b *stmt, src string) {
	b.WriteString(src)
	b.WriteString(" AS s)")
}

// writePGTags renders the tag CTEs.
func writePGTags(b *stmt, args []any, p *plan) []any {
	if len(p.addTags) > 0 {
		b.WriteString(", nt AS (SELECT v.tag FROM (VALUES ")
		writeValues(b, len(p.addTags), 1)
		b.WriteString(") AS v(tag)), ta AS (INSERT INTO client_tags (client_id, tag, created_at) " +
			"SELECT c.id, nt.tag, c.updated_at FROM c, nt ON CONFLICT DO NOTHING)")
		args = tagArgs(args, p.addTags)
	}
	if len(p.rmTags) > 0 {
		b.WriteString(", rt AS (SELECT v.tag FROM (VALUES ")
		writeValues(b, len(p.rmTags), 1)
		b.WriteString(") AS v(tag)), td AS (DELETE FROM client_tags " +
			"WHERE client_id = (SELECT id FROM c) AND tag IN (SELECT tag FROM rt))")
		args = tagArgs(args, p.rmTags)
	}
	return args
}

// writePGAppends renders the answer, note, hand-off, transcript, hand-off
// activity, completion and step visit CTEs,
// inserting one row set per row of src (CTE c or f, with id and updated_at).
func writePGAppends(b *stmt, args []any, p *plan, src string) []any {
	if len(p.answers) > 0 {
		b.WriteString(", a AS (INSERT INTO answers (client_id, scenario, version, step, field, value, created_at) " +
			"SELECT s.id, v.scenario, v.version, v.step, v.field, v.value, s.updated_at FROM ")
		b.WriteString(src)
		b.WriteString(" AS s, (VALUES ")
		writeValues(b, len(p.answers), 5)
		b.WriteString(") AS v(scenario, version, step, field, value))")
		args = answerArgs(args, p.answers)
	}
	if p.note != nil {
		b.sql(", n AS (INSERT INTO notes (client_id, author, text, created_at) " +
			"SELECT s.id, CAST(? AS TEXT), CAST(? AS TEXT), s.updated_at FROM ")
		writeSource(b, src)
		args = append(args, p.note.Author, p.note.Text)
	}
	if p.handoff != nil {
		// At most one live request per client (handoffs_live_idx): a second
		// request while one is live adds nothing.
		b.sql(", h AS (INSERT INTO handoffs (client_id, scenario, step, reason, question, " +
			"created_at, waiting_since, last_activity_at) " +
			"SELECT s.id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), " +
			"s.updated_at, s.updated_at, s.updated_at FROM ")
		b.WriteString(src)
		b.WriteString(" AS s ON CONFLICT DO NOTHING")
		if len(p.messages) > 0 {
			b.WriteString(" RETURNING id")
		}
		b.WriteString(")")
		args = append(args, p.handoff.Scenario, p.handoff.Step, p.handoff.Reason, p.handoff.Question)
	}
	args = writePGTranscript(b, args, p, src)
	if p.completed != nil {
		b.sql(", cp AS (INSERT INTO completions (client_id, scenario, version, step, created_at) " +
			"SELECT s.id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), s.updated_at FROM ")
		writeSource(b, src)
		args = append(args, p.completed.Scenario, p.completed.Version, p.completed.Step)
	}
	return writePGVisits(b, args, p, src)
}

// pgLiveHandoff is the id of the live request of client s.id (NULL when
// none): the request a transcript message belongs to.
const pgLiveHandoff = "(SELECT lh.id FROM handoffs AS lh WHERE lh.client_id = s.id AND lh.status <> 'closed')"

// writePGTranscript renders the transcript CTE (the update's messages, in
// order, each with the client's live request; a request this statement
// records is invisible to the statement's snapshot, so it is read from CTE
// h) and the hand-off activity CTE (the live request's waiting clock, last
// activity and, while empty, question).
//
// The messages are inserted (and numbered) in the order of their VALUES
// list with no sort: the list is joined to the single row of src with no
// join condition, a nested loop that keeps the list's order whichever side
// it scans first.
func writePGTranscript(b *stmt, args []any, p *plan, src string) []any {
	if len(p.messages) > 0 {
		b.WriteString(", m AS (INSERT INTO messages (client_id, direction, author_kind, author, text, button, media, " +
			"platform_msg_id, status, error, handoff_id, created_at) SELECT s.id, v.d, v.k, v.a, v.t, v.b, v.m, v.p, v.st, v.e, ")
		if p.handoff != nil {
			b.WriteString("COALESCE((SELECT id FROM h), " + pgLiveHandoff + ")")
		} else {
			b.WriteString(pgLiveHandoff)
		}
		b.WriteString(", s.updated_at FROM ")
		b.WriteString(src)
		b.WriteString(" AS s, (VALUES ")
		writeValues(b, len(p.messages), messageWidth)
		b.WriteString(") AS v(d, k, a, t, b, m, p, st, e))")
		args = messageArgs(args, p.messages)
	}
	if a := p.activity; a != nil {
		b.sql(", ha AS (UPDATE handoffs SET waiting_since = COALESCE(waiting_since, CAST(? AS TIMESTAMPTZ)), " +
			"last_activity_at = CAST(? AS TIMESTAMPTZ), question = CASE WHEN question = '' THEN CAST(? AS TEXT) ELSE question END " +
			"WHERE client_id = (SELECT id FROM ")
		b.WriteString(src)
		b.WriteString(") AND status <> 'closed')")
		at := activityTime(p)
		args = append(args, at, at, a.Question)
	}
	return args
}

// messageWidth is how many values messageArgs gives per message.
const messageWidth = 9

// messageArgs returns the per-row values of msgs.
func messageArgs(args []any, msgs []crm.Message) []any {
	for i := range msgs {
		m := &msgs[i]
		args = append(args, m.Direction, m.AuthorKind, m.Author, m.Text, m.Button, m.Media, m.PlatformMsgID, m.Status, m.Error)
	}
	return args
}

// activityTime is when the hand-off activity happened: its At, else the
// update's time.
func activityTime(p *plan) time.Time {
	if p.activity.At.IsZero() {
		return p.now
	}
	return p.activity.At
}

// pgTagsAfter is the tag set after the statement: the CTEs' own changes are
// invisible to its snapshot, so they are applied to the stored set here.
func pgTagsAfter(p *plan) string {
	if len(p.addTags) == 0 && len(p.rmTags) == 0 {
		return "(SELECT COALESCE(json_agg(tag), '[]') FROM client_tags WHERE client_id = c.id)"
	}
	var b strings.Builder
	b.WriteString("(SELECT COALESCE(json_agg(x.tag), '[]') FROM (SELECT tag FROM client_tags WHERE client_id = c.id")
	if len(p.addTags) > 0 {
		b.WriteString(" UNION SELECT tag FROM nt")
	}
	if len(p.rmTags) > 0 {
		b.WriteString(" EXCEPT SELECT tag FROM rt")
	}
	b.WriteString(") AS x)")
	return b.String()
}

// applySQLite runs the plan as a transaction of a few statements.
func (s *Store) applySQLite(ctx context.Context, key messenger.ChatKey, p *plan) (*crm.Client, error) {
	var r clientRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		appends, err := sqliteRecordsAppends(tx, key, p)
		if err != nil {
			return err
		}
		// The driver parses every statement anew, so statements are few:
		// the upsert returns the tags too unless this change edits them.
		var b stmt // gorm's '?' placeholders
		args := writeUpsert(&b, nil, key, p, clientColumns, false)
		b.WriteString(", " + s.tagsExpr("clients.id"))
		found, err := queryOne(tx, b.String(), args, r.targets()...)
		if err == nil && !found {
			err = errors.New("upsert returned no row")
		}
		if err != nil {
			return err
		}
		if err := sqliteSideEffects(tx, r.c.ID, p, appends); err != nil {
			return err
		}
		if len(p.addTags) == 0 && len(p.rmTags) == 0 {
			return nil
		}
		_, err = queryOne(tx, "SELECT "+s.tagsExpr("?"), []any{r.c.ID}, tagsScanner{&r.c.Tags})
		return err
	})
	if err != nil {
		return nil, err
	}
	return r.client(), nil
}

// sqliteRecordsAppends reports whether p's append-only rows are to be
// recorded: always, unless p is an update's and the client's stored
// last_update_id is that update's already (see writeOnceFilter).
func sqliteRecordsAppends(tx *gorm.DB, key messenger.ChatKey, p *plan) (bool, error) {
	if !p.once() {
		return true, nil
	}
	var last string
	found, err := queryOne(tx, "SELECT last_update_id FROM clients WHERE platform = ? AND bot = ? AND platform_user_id = ?",
		[]any{string(key.Platform), key.Bot, key.ID}, &last)
	if err != nil {
		return false, fmt.Errorf("read last update id: %w", err)
	}
	return !found || last != p.updateID, nil
}

// sqlStmt is one statement with its arguments.
type sqlStmt struct {
	what, sql string
	args      []any
}

// sqliteSideEffects writes tags and, when appends is set, answers, the
// note, the hand-off and the completion of client id, one statement each.
func sqliteSideEffects(tx *gorm.DB, id int64, p *plan, appends bool) error {
	for _, st := range sqliteStatements(id, p, appends) {
		if err := tx.Exec(st.sql, st.args...).Error; err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

// sqliteStatements renders the statements sqliteSideEffects runs.
func sqliteStatements(id int64, p *plan, appends bool) []sqlStmt {
	var out []sqlStmt
	if len(p.addTags) > 0 {
		var args []any
		for _, t := range p.addTags {
			args = append(args, id, t, p.now)
		}
		out = append(out, sqlStmt{"add tags", "INSERT INTO client_tags (client_id, tag, created_at) VALUES " +
			values(len(p.addTags), 3) + " ON CONFLICT DO NOTHING", args})
	}
	if len(p.rmTags) > 0 {
		out = append(out, sqlStmt{"remove tags", "DELETE FROM client_tags WHERE client_id = ? AND tag IN " +
			values(1, len(p.rmTags)), tagArgs([]any{id}, p.rmTags)})
	}
	if !appends {
		return out
	}
	return append(out, sqliteAppends(id, p)...)
}

// sqliteAppends renders the answer, note, hand-off and completion inserts.
func sqliteAppends(id int64, p *plan) []sqlStmt {
	var out []sqlStmt
	if len(p.answers) > 0 {
		var args []any
		for _, a := range p.answers {
			args = append(args, id, a.Scenario, a.Version, a.Step, a.Field, a.Value, p.now)
		}
		out = append(out, sqlStmt{"add answers", "INSERT INTO answers " +
			"(client_id, scenario, version, step, field, value, created_at) VALUES " + values(len(p.answers), 7), args})
	}
	if n := p.note; n != nil {
		out = append(out, sqlStmt{"add note", "INSERT INTO notes (client_id, author, text, created_at) " +
			"VALUES (?, ?, ?, ?)", []any{id, n.Author, n.Text, p.now}})
	}
	if h := p.handoff; h != nil {
		out = append(out, sqlStmt{"add handoff", "INSERT INTO handoffs (client_id, scenario, step, reason, question, " +
			"created_at, waiting_since, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			[]any{id, h.Scenario, h.Step, h.Reason, h.Question, p.now, p.now, p.now}})
	}
	out = append(out, sqliteTranscript(id, p)...)
	if cp := p.completed; cp != nil {
		out = append(out, sqlStmt{"add completion", "INSERT INTO completions (client_id, scenario, version, step, created_at) " +
			"VALUES (?, ?, ?, ?, ?)", []any{id, cp.Scenario, cp.Version, cp.Step, p.now}})
	}
	return append(out, sqliteVisits(id, p)...)
}

// sqliteLiveHandoff is the id of the live request of client ? (NULL when
// none).
const sqliteLiveHandoff = "(SELECT id FROM handoffs WHERE client_id = ? AND status <> 'closed')"

// sqliteTranscript renders the transcript insert and the hand-off activity
// update (see writePGTranscript); they run after the hand-off insert, so a
// request the same update records is the messages' request.
func sqliteTranscript(id int64, p *plan) []sqlStmt {
	var out []sqlStmt
	if len(p.messages) > 0 {
		var b strings.Builder
		b.WriteString("INSERT INTO messages (client_id, direction, author_kind, author, text, button, media, " +
			"platform_msg_id, status, error, handoff_id, created_at) VALUES ")
		args := make([]any, 0, 12*len(p.messages))
		for i := range p.messages {
			m := &p.messages[i]
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " + sqliteLiveHandoff + ", ?)")
			args = append(args, id, m.Direction, m.AuthorKind, m.Author, m.Text, m.Button, m.Media,
				m.PlatformMsgID, m.Status, m.Error, id, p.now)
		}
		out = append(out, sqlStmt{"add messages", b.String(), args})
	}
	if a := p.activity; a != nil {
		at := activityTime(p)
		out = append(out, sqlStmt{"stamp handoff activity", "UPDATE handoffs SET waiting_since = COALESCE(waiting_since, ?), " +
			"last_activity_at = ?, question = CASE WHEN question = '' THEN ? ELSE question END " +
			"WHERE client_id = ? AND status <> 'closed'", []any{at, at, a.Question, id}})
	}
	return out
}

// values returns "(?, ?), (?, ?)" for rows of width params each.
func values(rows, width int) string {
	var b stmt
	writeValues(&b, rows, width)
	return b.String()
}

// queryRow runs q, a statement built with s.newStmt (so numbered exactly
// when s has a group commit) returning at most one row, and scans its first
// row into dest, reporting whether there was one. On PostgreSQL it rides the
// group commit's next batch (see groupCommit), so the dialog's statements of
// many chats share a round trip.
func (s *Store) queryRow(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	if s.batch != nil {
		return s.batch.queryOne(ctx, q, args, dest...)
	}
	return queryOne(s.db.WithContext(ctx), q, args, dest...)
}

// readRow is queryRow for a read: on PostgreSQL it rides the next batch of
// reads, not of writes (see Store.reads). In a batch of writes, the
// dialog's card read (GetClient) waited for the writes queued before it
// and for their commit: 1.3 ms at the median and 9 ms at p99 of a paced
// run at 1,000 updates/s (docs/BENCHMARKS.md, issue 14). It sees every
// write acknowledged before it, as an acknowledged write is committed.
func (s *Store) readRow(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	if s.reads != nil {
		return s.reads.queryOne(ctx, q, args, dest...)
	}
	return queryOne(s.db.WithContext(ctx), q, args, dest...)
}

// queryOne runs q, scans its first row into dest and drains the rest, so
// that errors raised after the first row (deferred CTE work) are reported.
// It reports whether there was a row.
func queryOne(db *gorm.DB, q string, args []any, dest ...any) (bool, error) {
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		if found {
			continue
		}
		if err := rows.Scan(dest...); err != nil {
			return false, err
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return found, rows.Close()
}
