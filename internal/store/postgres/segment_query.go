package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
)

// Defaults of the segment queries.
const (
	// DefaultSampleSize is SampleSegment's n when it is not positive.
	DefaultSampleSize = 5
	// MaxSampleSize caps SampleSegment's n.
	MaxSampleSize = 1000
	// DefaultSegmentBatch is the batch size of SegmentIDs and
	// EachSegmentBatch when the caller passes no positive size.
	DefaultSegmentBatch = 1000
)

// segmentWhere renders seg for the store's dialect.
func (s *Store) segmentWhere(seg *segment.Segment) (segment.Where, error) {
	if seg == nil {
		return segment.Where{}, errors.New("no segment given")
	}
	return seg.SQL(segment.Dialect(s.dialect))
}

// segmentCountWhere renders seg for a query over all its clients at once
// (a count): segment.Segment.CountSQL, which drives a tag test from
// client_tags' tag index on PostgreSQL.
func (s *Store) segmentCountWhere(seg *segment.Segment) (segment.Where, error) {
	if seg == nil {
		return segment.Where{}, errors.New("no segment given")
	}
	return seg.CountSQL(segment.Dialect(s.dialect))
}

// CountSegment returns how many clients seg selects.
func (s *Store) CountSegment(ctx context.Context, seg *segment.Segment) (int64, error) {
	w, err := s.segmentCountWhere(seg)
	if err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	var n int64
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM clients WHERE "+w.SQL, w.Args, &n); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// SampleSegment returns up to n (0 or less: DefaultSampleSize; at most
// MaxSampleSize) clients seg selects, picked at random, with their tags.
func (s *Store) SampleSegment(ctx context.Context, seg *segment.Segment, n int) ([]crm.Client, error) {
	if n <= 0 {
		n = DefaultSampleSize
	}
	n = min(n, MaxSampleSize)
	w, err := s.segmentWhere(seg)
	if err != nil {
		return nil, fmt.Errorf("sample segment: %w", err)
	}
	q := "SELECT " + clientColumns + ", " + s.tagsExpr("clients.id") + " FROM clients WHERE " + w.SQL +
		" ORDER BY random() LIMIT ?"
	rows, err := s.db.WithContext(ctx).Raw(q, append(w.Args, n)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("sample segment: %w", err)
	}
	clients, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("sample segment: %w", err)
	}
	return clients, nil
}

// SegmentIDs returns, in ascending order, the ids of up to limit (0 or
// less: DefaultSegmentBatch) clients seg selects whose id is greater than
// after: one page of a keyset walk (pass the last id of a page as the next
// after; 0 starts). Pin seg with At first so that every page agrees on
// relative times.
func (s *Store) SegmentIDs(ctx context.Context, seg *segment.Segment, after int64, limit int) ([]int64, error) {
	if limit <= 0 {
		limit = DefaultSegmentBatch
	}
	w, err := s.segmentWhere(seg)
	if err != nil {
		return nil, fmt.Errorf("segment ids after %d: %w", after, err)
	}
	q := "SELECT clients.id FROM clients WHERE clients.id > ? AND " + w.SQL + " ORDER BY clients.id LIMIT ?"
	args := append(append([]any{after}, w.Args...), limit)
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("segment ids after %d: %w", after, err)
	}
	defer rows.Close()
	ids := make([]int64, 0, limit)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("segment ids after %d: %w", after, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("segment ids after %d: %w", after, err)
	}
	return ids, nil
}

