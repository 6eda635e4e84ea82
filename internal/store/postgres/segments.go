package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/segment"
)

// ErrSegmentInUse is wrapped by DeleteSegment when other saved segments or
// campaigns that have not finished use the one to delete.
var ErrSegmentInUse = errors.New("store: segment is in use")

// segmentLockKey is the advisory-lock key serialising saved-segment writes
// of one schema (so that two saves cannot create a cycle between them).
func segmentLockKey(schema string) int64 { return lockKey("segments:" + schema) }

// SegmentExpression implements segment.Library over the saved segments.
func (s *Store) SegmentExpression(ctx context.Context, name string) (string, bool, error) {
	return txLibrary{s.db.WithContext(ctx)}.SegmentExpression(ctx, name)
}

// txLibrary reads saved segments through one transaction (or the pool).
type txLibrary struct{ db *gorm.DB }

// SegmentExpression implements segment.Library.
func (l txLibrary) SegmentExpression(_ context.Context, name string) (string, bool, error) {
	var expr string
	found, err := queryOne(l.db, "SELECT expression FROM segments WHERE name = ?", []any{name}, &expr)
	if err != nil {
		return "", false, fmt.Errorf("read segment %q: %w", name, err)
	}
	return expr, found, nil
}

// CompileSegment compiles expr with the saved segments available to
// segment("name"), checking the names completed(...) and answered(...)
// use against the stored scenario versions and UseScenarios. A bad
// expression gives a *segment.Error.
func (s *Store) CompileSegment(ctx context.Context, expr string) (*segment.Segment, error) {
	c, err := segment.NewCompiler(segment.Config{Library: s, Scenarios: s.segmentScenarios(s.db), OpenFor: s.conversationTTL})
	if err != nil {
		return nil, err
	}
	return c.Compile(ctx, expr)
}

// SaveSegment creates or replaces the saved segment d.Name after checking
// its name, description and expression (compiled against the other saved
// segments, so unknown references and cycles are refused). It returns the
// segment as stored. A bad expression gives a *segment.Error and stores
// nothing.
func (s *Store) SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	now := stampTime(time.Time{})
	var out segment.Definition
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockSegments(tx); err != nil {
			return err
		}
		c, err := segment.NewCompiler(segment.Config{
			Library:   segment.Overlay{Name: d.Name, Expr: d.Expression, Base: txLibrary{tx}},
			Scenarios: s.segmentScenarios(tx),
			OpenFor:   s.conversationTTL,
		})
		if err != nil {
			return err
		}
		if _, err := c.Compile(ctx, d.Expression); err != nil {
			return err
		}
		_, err = queryOne(tx, "INSERT INTO segments (name, expression, description, created_at, updated_at) "+
			"VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET expression = EXCLUDED.expression, "+
			"description = EXCLUDED.description, updated_at = EXCLUDED.updated_at "+
			"RETURNING name, expression, description, created_at, updated_at",
			[]any{d.Name, d.Expression, d.Description, now, now}, definitionTargets(&out)...)
		return err
	})
	if err != nil {
		var se *segment.Error
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fmt.Errorf("save segment %q: %w", d.Name, err)
	}
	return &out, nil
}

// lockSegments serialises saved-segment writes on PostgreSQL (SQLite write
// transactions are exclusive already).
func (s *Store) lockSegments(tx *gorm.DB) error {
	if !s.pg() {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", segmentLockKey(s.schema)).Error; err != nil {
		return fmt.Errorf("lock segments: %w", err)
	}
	return nil
}

func definitionTargets(d *segment.Definition) []any {
	return []any{&d.Name, &d.Expression, &d.Description, timeScanner{v: &d.CreatedAt}, timeScanner{v: &d.UpdatedAt}}
}

// GetSegment returns the saved segment called name; the error wraps
// ErrNotFound when there is none.
func (s *Store) GetSegment(ctx context.Context, name string) (*segment.Definition, error) {
	var d segment.Definition
	found, err := queryOne(s.db.WithContext(ctx), "SELECT name, expression, description, created_at, updated_at "+
		"FROM segments WHERE name = ?", []any{name}, definitionTargets(&d)...)
	if err == nil && !found {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get segment %q: %w", name, err)
	}
	return &d, nil
}

// ListSegments returns every saved segment, by name.
func (s *Store) ListSegments(ctx context.Context) ([]segment.Definition, error) {
	return listSegments(s.db.WithContext(ctx))
}

func listSegments(db *gorm.DB) ([]segment.Definition, error) {
	rows, err := db.Raw("SELECT name, expression, description, created_at, updated_at FROM segments ORDER BY name").Rows()
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	defer rows.Close()
	var out []segment.Definition
	for rows.Next() {
		var d segment.Definition
		if err := rows.Scan(definitionTargets(&d)...); err != nil {
			return nil, fmt.Errorf("list segments: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return out, nil
}

// DeleteSegment deletes the saved segment called name. The error wraps
// ErrNotFound when there is none, and ErrSegmentInUse (naming the users)
// when other saved segments refer to it with segment("name") or campaigns
// that have not finished (draft, scheduled, running, paused) do: they
// compile it again to fill their ledgers (at the start, and on a resume
// until the ledger is full).
func (s *Store) DeleteSegment(ctx context.Context, name string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockSegments(tx); err != nil {
			return err
		}
		all, err := listSegments(tx)
		if err != nil {
			return err
		}
		var users []string
		for _, d := range all {
			if d.Name != name && slices.Contains(segment.References(d.Expression), name) {
				users = append(users, d.Name)
			}
		}
		if len(users) > 0 {
			return fmt.Errorf("%w: used by other segments: %s; change or delete them first", ErrSegmentInUse, strings.Join(users, ", "))
		}
		if err := campaignsUsing(tx, name); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM segments WHERE name = ?", name)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete segment %q: %w", name, err)
	}
	return nil
}
