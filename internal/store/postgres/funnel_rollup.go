package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
)

// The funnel rollup (PostgreSQL only; docs/FUNNEL.md "Speed"): the
// funnel's numbers pre-aggregated from step_visits by RefreshFunnel, so
// that reading a funnel costs a few hundred rows instead of every visit of
// the period. A conversation is bucketed by when it started (its run):
//
//   - funnel_days: per UTC day of the run, scenario, step and each of the
//     8 combinations of the filters (dims: bit 1 version, 2 platform, 4
//     source fixed; an unfixed column holds ""), the conversations that
//     entered, answered and (for good) dropped there, and a histogram of
//     the answer times;
//   - funnel_open: each conversation still waiting at a step (a visit not
//     left) entered after its day's last build's fold bound: whether it
//     counts as stuck or dropped depends on the reading's time (dims 1: a
//     conversation that kept its version, read with and without a version
//     filter; one that changed version has a row per version, dims 3, read
//     with one, and one across versions, dims 0, read without);
//   - funnel_built: the days built and the range of entered_at their
//     visits span (how much of step_visits a rebuild reads);
//   - funnel_dirty: days whose visits were deleted (a trigger: deletes are
//     rare, /forget), rebuilt by the next refresh; the trigger's function
//     keeps the migration's search_path, so a delete from a session with
//     another one still finds the table;
//   - funnel_sources: the source each client's rows were built with (a
//     client's first deep link may come after their first conversation);
//   - funnel_state: the last refresh (time, transaction snapshot, fold
//     bound).
var pgFunnelRollup = []string{
	`CREATE TABLE funnel_days (
		scenario TEXT NOT NULL, dims SMALLINT NOT NULL, day BIGINT NOT NULL,
		version TEXT NOT NULL, platform TEXT NOT NULL, source TEXT NOT NULL, step TEXT NOT NULL,
		entered INTEGER NOT NULL, answered INTEGER NOT NULL, dropped INTEGER NOT NULL, hist TEXT NOT NULL,
		PRIMARY KEY (scenario, dims, day, version, platform, source, step))`,
	`CREATE TABLE funnel_open (
		scenario TEXT NOT NULL, day BIGINT NOT NULL, dims SMALLINT NOT NULL,
		version TEXT NOT NULL, platform TEXT NOT NULL, source TEXT NOT NULL, step TEXT NOT NULL,
		dropped BOOLEAN NOT NULL, first_at TIMESTAMPTZ NOT NULL, last_at TIMESTAMPTZ NOT NULL)`,
	`CREATE INDEX funnel_open_idx ON funnel_open (scenario, day)`,
	`CREATE TABLE funnel_built (
		scenario TEXT NOT NULL, day BIGINT NOT NULL,
		first_entered TIMESTAMPTZ NOT NULL, last_entered TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (scenario, day))`,
	`CREATE TABLE funnel_dirty (id BIGSERIAL PRIMARY KEY, scenario TEXT NOT NULL, day BIGINT NOT NULL)`,
	`CREATE TABLE funnel_sources (client_id BIGINT PRIMARY KEY, source TEXT NOT NULL)`,
	`CREATE TABLE funnel_state (
		id INTEGER PRIMARY KEY CHECK (id = 1), xid BIGINT NOT NULL,
		refreshed_at TIMESTAMPTZ NOT NULL, fold_before TIMESTAMPTZ NOT NULL)`,
	`CREATE FUNCTION funnel_visit_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
	BEGIN
		INSERT INTO funnel_dirty (scenario, day) VALUES (OLD.scenario, OLD.run / 86400000000);
		RETURN NULL;
	END $$`,
	`CREATE TRIGGER step_visits_deleted AFTER DELETE ON step_visits
		FOR EACH ROW EXECUTE FUNCTION funnel_visit_deleted()`,
}

// Bucket sizes in run microseconds.
const (
	microsPerHour = int64(time.Hour / time.Microsecond)
	microsPerDay  = 24 * microsPerHour
)

// Answer-time histogram buckets: bucket 0 holds times under histFloor
// seconds, bucket b ≥ 1 those in [histFloor·histRatio^(b-1),
// histFloor·histRatio^b). A bucket's value is its geometric middle, within
// 5 % of any time in it (√1.1 ≈ 1.049), or within 50 ms under 0.1 s.
const (
	histFloor = 0.1
	histRatio = 1.1
)

// pgHistBucket is the bucket of v's answer time in SQL (in double
// precision: EXTRACT's numeric makes ln several times slower).
const pgHistBucket = "CASE WHEN date_part('epoch', v.answered_at - v.entered_at) < 0.1 THEN 0 " +
	"ELSE 1 + floor(ln(date_part('epoch', v.answered_at - v.entered_at) / 0.1) / ln(1.1))::int END"

// histValue is the time bucket b stands for.
func histValue(b int) time.Duration {
	if b <= 0 {
		return 50 * time.Millisecond
	}
	sec := histFloor * math.Pow(histRatio, float64(b)-0.5)
	return time.Duration(math.Round(sec*1e6)) * time.Microsecond
}

// histMedian is the median the buckets h (bucket → count) stand for, as
// percentile_cont(0.5): the middle value, or the mean of the two middle
// ones; zero when h is empty.
func histMedian(h map[int]int) time.Duration {
	n := 0
	keys := make([]int, 0, len(h))
	for b, c := range h {
		if c > 0 {
			n += c
			keys = append(keys, b)
		}
	}
	if n == 0 {
		return 0
	}
	slices.Sort(keys)
	at := func(i int) time.Duration { // the i-th value, from 0
		for _, b := range keys {
			if i < h[b] {
				return histValue(b)
			}
			i -= h[b]
		}
		return 0
	}
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

// parseHist adds the histogram text s ("b:n,b:n") into h.
func parseHist(s string, h map[int]int) error {
	for len(s) > 0 {
		item, rest, _ := strings.Cut(s, ",")
		s = rest
		if item == "" {
			continue
		}
		bs, ns, ok := strings.Cut(item, ":")
		b, err1 := strconv.Atoi(bs)
		n, err2 := strconv.Atoi(ns)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("bad histogram item %q", item)
		}
		h[b] += n
	}
	return nil
}

// formatHist renders h as parseHist reads it, buckets in order.
func formatHist(h map[int]int) string {
	keys := make([]int, 0, len(h))
	for b := range h {
		keys = append(keys, b)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, b := range keys {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(b))
		sb.WriteByte(':')
		sb.WriteString(strconv.Itoa(h[b]))
	}
	return sb.String()
}

// funnelLockKey is the advisory-lock key that lets one process at a time
// refresh the schema's funnel rollup.
func funnelLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("chathub funnel rollup " + schema))
	return int64(h.Sum64())
}

// dayKey is one (scenario, day of the run) of the rollup.
type dayKey struct {
	scenario string
	day      int64
}

// dayRange is the entered_at range a day's visits span.
type dayRange struct{ first, last time.Time }

func (r *dayRange) add(first, last time.Time) {
	if r.first.IsZero() || first.Before(r.first) {
		r.first = first
	}
	if r.last.IsZero() || last.After(r.last) {
		r.last = last
	}
}

// RefreshFunnel brings the funnel rollup up to date with step_visits as of
// now: the first call builds every day; later ones rebuild the days of the
// conversations whose visits or client changed since the last refresh
// (found by transaction ids, which adds nothing to the writes), the days
// whose visits were deleted, and the days with a conversation that has
// been waiting longer than openFor (it now counts as dropped for good).
// One process at a time refreshes (an advisory lock); the others return
// at once. SQLite has no rollup: it does nothing.
func (s *Store) RefreshFunnel(ctx context.Context, now time.Time, openFor time.Duration) (crm.FunnelRefresh, error) {
	var out crm.FunnelRefresh
	if !s.pg() {
		return out, nil
	}
	fold := stampTime(now.Add(-openFor))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked bool
		if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", funnelLockKey(s.schema)).Row().Scan(&locked); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if !locked {
			return nil
		}
		out.Ran = true
		var snapXmin, snapXmax int64
		if err := tx.Raw("SELECT txid_snapshot_xmin(s), txid_snapshot_xmax(s) FROM txid_current_snapshot() AS s").
			Row().Scan(&snapXmin, &snapXmax); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		var prevXid int64
		var prevFold time.Time
		err := tx.Raw("SELECT xid, fold_before FROM funnel_state WHERE id = 1").Row().Scan(&prevXid, timeScanner{v: &prevFold})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out.Full = true
		case err != nil:
			return fmt.Errorf("state: %w", err)
		}
		if fold.Before(prevFold) {
			fold = prevFold // the clock went back: never unfold
		}
		var win xidWindow
		if !out.Full {
			var ok bool
			if win, ok = newXidWindow(prevXid, snapXmin, snapXmax); !ok {
				// The database was restored into another cluster (its
				// transaction ids went back) or, in theory, 2^31
				// transactions passed: the window cannot tell what changed.
				s.log.Warn("funnel rollup: transaction ids out of the last refresh's range, rebuilding every day",
					"stored_xid", prevXid, "snapshot_xmin", snapXmin, "snapshot_xmax", snapXmax)
				out.Full = true
			}
		}
		var dirty map[dayKey]*dayRange
		if out.Full {
			dirty = nil
		} else if dirty, err = funnelDirtyDays(tx, win, fold); err != nil {
			return err
		}
		days, visits, err := rebuildFunnelDays(tx, dirty, out.Full, fold)
		if err != nil {
			return err
		}
		out.Days, out.Visits = days, visits
		return tx.Exec("INSERT INTO funnel_state (id, xid, refreshed_at, fold_before) VALUES (1, ?, ?, ?) "+
			"ON CONFLICT (id) DO UPDATE SET xid = EXCLUDED.xid, refreshed_at = EXCLUDED.refreshed_at, "+
			"fold_before = EXCLUDED.fold_before", snapXmin, stampTime(now), fold).Error
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		if refreshConflict(err) && ctx.Err() == nil {
			s.log.Debug("funnel rollup refresh skipped: another refresh committed during it", "err", err)
			return crm.FunnelRefresh{}, nil
		}
		return crm.FunnelRefresh{}, fmt.Errorf("refresh funnel rollup: %w", err)
	}
	return out, nil
}

