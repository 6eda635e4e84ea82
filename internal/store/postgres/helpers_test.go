package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// defaultTestDatabaseURL is used when TEST_DATABASE_URL is unset.
const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// backend opens a fresh, isolated store for one test.
type backend struct {
	name string
	open func(t testing.TB) *Store
}

var backends = []backend{
	{DialectSQLite, openSQLiteTemp},
	{DialectPostgres, openPGTemp},
}

func testDatabaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultTestDatabaseURL
}

// skipPG skips unless PostgreSQL tests are wanted. They are by default: a
// connection failure then fails the test, so CI proves PostgreSQL works.
func skipPG(t testing.TB) {
	t.Helper()
	if os.Getenv("CHATHUB_SKIP_PG") == "1" {
		t.Skip("CHATHUB_SKIP_PG=1")
	}
}

// openSQLiteTemp opens a store on a new SQLite file in t.TempDir().
func openSQLiteTemp(t testing.TB) *Store {
	t.Helper()
	return mustOpen(t, Config{URL: filepath.Join(t.TempDir(), "test.db")})
}

// openPGTemp opens a store in a new random schema dropped after the test.
func openPGTemp(t testing.TB) *Store {
	t.Helper()
	return mustOpen(t, Config{URL: testDatabaseURL(), Schema: newPGSchema(t)})
}

// newPGSchema returns a random schema name and drops the schema (if it was
// created) when the test ends, after the stores using it are closed.
func newPGSchema(t testing.TB) string {
	t.Helper()
	skipPG(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() { dropSchema(t, schema) })
	return schema
}

func dropSchema(t testing.TB, schema string) {
	cfg, err := pgx.ParseConfig(testDatabaseURL())
	if err != nil {
		t.Errorf("drop schema: %v", err)
		return
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if _, err := db.Exec("DROP SCHEMA IF EXISTS " + quoteIdent(schema) + " CASCADE"); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

// mustOpen opens a store, failing the test on error, closed at cleanup.
func mustOpen(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s store (CHATHUB_SKIP_PG=1 skips PostgreSQL): %v", dialectOf(cfg), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func dialectOf(cfg Config) string {
	if cfg.isPostgres() {
		return DialectPostgres
	}
	return DialectSQLite
}

var keySeq atomic.Int64

// newKey returns a chat key no other test uses.
func newKey() messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprintf("u%d", keySeq.Add(1))}
}

// t0 is the base time of the tests; PostgreSQL keeps microseconds.
var t0 = time.Date(2025, 3, 10, 12, 0, 0, 123456000, time.UTC)

// at returns t0 plus n minutes.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// apply applies ch, failing the test on error.
func apply(t *testing.T, s *Store, key messenger.ChatKey, ch *crm.Changes) *crm.Client {
	t.Helper()
	c, err := s.ApplyChanges(context.Background(), key, ch)
	if err != nil {
		t.Fatalf("ApplyChanges: %v", err)
	}
	if c == nil {
		t.Fatal("ApplyChanges returned no client")
	}
	return c
}

// get loads a client, failing the test on error.
func get(t *testing.T, s *Store, key messenger.ChatKey) *crm.Client {
	t.Helper()
	c, err := s.GetClient(context.Background(), key)
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	return c
}

// count runs a COUNT(*) query.
func count(t *testing.T, s *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }
