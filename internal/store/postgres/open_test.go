package postgres

import (
	"context"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, path, extra string }{
		{"", "chathub.db", ""},
		{"data/crm.db", "data/crm.db", ""},
		{"sqlite:///var/lib/chathub.db", "/var/lib/chathub.db", ""},
		{"sqlite://crm.db", "crm.db", ""},
		{"file:crm.db?mode=rwc", "file:crm.db", "mode=rwc&"},
		{":memory:", ":memory:", ""},
	}
	for _, c := range cases {
		got := sqliteDSN(c.in)
		want := c.path + "?" + c.extra + "_pragma=journal_mode(WAL)"
		if !strings.HasPrefix(got, want) || !strings.Contains(got, "busy_timeout(5000)") ||
			!strings.Contains(got, "foreign_keys(1)") {
			t.Errorf("sqliteDSN(%q) = %q, want prefix %q", c.in, got, want)
		}
	}
}

func TestConfigFlushers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  Config
		want int
	}{
		{Config{}, DefaultWriteFlushers},
		{Config{WriteFlushers: 6}, 6},
		{Config{WriteFlushers: 6, MaxOpenConns: 4}, 2},                   // one for the reads, one spare
		{Config{WriteFlushers: 6, MaxOpenConns: 4, MaxWriteBatch: 1}, 3}, // no read batcher
		{Config{MaxOpenConns: 3}, 1},
		{Config{MaxOpenConns: 1}, 1},
	} {
		if got := c.cfg.flushers(); got != c.want {
			t.Errorf("flushers of %+v = %d, want %d", c.cfg, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	bad := []Config{
		{MaxOpenConns: -1},
		{MaxWriteBatch: -1},
		{WriteFlushers: -2},
		{URL: "crm.db", Schema: "t_x"},
		{URL: "postgres://localhost/db", Schema: `x"; DROP SCHEMA public; --`},
		{URL: "postgres://localhost/db", Schema: "1abc"},
	}
	for _, c := range bad {
		if err := c.validate(); err == nil {
			t.Errorf("validate(%+v) accepted it", c)
		}
	}
	good := []Config{{}, {URL: "postgresql://u@h/db?sslmode=disable", Schema: "t_ab12", MaxOpenConns: 8},
		{URL: "postgres://h/db", MaxWriteBatch: 1, WriteFlushers: 64, MaxOpenConns: 2}}
	for _, c := range good {
		if err := c.validate(); err != nil {
			t.Errorf("validate(%+v): %v", c, err)
		}
	}
}

func TestOpenInMemorySQLite(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Config{URL: ":memory:"})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := s.ApplyChanges(context.Background(), newKey(), &crm.Changes{Now: t0, AddTags: []string{"a"}})
	if err != nil || c.ID == 0 {
		t.Fatalf("ApplyChanges on :memory: = %v, %v", c, err)
	}
}

func TestOpenPostgresFailsLoudly(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), Config{URL: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("Open of an unreachable PostgreSQL succeeded")
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Run(DialectSQLite, func(t *testing.T) {
		t.Parallel()
		cfg := Config{URL: filepath.Join(t.TempDir(), "crm.db")}
		checkReopen(t, cfg)
	})
	t.Run(DialectPostgres, func(t *testing.T) {
		t.Parallel()
		cfg := Config{URL: testDatabaseURL(), Schema: newPGSchema(t)}
		// Several processes starting at once on an empty schema.
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(context.Background(), cfg)
				if err != nil {
					t.Errorf("concurrent Open: %v", err)
					return
				}
				s.Close()
			}()
		}
		wg.Wait()
		checkReopen(t, cfg)
	})
}

// checkReopen opens cfg twice and checks that migrations ran once and data
// survived.
func checkReopen(t *testing.T, cfg Config) {
	key := newKey()
	s1 := mustOpen(t, cfg)
	apply(t, s1, key, &crm.Changes{Now: t0, Set: []crm.FieldValue{{Field: "city", Value: "Самара"}}})
	s1.Close()
	s2 := mustOpen(t, cfg)
	if n := count(t, s2, "SELECT COUNT(*) FROM schema_migrations"); n != int64(len(migrations)) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migrations))
	}
	if c := get(t, s2, key); c == nil || c.City != "Самара" {
		t.Errorf("client lost across reopen: %+v", c)
	}
}

// TestStatementsPerApply measures the statements a typical dialog step
// costs: profile + one Set + one answer + one tag.
func TestStatementsPerApply(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			n := countStatements(t, s.db)
			key := newKey()
			for i := range 3 {
				n.Store(0)
				apply(t, s, key, typicalStep(i))
				limit := int64(1)
				if b.name == DialectSQLite {
					// last update id read, upsert, answers, tags, tag re-read
					// (in-process, in one transaction)
					limit = 5
				}
				if got := n.Load(); got > limit {
					t.Errorf("step %d: %d statements, want at most %d", i, got, limit)
				}
				t.Logf("%s step %d: %d statement(s)", b.name, i, n.Load())
			}
		})
	}
}

// countStatements counts the SQL statements gorm runs on db.
func countStatements(t *testing.T, db *gorm.DB) *atomic.Int64 {
	var n atomic.Int64
	inc := func(*gorm.DB) { n.Add(1) }
	cb := db.Callback()
	for _, err := range []error{
		cb.Row().After("gorm:row").Register("test:count_row", inc),
		cb.Raw().After("gorm:raw").Register("test:count_raw", inc),
		cb.Query().After("gorm:query").Register("test:count_query", inc),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &n
}

// typicalStep is what one answered question usually records.
func typicalStep(i int) *crm.Changes {
	ch := &crm.Changes{
		Now:      at(i),
		UpdateID: strconv.Itoa(1000 + i),
		Profile:  &messenger.Profile{FirstName: "Марина", Username: "marina", Language: "ru"},
		Answers:  []crm.Answer{{Scenario: "portrait", Version: "v1", Step: "city", Field: "city", Value: "Москва"}},
	}
	if i%2 == 0 {
		ch.Set = []crm.FieldValue{{Field: "city", Value: "Москва"}}
	} else {
		ch.Attributes = []crm.FieldValue{{Field: "interests", Value: []string{"fitness", "travel"}}}
	}
	if i%4 == 0 {
		ch.AddTags = []string{"survey"}
	}
	return ch
}

func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	s := openSQLiteTemp(t)
	var mode string
	var fk, busy int
	if err := s.db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.db.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := s.db.Raw("PRAGMA busy_timeout").Scan(&busy).Error; err != nil || busy != 5000 {
		t.Errorf("busy_timeout = %d, %v; want 5000", busy, err)
	}
}

// TestLogsHideValues checks that gorm's log lines carry SQL text but never
// the parameter values (personal data).
func TestLogsHideValues(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var buf syncBuffer
			cfg := Config{URL: filepath.Join(t.TempDir(), "log.db"),
				Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			if b.name == DialectPostgres {
				cfg = Config{URL: testDatabaseURL(), Schema: newPGSchema(t), Logger: cfg.Logger}
			}
			s := mustOpen(t, cfg)
			const secret = "+79990001122"
			_ = s.db.Exec("SELECT * FROM no_such_table WHERE phone = ?", secret).Error
			out := buf.String()
			if !strings.Contains(out, "no_such_table") {
				t.Fatalf("the failing statement was not logged: %s", out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("log leaks a parameter value: %s", out)
			}
		})
	}
}

// TestLogsCancelledQuietly: a statement whose caller cancelled its context
// (a process shutting down stops its workers mid-query) is logged at debug
// level, not as an error, whether it was cancelled before it started or
// while it ran; a statement that timed out is still an error.
func TestLogsCancelledQuietly(t *testing.T) {
	long := map[string]string{
		DialectPostgres: "SELECT pg_sleep(10)",
		DialectSQLite:   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT COUNT(*) FROM c",
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var buf syncBuffer
			cfg := Config{URL: filepath.Join(t.TempDir(), "log.db"),
				Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			if b.name == DialectPostgres {
				cfg = Config{URL: testDatabaseURL(), Schema: newPGSchema(t), Logger: cfg.Logger}
			}
			s := mustOpen(t, cfg)
			// Each context is made when its case starts: a deadline set up
			// front could pass while an earlier case runs, and a statement
			// started at that very moment may then not be interrupted.
			for _, c := range []struct {
				name  string
				ctx   func() (context.Context, context.CancelFunc)
				level string
			}{
				{"cancelled before", func() (context.Context, context.CancelFunc) {
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					return ctx, cancel
				}, "DEBUG"},
				{"cancelled during", func() (context.Context, context.CancelFunc) {
					ctx, cancel := context.WithCancel(context.Background())
					time.AfterFunc(200*time.Millisecond, cancel)
					return ctx, cancel
				}, "DEBUG"},
				{"timed out", func() (context.Context, context.CancelFunc) {
					return context.WithTimeout(context.Background(), 200*time.Millisecond)
				}, "ERROR"},
			} {
				at := len(buf.String())
				ctx, cancel := c.ctx()
				err := s.db.WithContext(ctx).Exec(long[b.name]).Error
				cancel()
				if err == nil {
					t.Fatalf("%s: the statement succeeded", c.name)
				}
				out := buf.String()[at:]
				if want := `"level":"` + c.level + `","msg":"SQL failed"`; !strings.Contains(out, want) {
					t.Errorf("%s: want %s; logged %s", c.name, want, out)
				}
			}
		})
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = logtest.Buffer
