package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Limits of OverviewCharts' arguments.
const (
	// MaxChartDays is the longest period OverviewCharts counts.
	MaxChartDays = 366
	// MaxChartTop is the most series a chart names before «other».
	MaxChartTop = 20
)

// ErrChartPeriod is returned by OverviewCharts for days or top out of range.
var ErrChartPeriod = errors.New("chart period out of range")

// OverviewCharts are Обзор's two charts over the same days: the new
// clients of each day by source (the deep link they came by) and the
// scenario completions of each day by scenario.
type OverviewCharts struct {
	// Days are the midnights of the counted days in the asked time zone,
	// oldest first, today last (so far).
	Days []time.Time
	// Sources are the new clients per day, by clients.source.
	Sources DailySeries
	// Scenarios are the completions (rows of completions, one per
	// conversation that reached an end step) per day, by scenario.
	Scenarios DailySeries
}

// DailySeries are the counts of one chart: a series per key, each with a
// count for every day of OverviewCharts.Days (zero when none).
type DailySeries struct {
	// Series are the top keys by their total over the period, the largest
	// first (ties by key), then, when any key was left out, one with Other
	// set that sums the rest. Keys with no count in the period are absent.
	Series []Series
	// Daily sums the series of each day; Total sums Daily.
	Daily []int64
	Total int64
}

// Series is one key's counts per day.
type Series struct {
	// Key is the source or scenario; "" is a client who came without a
	// source (never a scenario). Empty when Other.
	Key string
	// Other is true for the sum of the keys beyond the top.
	Other bool
	// Counts are per day, aligned with OverviewCharts.Days.
	Counts []int64
	Total  int64
}

// pgOverviewCharts and sqliteOverviewCharts (migration 27) let OverviewCharts read the
// period's index entries only, never the rows: on PostgreSQL the index of
// when clients came (migration 14) also carries the source (set once, from
// empty to the first deep link, so it costs no HOT update afterwards) and
// completions get one by time carrying the scenario; SQLite's equivalents
// are composite indexes.
var pgOverviewCharts = []string{
	`CREATE INDEX clients_created_source_idx ON clients (created_at) INCLUDE (platform, source)`,
	`DROP INDEX clients_created_at_idx`,
	`CREATE INDEX completions_created_at_idx ON completions (created_at) INCLUDE (scenario)`,
}

var sqliteOverviewCharts = []string{
	`CREATE INDEX clients_created_source_idx ON clients (created_at, platform, source)`,
	`DROP INDEX clients_created_at_idx`,
	`CREATE INDEX completions_created_at_idx ON completions (created_at, scenario)`,
}

// chartDays are the days a chart counts and how the database buckets them.
type chartDays struct {
	days        []time.Time
	first, end  time.Time // the first day's midnight, the midnight after today
	bucket      int64     // seconds per bucket: a day, or an hour across a DST change
	index       map[time.Time]int
	loc         *time.Location
	start       int64 // first.Unix()
	uniformDays bool
}

// newChartDays lays out the n days ending today (now in loc). When every
// day is 24 hours long the database counts by day; otherwise (a
// daylight-saving change inside) by hour since the first midnight, each
// hour put on its day here, which is right in every whole-hour zone.
func newChartDays(now time.Time, loc *time.Location, n int) chartDays {
	now = now.In(loc)
	y, m, d := now.Date()
	c := chartDays{loc: loc, index: make(map[time.Time]int, n), days: make([]time.Time, n)}
	for i := range c.days {
		c.days[i] = time.Date(y, m, d-(n-1)+i, 0, 0, 0, 0, loc)
		c.index[c.days[i]] = i
	}
	c.first, c.end = c.days[0], time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	c.start = c.first.Unix()
	// Every day, not only the period, must be 24 hours long: a period of
	// both daylight-saving changes has the right length but its summer
	// midnights are an hour off.
	c.uniformDays = true
	for i := range c.days {
		next := c.end
		if i+1 < n {
			next = c.days[i+1]
		}
		if next.Unix()-c.days[i].Unix() != 86400 {
			c.uniformDays = false
		}
	}
	c.bucket = 3600
	if c.uniformDays {
		c.bucket = 86400
	}
	return c
}

// day is the index of bucket b's day, -1 when outside the period.
func (c chartDays) day(b int64) int {
	if c.uniformDays {
		if b < 0 || b >= int64(len(c.days)) {
			return -1
		}
		return int(b)
	}
	y, m, d := time.Unix(c.start+b*c.bucket, 0).In(c.loc).Date()
	if i, ok := c.index[time.Date(y, m, d, 0, 0, 0, 0, c.loc)]; ok {
		return i
	}
	return -1
}

