package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

func TestClassifySQLState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code                  string
		rejected, unavailable bool
	}{
		{"22001", true, false},  // string data right truncation
		{"22003", true, false},  // numeric value out of range
		{"22P02", true, false},  // invalid text representation
		{"23505", true, false},  // unique violation
		{"23502", true, false},  // not null violation
		{"54000", true, false},  // program limit exceeded: index row size
		{"08006", false, true},  // connection failure
		{"25006", false, true},  // read-only transaction: a demoted primary
		{"40001", false, true},  // serialization failure
		{"40P01", false, true},  // deadlock detected
		{"53100", false, true},  // disk full
		{"53300", false, true},  // too many connections
		{"55P03", false, true},  // lock not available
		{"57P01", false, true},  // admin shutdown
		{"57014", false, true},  // query canceled: statement timeout
		{"42P01", false, false}, // undefined table: neither, left unclassified
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			pgErr := &pgconn.PgError{Code: tt.code, Message: "invalid input syntax for type integer: \"secret\"", ColumnName: "age"}
			err := classify(fmt.Errorf("write: %w", pgErr))
			if errors.Is(err, crm.ErrRejected) != tt.rejected {
				t.Fatalf("classify(%s) = %v; rejected %v, want %v", tt.code, err, !tt.rejected, tt.rejected)
			}
			if errors.Is(err, crm.ErrUnavailable) != tt.unavailable {
				t.Fatalf("classify(%s) = %v; unavailable %v, want %v", tt.code, err, !tt.unavailable, tt.unavailable)
			}
			if tt.unavailable && !errors.Is(err, pgErr) {
				t.Fatalf("classify(%s) lost the driver's error: %v", tt.code, err)
			}
			if tt.rejected && strings.Contains(err.Error(), "secret") {
				t.Fatalf("the rejection quotes the server's message (a value): %v", err)
			}
		})
	}
	if err := classify(context.DeadlineExceeded); errors.Is(err, crm.ErrRejected) {
		t.Fatal("a timeout is not a rejection")
	}
}

// TestApplyChangesRejectsUnstorableValues: values a column cannot hold are
// refused as crm.ErrRejected on both databases, before or by the database,
// and a platform's over-long profile value is cut to fit instead.
func TestApplyChangesRejectsUnstorableValues(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.name == DialectPostgres {
				skipPG(t)
			}
			s := b.open(t)
			ctx := context.Background()
			key := messenger.ChatKey{Platform: messenger.Telegram, ID: "77"}
			for _, ch := range []crm.Changes{
				{Set: []crm.FieldValue{{Field: "city", Value: strings.Repeat("ж", 3000)}}},
				{Set: []crm.FieldValue{{Field: "age", Value: int64(99999999999)}}},
				{Set: []crm.FieldValue{{Field: "age", Value: 151}}},
				{Set: []crm.FieldValue{{Field: "children_count", Value: -1}}},
				{Set: []crm.FieldValue{{Field: "nope", Value: "x"}}},
			} {
				err := s.RecordChanges(ctx, key, &ch)
				if !errors.Is(err, crm.ErrRejected) {
					t.Errorf("RecordChanges(%v…): err = %v, want crm.ErrRejected", ch.Set[0].Field, err)
				}
			}
			long := strings.Repeat("ж", 3000)
			c, err := s.ApplyChanges(ctx, key, &crm.Changes{Profile: &messenger.Profile{FirstName: long, City: long}, Source: long})
			if err != nil {
				t.Fatalf("profile with over-long values: %v", err)
			}
			for name, v := range map[string]string{"first_name": c.FirstName, "city": c.City, "source": c.Source} {
				if n := len([]rune(v)); n != crm.MaxTextLen {
					t.Errorf("%s kept %d characters, want %d", name, n, crm.MaxTextLen)
				}
			}
		})
	}
}

// TestClassifyRealDatabaseErrors: errors the database itself raises are
// classified by their code.
func TestClassifyRealDatabaseErrors(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.name == DialectPostgres {
				skipPG(t)
			}
			s := b.open(t)
			ctx := context.Background()
			q := "INSERT INTO clients (platform, bot, platform_user_id) VALUES ('telegram', '', '1')"
			if err := s.db.WithContext(ctx).Exec(q).Error; err != nil {
				t.Fatal(err)
			}
			err := classify(s.db.WithContext(ctx).Exec(q).Error) // a unique violation
			if !errors.Is(err, crm.ErrRejected) {
				t.Fatalf("duplicate key: %v, want crm.ErrRejected", err)
			}
			if b.name == DialectPostgres {
				err = classify(s.db.WithContext(ctx).Exec("UPDATE clients SET age = 99999999999").Error)
				if !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "SQLSTATE 22003") {
					t.Fatalf("integer out of range: %v, want crm.ErrRejected naming SQLSTATE 22003", err)
				}
			}
		})
	}
}