// refreshConflict reports whether err is what a refresh meets when another
// process's refresh committed after its snapshot was taken (the advisory
// lock is per transaction: the other one may have held it just before):
// a unique_violation on funnel_sources (23505), a serialization_failure
// (40001) or a deadlock (40P01). The next turn redoes the work, so the
// refresh counts as skipped, not failed.
func refreshConflict(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23505", "40001", "40P01":
		return true
	}
	return false
}

// xidWindow is the range of transaction ids a refresh looks for changes
// in: from the previous refresh's snapshot xmin (lo, its low 32 bits) for
// width ids, up to the current snapshot's xmax. Rows written by those
// transactions are the only ones the previous refresh may not have seen.
type xidWindow struct{ lo, width int64 }

// newXidWindow is the window from the previous refresh's snapshot xmin
// prev to the current snapshot (xmin, xmax), all 64-bit (epoch-extended)
// ids; ok is false when it cannot tell what changed: the ids went back
// (the database was restored into a new cluster) or the window spans 2^31
// ids or more (32-bit row ids would be ambiguous).
func newXidWindow(prev, xmin, xmax int64) (xidWindow, bool) {
	if xmin < prev || xmax < xmin || xmax-prev >= 1<<31 {
		return xidWindow{}, false
	}
	return xidWindow{lo: prev % (1 << 32), width: xmax - prev}, true
}

// has is xidNewer in Go: whether the 32-bit row id xmin is in w.
func (w xidWindow) has(xmin uint32) bool {
	return (int64(xmin)-w.lo+1<<32)%(1<<32) < w.width
}

// xidNewer is the SQL condition "row version t was written by a
// transaction of the window" (xidWindow; its two arguments are the
// window's lo and width): its 32-bit xmin, counted from lo modulo 2^32, is
// under width. Since PostgreSQL 9.4 a frozen row keeps its original xmin:
// bounding the window by the current snapshot's xmax (not by 2^31) keeps
// rows written long ago out of it, but for those written a multiple of
// 2^32 transactions before the window (a day rebuilt more, rarely).
func xidNewer(t string) string {
	return "((CAST(CAST(" + t + ".xmin AS TEXT) AS BIGINT) - ? + 4294967296) % 4294967296) < ?"
}