// EachSegmentBatch calls fn with the ids of the clients seg selects, in
// ascending batches of up to size (0 or less: DefaultSegmentBatch), without
// holding more than one batch in memory or a transaction open between
// batches. An unpinned seg is pinned at the start, so relative times mean
// the same for every batch. It stops at the first error of fn, which it
// returns as is; fn must not keep ids after it returns.
func (s *Store) EachSegmentBatch(ctx context.Context, seg *segment.Segment, size int, fn func(ids []int64) error) error {
	if seg != nil && !seg.Pinned() {
		seg = seg.At(seg.Now())
	}
	if size <= 0 {
		size = DefaultSegmentBatch
	}
	var after int64
	for {
		ids, err := s.SegmentIDs(ctx, seg, after, size)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := fn(ids); err != nil {
			return err
		}
		if len(ids) < size {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// SegmentActivity loads what seg needs of client id's history to be
// matched in memory (segment.Segment.Match): the answers and completions of
// the scenarios seg names, and their unanswered step visits. It returns an empty Activity, without a query,
// when seg needs none.
func (s *Store) SegmentActivity(ctx context.Context, seg *segment.Segment, clientID int64) (*segment.Activity, error) {
	act := &segment.Activity{}
	scenarios := seg.Scenarios()
	if len(scenarios) == 0 {
		return act, nil
	}
	if err := s.loadSegmentAnswers(ctx, clientID, scenarios, act); err != nil {
		return nil, fmt.Errorf("segment activity of client %d: %w", clientID, err)
	}
	if err := s.loadCompletions(ctx, clientID, scenarios, act); err != nil {
		return nil, fmt.Errorf("segment activity of client %d: %w", clientID, err)
	}
	if err := s.loadWaiting(ctx, clientID, scenarios, act); err != nil {
		return nil, fmt.Errorf("segment activity of client %d: %w", clientID, err)
	}
	return act, nil
}

// inList renders "(?, ?, …)" for n values.
func inList(n int) string { return values(1, n) }

func anyArgs(first any, ss []string) []any {
	args := make([]any, 0, len(ss)+1)
	args = append(args, first)
	for _, v := range ss {
		args = append(args, v)
	}
	return args
}

func (s *Store) loadSegmentAnswers(ctx context.Context, id int64, scenarios []string, act *segment.Activity) error {
	rows, err := s.db.WithContext(ctx).Raw("SELECT scenario, step, field, created_at FROM answers "+
		"WHERE client_id = ? AND scenario IN "+inList(len(scenarios)), anyArgs(id, scenarios)...).Rows()
	if err != nil {
		return fmt.Errorf("answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a := crm.Answer{ClientID: id}
		if err := rows.Scan(&a.Scenario, &a.Step, &a.Field, timeScanner{v: &a.CreatedAt}); err != nil {
			return fmt.Errorf("answers: %w", err)
		}
		act.Answers = append(act.Answers, a)
	}
	return rows.Err()
}

func (s *Store) loadCompletions(ctx context.Context, id int64, scenarios []string, act *segment.Activity) error {
	rows, err := s.db.WithContext(ctx).Raw("SELECT scenario, version, step, created_at FROM completions "+
		"WHERE client_id = ? AND scenario IN "+inList(len(scenarios)), anyArgs(id, scenarios)...).Rows()
	if err != nil {
		return fmt.Errorf("completions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := crm.Completion{ClientID: id}
		if err := rows.Scan(&c.Scenario, &c.Version, &c.Step, timeScanner{v: &c.CreatedAt}); err != nil {
			return fmt.Errorf("completions: %w", err)
		}
		act.Completions = append(act.Completions, c)
	}
	return rows.Err()
}

func (s *Store) loadWaiting(ctx context.Context, id int64, scenarios []string, act *segment.Activity) error {
	rows, err := s.db.WithContext(ctx).Raw("SELECT scenario, version, step, run, entered_at, left_at IS NOT NULL FROM step_visits "+
		"WHERE client_id = ? AND answered_at IS NULL AND scenario IN "+inList(len(scenarios)), anyArgs(id, scenarios)...).Rows()
	if err != nil {
		return fmt.Errorf("step visits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w segment.Waiting
		if err := rows.Scan(&w.Scenario, &w.Version, &w.Step, &w.Run, timeScanner{v: &w.EnteredAt}, &w.Left); err != nil {
			return fmt.Errorf("step visits: %w", err)
		}
		act.Waiting = append(act.Waiting, w)
	}
	return rows.Err()
}