// OverviewCharts counts, for the days ending today (now in loc; nil: UTC)
// — days of them, 1 to MaxChartDays — the new clients per day by source
// and the scenario completions per day by scenario, each with its top keys
// (1 to MaxChartTop) named and the rest summed as «other». Both read an
// index range of migration 27 once and run at once on PostgreSQL.
func (s *Store) OverviewCharts(ctx context.Context, now time.Time, loc *time.Location, days, top int) (OverviewCharts, error) {
	if days < 1 || days > MaxChartDays || top < 1 || top > MaxChartTop {
		return OverviewCharts{}, fmt.Errorf("overview charts: %w: %d days (1 to %d), top %d (1 to %d)",
			ErrChartPeriod, days, MaxChartDays, top, MaxChartTop)
	}
	if loc == nil {
		loc = time.UTC
	}
	c := newChartDays(now, loc, days)
	out := OverviewCharts{Days: c.days}
	var wg sync.WaitGroup
	var srcErr, scnErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		out.Sources, srcErr = s.dailySeries(ctx, c, "clients", "source", top)
		if srcErr != nil {
			srcErr = fmt.Errorf("overview charts: new clients by source: %w", srcErr)
		}
	}()
	out.Scenarios, scnErr = s.dailySeries(ctx, c, "completions", "scenario", top)
	if scnErr != nil {
		scnErr = fmt.Errorf("overview charts: completions by scenario: %w", scnErr)
	}
	wg.Wait()
	if err := errors.Join(srcErr, scnErr); err != nil {
		return OverviewCharts{}, err
	}
	return out, nil
}

// dailySeries counts table's rows created in c's period per bucket and
// key column, the top keys by their total named, the rest (NULL key)
// summed. table and column are constants of this file, never input.
func (s *Store) dailySeries(ctx context.Context, c chartDays, table, column string, top int) (DailySeries, error) {
	q, args := s.dailySeriesQuery(c, table, column, top)
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return DailySeries{}, err
	}
	defer rows.Close()
	n := len(c.days)
	out := DailySeries{Daily: make([]int64, n)}
	byKey := map[string]*Series{}
	var other *Series
	for rows.Next() {
		var b, count int64
		var key sql.NullString
		if err := rows.Scan(&b, &key, &count); err != nil {
			return DailySeries{}, err
		}
		i := c.day(b)
		if i < 0 {
			continue
		}
		var sr *Series
		switch {
		case !key.Valid:
			if other == nil {
				other = &Series{Other: true, Counts: make([]int64, n)}
			}
			sr = other
		default:
			if sr = byKey[key.String]; sr == nil {
				sr = &Series{Key: key.String, Counts: make([]int64, n)}
				byKey[key.String] = sr
			}
		}
		sr.Counts[i] += count
		sr.Total += count
		out.Daily[i] += count
		out.Total += count
	}
	if err := rows.Err(); err != nil {
		return DailySeries{}, err
	}
	for _, sr := range byKey {
		out.Series = append(out.Series, *sr)
	}
	sortSeries(out.Series)
	if other != nil {
		out.Series = append(out.Series, *other)
	}
	return out, nil
}

// dailySeriesQuery is dailySeries' statement and its arguments. It reads
// the period's index range once: the rows counted by bucket and key (per),
// the top keys by their sums (a few rows), then per's counts with a key
// beyond the top as NULL (one scan instead of two, and the top test on
// per's rows instead of every row: a third of the time on 100,000 clients,
// docs/BENCHMARKS.md). On PostgreSQL the bucket is computed from
// date_part's double precision, cheaper per row than extract's numeric.
func (s *Store) dailySeriesQuery(c chartDays, table, column string, top int) (string, []any) {
	bucket := "(CAST(strftime('%s', created_at) AS INTEGER) - ?) / ?"
	if s.pg() {
		bucket = "(floor(date_part('epoch', created_at))::bigint - ?) / ?"
	}
	q := "WITH per AS (SELECT " + bucket + " AS b, " + column + " AS k, COUNT(*) AS n FROM " + table +
		" WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2), " +
		"top AS (SELECT k FROM per GROUP BY k ORDER BY SUM(n) DESC, k LIMIT ?) " +
		"SELECT b, CASE WHEN k IN (SELECT k FROM top) THEN k END AS tk, CAST(SUM(n) AS BIGINT) FROM per GROUP BY b, tk"
	return q, []any{c.start, c.bucket, stampTime(c.first), stampTime(c.end), top}
}

// sortSeries orders series by total, the largest first, ties by key.
func sortSeries(series []Series) {
	slices.SortFunc(series, func(a, b Series) int {
		if a.Total != b.Total {
			return cmp.Compare(b.Total, a.Total)
		}
		return strings.Compare(a.Key, b.Key)
	})
}