// funnelDirtyDays lists the days to rebuild and, for each, the entered_at
// range of its changed visits.
func funnelDirtyDays(tx *gorm.DB, win xidWindow, fold time.Time) (map[dayKey]*dayRange, error) {
	dirty := map[dayKey]*dayRange{}
	mark := func(k dayKey) *dayRange {
		r := dirty[k]
		if r == nil {
			r = &dayRange{}
			dirty[k] = r
		}
		return r
	}
	// Clients written since the last refresh: every visit write is part of
	// its client's upsert (ApplyChanges), as is a change of source.
	rows, err := tx.Raw("SELECT c.id, c.source, f.source IS DISTINCT FROM c.source FROM clients AS c "+
		"LEFT JOIN funnel_sources AS f ON f.client_id = c.id WHERE "+xidNewer("c"), win.lo, win.width).Rows()
	if err != nil {
		return nil, fmt.Errorf("changed clients: %w", err)
	}
	var ids, moved []int64
	var srcs []string
	for rows.Next() {
		var id int64
		var src string
		var changed bool
		if err := rows.Scan(&id, &src, &changed); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
		if changed {
			moved = append(moved, id)
			srcs = append(srcs, src)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changed clients: %w", err)
	}
	if len(ids) > 0 {
		rows, err := tx.Raw("SELECT v.scenario, v.run / 86400000000, MIN(v.entered_at), MAX(v.entered_at) FROM step_visits AS v "+
			"WHERE v.client_id = ANY(CAST(? AS BIGINT[])) AND ("+xidNewer("v")+" OR v.client_id = ANY(CAST(? AS BIGINT[]))) "+
			"GROUP BY 1, 2", int64Array(ids), win.lo, win.width, int64Array(moved)).Rows()
		if err != nil {
			return nil, fmt.Errorf("changed visits: %w", err)
		}
		for rows.Next() {
			var k dayKey
			var first, last time.Time
			if err := rows.Scan(&k.scenario, &k.day, timeScanner{v: &first}, timeScanner{v: &last}); err != nil {
				rows.Close()
				return nil, err
			}
			mark(k).add(first, last)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("changed visits: %w", err)
		}
	}
	if len(moved) > 0 {
		if err := tx.Exec("INSERT INTO funnel_sources (client_id, source) SELECT * FROM unnest(CAST(? AS BIGINT[]), CAST(? AS TEXT[])) "+
			"ON CONFLICT (client_id) DO UPDATE SET source = EXCLUDED.source", int64Array(moved), textArray(srcs)).Error; err != nil {
			return nil, fmt.Errorf("record sources: %w", err)
		}
	}
	// Deleted visits, and conversations that waited past the fold bound.
	var deleted []int64
	rows, err = tx.Raw("SELECT id, scenario, day FROM funnel_dirty UNION ALL "+
		"SELECT DISTINCT 0, scenario, day FROM funnel_open WHERE last_at < ?", fold).Rows()
	if err != nil {
		return nil, fmt.Errorf("dirty days: %w", err)
	}
	for rows.Next() {
		var id int64
		var k dayKey
		if err := rows.Scan(&id, &k.scenario, &k.day); err != nil {
			rows.Close()
			return nil, err
		}
		if id > 0 {
			deleted = append(deleted, id)
		}
		mark(k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dirty days: %w", err)
	}
	if len(deleted) > 0 {
		if err := tx.Exec("DELETE FROM funnel_dirty WHERE id = ANY(CAST(? AS BIGINT[]))", int64Array(deleted)).Error; err != nil {
			return nil, fmt.Errorf("clear dirty days: %w", err)
		}
	}
	return dirty, nil
}

// int64Array renders ids as a PostgreSQL array literal.
func int64Array(ids []int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// textArray renders ss as a PostgreSQL array literal.
func textArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// rollupKey is one row of funnel_days (dims the mask; 1 or 0 before the
// expansion into masks: version-fixed or not), bucket the day.
type rollupKey struct {
	scenario                        string
	bucket                          int64
	dims                            int
	version, platform, source, step string
}

// rollupRow is its numbers.
type rollupRow struct {
	entered, answered, dropped int
	hist                       map[int]int
}

// rebuildFunnelDays recomputes the rollup rows of the dirty days (every
// day when full) from step_visits and returns how many days and visits
// that took.
func rebuildFunnelDays(tx *gorm.DB, dirty map[dayKey]*dayRange, full bool, fold time.Time) (int, int, error) {
	if !full && len(dirty) == 0 {
		return 0, 0, nil
	}
	var where string
	var args []any
	if full {
		for _, t := range []string{"funnel_days", "funnel_open", "funnel_built", "funnel_dirty", "funnel_sources"} {
			if err := tx.Exec("DELETE FROM " + t).Error; err != nil {
				return 0, 0, fmt.Errorf("clear %s: %w", t, err)
			}
		}
		if err := tx.Exec("INSERT INTO funnel_sources (client_id, source) SELECT id, source FROM clients").Error; err != nil {
			return 0, 0, fmt.Errorf("record sources: %w", err)
		}
		where = "TRUE"
	} else {
		// Each dirty day's visits span what was built plus what changed.
		keys := make([]dayKey, 0, len(dirty))
		for k := range dirty {
			keys = append(keys, k)
		}
		var scs []string
		var ds []int64
		for _, k := range keys {
			scs = append(scs, k.scenario)
			ds = append(ds, k.day)
		}
		rows, err := tx.Raw("SELECT b.scenario, b.day, b.first_entered, b.last_entered FROM funnel_built AS b "+
			"JOIN unnest(CAST(? AS TEXT[]), CAST(? AS BIGINT[])) AS d(scenario, day) ON d.scenario = b.scenario AND d.day = b.day",
			textArray(scs), int64Array(ds)).Rows()
		if err != nil {
			return 0, 0, fmt.Errorf("built days: %w", err)
		}
		for rows.Next() {
			var k dayKey
			var first, last time.Time
			if err := rows.Scan(&k.scenario, &k.day, timeScanner{v: &first}, timeScanner{v: &last}); err != nil {
				rows.Close()
				return 0, 0, err
			}
			dirty[k].add(first, last)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, fmt.Errorf("built days: %w", err)
		}
		// The entered_at spans to read: each day's range, overlapping ones
		// merged (a day 30 days back and today are two short reads of the
		// BRIN index, not 30 days of visits).
		var spans []dayRange
		for _, r := range dirty {
			if !r.first.IsZero() { // else nothing built, nothing new: only deletions
				spans = append(spans, *r)
			}
		}
		slices.SortFunc(spans, func(a, b dayRange) int { return a.first.Compare(b.first) })
		merged := spans[:0]
		for _, r := range spans {
			if n := len(merged); n > 0 && !r.first.After(merged[n-1].last) {
				if r.last.After(merged[n-1].last) {
					merged[n-1].last = r.last
				}
				continue
			}
			merged = append(merged, r)
		}
		arr := "unnest(CAST(? AS TEXT[]), CAST(? AS BIGINT[]))"
		for _, t := range []string{"funnel_days", "funnel_open", "funnel_built"} {
			if err := tx.Exec("DELETE FROM "+t+" AS r USING "+arr+" AS d(scenario, day) "+
				"WHERE r.scenario = d.scenario AND r.day = d.day", textArray(scs), int64Array(ds)).Error; err != nil {
				return 0, 0, fmt.Errorf("clear %s: %w", t, err)
			}
		}
		if len(merged) == 0 {
			return len(dirty), 0, nil
		}
		var b strings.Builder
		b.WriteString("(")
		for i, r := range merged {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(v.entered_at >= ? AND v.entered_at <= ?)")
			args = append(args, r.first, r.last)
		}
		b.WriteString(") AND (v.scenario, v.run / 86400000000) IN (SELECT * FROM " + arr + ")")
		where = b.String()
		args = append(args, textArray(scs), int64Array(ds))
	}
	visits, err := buildFunnelRows(tx, where, args, fold)
	if err != nil {
		return 0, 0, err
	}
	if full {
		var n int
		if err := tx.Raw("SELECT COUNT(*) FROM funnel_built").Row().Scan(&n); err != nil {
			return 0, 0, fmt.Errorf("count built days: %w", err)
		}
		return n, visits, err
	}
	return len(dirty), visits, err
}

// buildFunnelRows aggregates the visits matching where (alias v) into the
// rollup tables and returns how many visits it read.
func buildFunnelRows(tx *gorm.DB, where string, args []any, fold time.Time) (int, error) {
	// cs: one row per conversation and step as the live query groups them:
	// per version (vfix, for the version filter) and across versions (a
	// conversation may change version on the way).
	q := `WITH v AS MATERIALIZED (
		SELECT v.scenario, v.run / 86400000000 AS day, v.version, c.platform, c.source, v.step, v.client_id, v.run,
			v.entered_at, v.answered_at, v.left_at
		FROM step_visits AS v JOIN clients AS c ON c.id = v.client_id WHERE ` + where + `
	), mx AS (
		SELECT scenario, client_id, run FROM v GROUP BY scenario, client_id, run HAVING COUNT(DISTINCT version) > 1
	), vm AS (
		SELECT v.*, mx.run IS NOT NULL AS mixed FROM v LEFT JOIN mx USING (scenario, client_id, run)
	), cs AS (
		SELECT scenario, day, CASE WHEN mixed THEN 3 ELSE 1 END AS dims, version, platform, source, step,
			bool_or(answered_at IS NOT NULL) AS ans, bool_or(answered_at IS NULL AND left_at IS NOT NULL) AS cd,
			MIN(entered_at) FILTER (WHERE left_at IS NULL) AS omn, MAX(entered_at) FILTER (WHERE left_at IS NULL) AS omx
		FROM vm GROUP BY scenario, day, mixed, version, platform, source, step, client_id, run
		UNION ALL
		SELECT scenario, day, 0, '', platform, source, step,
			bool_or(answered_at IS NOT NULL), bool_or(answered_at IS NULL AND left_at IS NOT NULL),
			MIN(entered_at) FILTER (WHERE left_at IS NULL), MAX(entered_at) FILTER (WHERE left_at IS NULL)
		FROM vm WHERE mixed GROUP BY scenario, day, platform, source, step, client_id, run
	)
	SELECT 0 AS kind, scenario, day, dims, version, platform, source, step,
		COUNT(*) AS n, COUNT(*) FILTER (WHERE ans) AS a,
		COUNT(*) FILTER (WHERE (omx IS NULL AND cd) OR omx < ?) AS d,
		false AS cd, NULL::timestamptz AS omn, NULL::timestamptz AS omx
	FROM cs GROUP BY scenario, day, dims, version, platform, source, step
	UNION ALL
	SELECT 1, scenario, day, dims, version, platform, source, step, 0, 0, 0, cd, omn, omx
	FROM cs WHERE omx >= ?
	UNION ALL
	SELECT 2, scenario, day, 1, version, platform, source, step, COUNT(*), ` + pgHistBucket + `, 0,
		false, NULL, NULL
	FROM v WHERE answered_at IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 7, 8, 10
	UNION ALL
	SELECT 3, scenario, day, 0, '', '', '', '', COUNT(*), 0, 0, false, MIN(entered_at), MAX(entered_at)
	FROM v GROUP BY scenario, day`
	rows, err := tx.Raw(q, slices.Concat(args, []any{fold, fold})...).Rows()
	if err != nil {
		return 0, fmt.Errorf("aggregate visits: %w", err)
	}
	// base: per day, the counts of the conversations that kept their
	// version (dims 1), of those that changed it per version (dims 3) and
	// across versions (dims 0); hists: the answer times per version.
	base := map[rollupKey]*rollupRow{}
	hists := map[rollupKey]*rollupRow{}
	get := func(m map[rollupKey]*rollupRow, k rollupKey) *rollupRow {
		r := m[k]
		if r == nil {
			r = &rollupRow{hist: map[int]int{}}
			m[k] = r
		}
		return r
	}
	type openRow struct {
		k      rollupKey
		cd     bool
		mn, mx time.Time
	}
	var opens []openRow
	type builtRow struct {
		k           dayKey
		first, last time.Time
	}
	var built []builtRow
	visits := 0
	for rows.Next() {
		var kind int
		var k rollupKey
		var cd bool
		var n, a, d int
		var mn, mx time.Time
		if err := rows.Scan(&kind, &k.scenario, &k.bucket, &k.dims, &k.version, &k.platform, &k.source, &k.step,
			&n, &a, &d, &cd, timeScanner{v: &mn}, timeScanner{v: &mx}); err != nil {
			rows.Close()
			return 0, err
		}
		switch kind {
		case 0:
			r := get(base, k)
			r.entered, r.answered, r.dropped = n, a, d
		case 1:
			opens = append(opens, openRow{k, cd, mn, mx})
		case 2:
			get(hists, k).hist[a] += n
		case 3:
			visits += n
			built = append(built, builtRow{dayKey{k.scenario, k.bucket}, mn, mx})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("aggregate visits: %w", err)
	}
	// Days: each row adds to the rows of the filter combinations it
	// belongs to: dims 1 and the answer times to all, dims 3 to those
	// fixing the version, dims 0 to the others.
	days := map[rollupKey]*rollupRow{}
	add := func(k rollupKey, r *rollupRow, counts bool) {
		for mask := range 8 {
			fixed := mask&1 == 1
			if counts && (fixed && k.dims == 0 || !fixed && k.dims == 3) {
				continue
			}
			d := get(days, rollupKey{scenario: k.scenario, bucket: k.bucket, dims: mask, step: k.step,
				version: pick(fixed, k.version), platform: pick(mask&2 != 0, k.platform), source: pick(mask&4 != 0, k.source)})
			if !counts {
				for b, n := range r.hist {
					d.hist[b] += n
				}
				continue
			}
			d.entered += r.entered
			d.answered += r.answered
			d.dropped += r.dropped
		}
	}
	for k, r := range base {
		add(k, r, true)
	}
	for k, r := range hists {
		add(k, r, false)
	}
	if err := insertRollup(tx, days); err != nil {
		return 0, err
	}
	const batch = 1000
	for i := 0; i < len(opens); i += batch {
		part := opens[i:min(i+batch, len(opens))]
		args := make([]any, 0, 10*len(part))
		for _, o := range part {
			args = append(args, o.k.scenario, o.k.bucket, o.k.dims, o.k.version, o.k.platform, o.k.source, o.k.step, o.cd, o.mn, o.mx)
		}
		if err := tx.Exec("INSERT INTO funnel_open (scenario, day, dims, version, platform, source, step, dropped, first_at, last_at) VALUES "+
			values(len(part), 10), args...).Error; err != nil {
			return 0, fmt.Errorf("write funnel_open: %w", err)
		}
	}
	for i := 0; i < len(built); i += batch {
		part := built[i:min(i+batch, len(built))]
		args := make([]any, 0, 4*len(part))
		for _, b := range part {
			args = append(args, b.k.scenario, b.k.day, b.first, b.last)
		}
		if err := tx.Exec("INSERT INTO funnel_built (scenario, day, first_entered, last_entered) VALUES "+
			values(len(part), 4), args...).Error; err != nil {
			return 0, fmt.Errorf("write funnel_built: %w", err)
		}
	}
	return visits, nil
}

// pick is s when keep, else "".
func pick(keep bool, s string) string {
	if keep {
		return s
	}
	return ""
}

// insertRollup writes rows into funnel_days.
func insertRollup(tx *gorm.DB, rows map[rollupKey]*rollupRow) error {
	const batch = 1000
	keys := make([]rollupKey, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	for i := 0; i < len(keys); i += batch {
		part := keys[i:min(i+batch, len(keys))]
		args := make([]any, 0, 11*len(part))
		for _, k := range part {
			r := rows[k]
			args = append(args, k.scenario, k.dims, k.bucket, k.version, k.platform, k.source, k.step,
				r.entered, r.answered, r.dropped, formatHist(r.hist))
		}
		if err := tx.Exec("INSERT INTO funnel_days (scenario, dims, day, version, platform, source, step, "+
			"entered, answered, dropped, hist) VALUES "+values(len(part), 11), args...).Error; err != nil {
			return fmt.Errorf("write funnel_days: %w", err)
		}
	}
	return nil
}

// funnelFreshMargin is how far before the last refresh a visit of the
// period's first day is looked for when that day is counted live: the
// visits written since the refresh, allowing for clocks a little apart and
// a write's transaction still open during it.
const funnelFreshMargin = 5 * time.Minute

// rollupFunnel answers q from the rollup; ok is false when the rollup
// cannot (not built yet, or q.OpenSince before its fold bound): the
// caller counts live. The whole UTC days of the period come from
// funnel_days and funnel_open; the conversations started on the period's
// first, partial day are counted live (about a day of visits).
func (s *Store) rollupFunnel(ctx context.Context, q crm.FunnelQuery, get func(string) *crm.FunnelStepCount) (time.Time, bool, error) {
	var asOf time.Time
	ok := false
	since := orEpoch(q.Since).UnixMicro()
	if since < 0 {
		return asOf, false, nil
	}
	firstDay := (since + microsPerDay - 1) / microsPerDay
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var fold time.Time
		err := tx.Raw("SELECT refreshed_at, fold_before FROM funnel_state WHERE id = 1").Row().
			Scan(timeScanner{v: &asOf}, timeScanner{v: &fold})
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if orEpoch(q.OpenSince).Before(fold) {
			return nil
		}
		ok = true
		// The statements read a few thousand rows at most: starting
		// parallel workers costs more than it saves (100 ms of a 10 ms
		// query on a busy machine).
		if err := tx.Exec("SET LOCAL max_parallel_workers_per_gather = 0").Error; err != nil {
			return err
		}
		hists := map[string]map[int]int{}
		hist := func(step string) map[int]int {
			h := hists[step]
			if h == nil {
				h = map[int]int{}
				hists[step] = h
			}
			return h
		}
		read := func(stmt string, args []any) error {
			rows, err := tx.Raw(stmt, args...).Rows()
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var step, hs string
				var kind, n, a, st, d, b int
				if err := rows.Scan(&kind, &step, &n, &a, &st, &d, &b, &hs); err != nil {
					return err
				}
				c := get(step)
				switch kind {
				case 0:
					c.Entered += n
					c.Answered += a
					c.Stuck += st
					c.Dropped += d
					if err := parseHist(hs, hist(step)); err != nil {
						return err
					}
				case 2:
					hist(step)[b] += n
				}
			}
			return rows.Err()
		}
		stmt, args := rollupFunnelQuery(q, firstDay, orEpoch(q.OpenSince))
		if err := read(stmt, args); err != nil {
			return err
		}
		if since < firstDay*microsPerDay {
			var last time.Time
			err := tx.Raw("SELECT last_entered FROM funnel_built WHERE scenario = ? AND day = ?", q.Scenario, firstDay-1).
				Row().Scan(timeScanner{v: &last})
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("first day: %w", err)
			}
			stmt, args := funnelHeadQuery(q, firstDay, orEpoch(last), asOf.Add(-funnelFreshMargin))
			if err := read(stmt, args); err != nil {
				return fmt.Errorf("first day: %w", err)
			}
		}
		for step, h := range hists {
			get(step).MedianAnswer = histMedian(h)
		}
		if err := funnelReminders(tx, q, get); err != nil {
			return fmt.Errorf("reminders: %w", err)
		}
		return nil
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("rollup: %w", err)
	}
	return asOf, ok, nil
}

// rollupFilter renders q's version, platform and source conditions on a
// rollup table and the dims they select (for funnel_open: the rows of
// conversations that kept their version count with and without a version
// filter).
func rollupFilter(q crm.FunnelQuery) (dims int, open string, where string, args []any) {
	var b strings.Builder
	open = " AND dims IN (0, 1)"
	if q.Version != "" {
		dims |= 1
		open = " AND dims IN (1, 3)"
		b.WriteString(" AND version = ?")
		args = append(args, q.Version)
	}
	if q.Platform != "" {
		dims |= 2
		b.WriteString(" AND platform = ?")
		args = append(args, q.Platform)
	}
	if q.Source != "" {
		dims |= 4
		b.WriteString(" AND source = ?")
		args = append(args, q.Source)
	}
	return dims, open, b.String(), args
}

// rollupFunnelQuery reads q's counts of the days from firstDay on: the
// counts and answer times from funnel_days, the waiting conversations
// from funnel_open (stuck or dropped as of openSince). Rows: kind 0, step,
// entered, answered, stuck, dropped, 0, histogram.
func rollupFunnelQuery(q crm.FunnelQuery, firstDay int64, openSince time.Time) (string, []any) {
	dims, open, f, fargs := rollupFilter(q)
	sql := "SELECT 0, step, SUM(entered), SUM(answered), 0, SUM(dropped), 0, string_agg(hist, ',') FROM funnel_days " +
		"WHERE scenario = ? AND dims = ? AND day >= ?" + f + " GROUP BY step UNION ALL " +
		"SELECT 0, step, 0, 0, COUNT(*) FILTER (WHERE last_at >= ?), COUNT(*) FILTER (WHERE dropped OR first_at < ?), 0, '' " +
		"FROM funnel_open WHERE scenario = ? AND day >= ?" + open + f + " GROUP BY step"
	args := slices.Concat([]any{q.Scenario, dims, firstDay}, fargs, []any{openSince, openSince, q.Scenario, firstDay}, fargs)
	return sql, args
}

// funnelHeadQuery counts live, as funnelCountsQuery and the answer-time
// buckets, the conversations of q started before firstDay (on the
// period's first, partial day): their visits were entered at most at
// last (as of the last refresh) or since fresh.
func funnelHeadQuery(q crm.FunnelQuery, firstDay int64, last, fresh time.Time) (string, []any) {
	open := orEpoch(q.OpenSince)
	from, fargs := funnelFilter(q)
	from += " AND v.run < ? AND (v.entered_at <= ? OR v.entered_at >= ?)"
	fargs = append(fargs, firstDay*microsPerDay, last, stampTime(fresh))
	sql := "WITH v AS MATERIALIZED (SELECT v.step, v.client_id, v.run, v.entered_at, v.answered_at, v.left_at" + from + ") " +
		"SELECT 0, step, COUNT(*), SUM(ans), SUM(stuck), SUM(dropped), 0, '' FROM (SELECT v.step, " +
		"MAX(CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END) AS ans, " +
		"MAX(CASE WHEN v.left_at IS NULL AND v.entered_at >= ? THEN 1 ELSE 0 END) AS stuck, " +
		"MAX(CASE WHEN v.answered_at IS NULL AND (v.left_at IS NOT NULL OR v.entered_at < ?) THEN 1 ELSE 0 END) AS dropped " +
		"FROM v GROUP BY v.step, v.client_id, v.run) AS x GROUP BY step UNION ALL " +
		"SELECT 2, v.step, COUNT(*), 0, 0, 0, " + pgHistBucket + ", '' FROM v WHERE v.answered_at IS NOT NULL GROUP BY 2, 7"
	return sql, slices.Concat(fargs, []any{open, open})
}
