package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
)

// PeekSegment returns up to n (0 or less: DefaultSampleSize; at most
// MaxSampleSize) clients seg selects, with their tags: those with the
// smallest ids from a random client id on, wrapping around to the start.
// It walks the primary key and stops at n matches, so a few examples of a
// large segment cost a few rows (SampleSegment sorts every match at
// random, which on 90,000 matches takes over 100 ms); the examples are
// neighbours by id, from a random place. The console's segment editor
// shows them as it counts.
func (s *Store) PeekSegment(ctx context.Context, seg *segment.Segment, n int) ([]crm.Client, error) {
	if n <= 0 {
		n = DefaultSampleSize
	}
	n = min(n, MaxSampleSize)
	w, err := s.segmentWhere(seg)
	if err != nil {
		return nil, fmt.Errorf("peek segment: %w", err)
	}
	var maxID int64
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT COALESCE(MAX(id), 0) FROM clients", nil, &maxID); err != nil {
		return nil, fmt.Errorf("peek segment: %w", err)
	}
	if maxID == 0 {
		return nil, nil
	}
	from := 1 + rand.Int64N(maxID)
	q := "SELECT " + clientColumns + ", " + s.tagsExpr("clients.id") + " FROM clients WHERE (" + w.SQL + ") AND "
	out, err := s.peek(ctx, q+"id >= ? ORDER BY id LIMIT ?", w.Args, from, n)
	if err != nil || len(out) == n || from == 1 {
		return out, err
	}
	more, err := s.peek(ctx, q+"id < ? ORDER BY id LIMIT ?", w.Args, from, n-len(out))
	return append(out, more...), err
}

func (s *Store) peek(ctx context.Context, q string, args []any, from int64, n int) ([]crm.Client, error) {
	rows, err := s.db.WithContext(ctx).Raw(q, append(append([]any{}, args...), from, n)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("peek segment: %w", err)
	}
	clients, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("peek segment: %w", err)
	}
	return clients, nil
}
