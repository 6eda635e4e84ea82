package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
)

// FunnelSteps counts q's conversations step by step from step_visits (see
// crm.FunnelStepCount), with the first reminders of each step's question
// from reminders; steps in no particular order (the caller knows the
// scenario's). A conversation counts once per step however often it
// visited it. See FunnelStepsAsOf for where the counts come from.
func (s *Store) FunnelSteps(ctx context.Context, q crm.FunnelQuery) ([]crm.FunnelStepCount, error) {
	out, _, err := s.FunnelStepsAsOf(ctx, q)
	return out, err
}

// FunnelStepsAsOf is FunnelSteps and the time its step counts are as of:
// on PostgreSQL, once RefreshFunnel has built the rollup, a q whose Since
// is on the hour (or zero) is answered from it, as of its last refresh
// (medians from its histograms, within 5 %); otherwise, and always on
// SQLite, the visits are counted live and asOf is zero. The reminders are
// always counted live.
func (s *Store) FunnelStepsAsOf(ctx context.Context, q crm.FunnelQuery) (steps []crm.FunnelStepCount, asOf time.Time, err error) {
	byStep := map[string]*crm.FunnelStepCount{}
	get := func(step string) *crm.FunnelStepCount {
		c := byStep[step]
		if c == nil {
			c = &crm.FunnelStepCount{Step: step}
			byStep[step] = c
		}
		return c
	}
	rolled := false
	if s.pg() {
		if asOf, rolled, err = s.rollupFunnel(ctx, q, get); err != nil {
			return nil, time.Time{}, fmt.Errorf("funnel of %s: %w", q.Scenario, err)
		}
	}
	if !rolled {
		if err := s.funnelLive(ctx, q, get); err != nil {
			return nil, time.Time{}, err
		}
		if err := funnelReminders(s.db.WithContext(ctx), q, get); err != nil {
			return nil, time.Time{}, fmt.Errorf("funnel of %s: reminders: %w", q.Scenario, err)
		}
	}
	out := make([]crm.FunnelStepCount, 0, len(byStep))
	for _, c := range byStep {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b crm.FunnelStepCount) int { return strings.Compare(a.Step, b.Step) })
	return out, asOf, nil
}

// funnelLive counts q's visits and answer times from step_visits.
func (s *Store) funnelLive(ctx context.Context, q crm.FunnelQuery, get func(string) *crm.FunnelStepCount) error {
	if err := s.funnelCounts(ctx, q, get); err != nil {
		return fmt.Errorf("funnel of %s: %w", q.Scenario, err)
	}
	if err := s.funnelMedians(ctx, q, get); err != nil {
		return fmt.Errorf("funnel of %s: answer times: %w", q.Scenario, err)
	}
	return nil
}

// funnelFilter renders the FROM and WHERE of q's visits (alias v, the
// client c when a client filter is set).
func funnelFilter(q crm.FunnelQuery) (string, []any) {
	since := orEpoch(q.Since)
	var b strings.Builder
	b.WriteString(" FROM step_visits AS v")
	joinClients(&b, q, "v")
	b.WriteString(" WHERE v.scenario = ? AND v.run >= ? AND v.entered_at >= ?")
	args := []any{q.Scenario, since.UnixMicro(), since}
	args = clientFilter(&b, args, q, "v")
	return b.String(), args
}

// orEpoch is t as stored, or the epoch for the zero time (no bound).
func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return stampTime(t)
}

// joinClients joins the clients (alias c) to the rows of alias t when q
// filters by a client's platform or source.
func joinClients(b *strings.Builder, q crm.FunnelQuery, t string) {
	if q.Platform != "" || q.Source != "" {
		b.WriteString(" JOIN clients AS c ON c.id = " + t + ".client_id")
	}
}

// clientFilter adds q's version, platform and source conditions on the
// table alias t (and clients c).
func clientFilter(b *strings.Builder, args []any, q crm.FunnelQuery, t string) []any {
	if q.Version != "" {
		b.WriteString(" AND " + t + ".version = ?")
		args = append(args, q.Version)
	}
	if q.Platform != "" {
		b.WriteString(" AND c.platform = ?")
		args = append(args, q.Platform)
	}
	if q.Source != "" {
		b.WriteString(" AND c.source = ?")
		args = append(args, q.Source)
	}
	return args
}

// funnelCountsQuery is funnelCounts's statement: per step, the
// conversations (client and run) that entered it, answered it, wait there
// and dropped there.
func funnelCountsQuery(q crm.FunnelQuery) (string, []any) {
	open := orEpoch(q.OpenSince)
	from, fargs := funnelFilter(q)
	sql := "SELECT step, COUNT(*), SUM(ans), SUM(stuck), SUM(dropped) FROM (SELECT v.step, v.client_id, v.run, " +
		"MAX(CASE WHEN v.answered_at IS NOT NULL THEN 1 ELSE 0 END) AS ans, " +
		"MAX(CASE WHEN v.left_at IS NULL AND v.entered_at >= ? THEN 1 ELSE 0 END) AS stuck, " +
		"MAX(CASE WHEN v.answered_at IS NULL AND (v.left_at IS NOT NULL OR v.entered_at < ?) THEN 1 ELSE 0 END) AS dropped" +
		from + " GROUP BY v.step, v.client_id, v.run) AS x GROUP BY step"
	return sql, append([]any{open, open}, fargs...)
}

// funnelCounts fills the conversation counts of each step.
func (s *Store) funnelCounts(ctx context.Context, q crm.FunnelQuery, get func(string) *crm.FunnelStepCount) error {
	sql, args := funnelCountsQuery(q)
	rows, err := s.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var step string
		var n, ans, stuck, dropped int
		if err := rows.Scan(&step, &n, &ans, &stuck, &dropped); err != nil {
			return err
		}
		c := get(step)
		c.Entered, c.Answered, c.Stuck, c.Dropped = n, ans, stuck, dropped
	}
	return rows.Err()
}

// funnelMedians fills the median time to answer of each step (over its
// answered visits): PostgreSQL computes it, SQLite's durations are read
// and the median taken here alike (the middle one, or the mean of the
// two middle ones).
func (s *Store) funnelMedians(ctx context.Context, q crm.FunnelQuery, get func(string) *crm.FunnelStepCount) error {
	if s.pg() {
		sql, args := pgFunnelMediansQuery(q)
		rows, err := s.db.WithContext(ctx).Raw(sql, args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var step string
			var sec float64
			if err := rows.Scan(&step, &sec); err != nil {
				return err
			}
			get(step).MedianAnswer = time.Duration(math.Round(sec*1e6)) * time.Microsecond
		}
		return rows.Err()
	}
	from, args := funnelFilter(q)
	rows, err := s.db.WithContext(ctx).Raw("SELECT v.step, v.entered_at, v.answered_at"+from+
		" AND v.answered_at IS NOT NULL", args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	durs := map[string][]time.Duration{}
	for rows.Next() {
		var step string
		var in, out time.Time
		if err := rows.Scan(&step, timeScanner{v: &in}, timeScanner{v: &out}); err != nil {
			return err
		}
		durs[step] = append(durs[step], out.Sub(in))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for step, d := range durs {
		get(step).MedianAnswer = median(d)
	}
	return nil
}

// pgFunnelMediansQuery is funnelMedians's statement on PostgreSQL: the
// median seconds from entering to answering, per step.
func pgFunnelMediansQuery(q crm.FunnelQuery) (string, []any) {
	from, args := funnelFilter(q)
	return "SELECT v.step, percentile_cont(0.5) WITHIN GROUP " +
		"(ORDER BY EXTRACT(EPOCH FROM v.answered_at - v.entered_at))" + from +
		" AND v.answered_at IS NOT NULL GROUP BY v.step", args
}

// median is the middle of ds (the mean of the two middle ones for an even
// count), as percentile_cont(0.5).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// funnelReminders fills each step's first reminders in the conversations
// started since q.Since and how many of them the client answered
// afterwards (read through db).
func funnelReminders(db *gorm.DB, q crm.FunnelQuery, get func(string) *crm.FunnelStepCount) error {
	sql, args := funnelRemindersQuery(q)
	rows, err := db.Raw(sql, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var step string
		var sent, back int
		if err := rows.Scan(&step, &sent, &back); err != nil {
			return err
		}
		c := get(step)
		c.Reminded, c.CameBack = sent, back
	}
	return rows.Err()
}

// funnelRemindersQuery is funnelReminders's statement: per step, the first
// reminders of the conversations started since q.Since (reminders.run,
// migration 30) and how many were answered; a reminder is sent after its
// conversation started, so sent_at >= since narrows the rows first.
func funnelRemindersQuery(q crm.FunnelQuery) (string, []any) {
	since := orEpoch(q.Since)
	var b strings.Builder
	b.WriteString("SELECT r.step, COUNT(*), COUNT(r.answered_at) FROM reminders AS r")
	joinClients(&b, q, "r")
	b.WriteString(" WHERE r.scenario = ? AND r.n = 1 AND r.sent_at >= ?")
	args := []any{q.Scenario, since}
	if !q.Since.IsZero() {
		b.WriteString(" AND r.run >= ?")
		args = append(args, since.UnixMicro())
	}
	args = clientFilter(&b, args, q, "r")
	b.WriteString(" GROUP BY r.step")
	return b.String(), args
}
