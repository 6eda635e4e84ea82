// Package postgres is chathub's system of record: the CRM (clients, tags,
// answers, notes, hand-offs) and scenario versions, stored in PostgreSQL or,
// for a one-machine setup, in an embedded SQLite file. It is the only package
// that uses gorm; the SQL it runs is written by hand, parameterised, and
// shared between the two dialects where they agree.
//
// Personal data never leaves this package in logs or error messages: gorm is
// configured not to print SQL parameters, and errors name fields and chat
// keys, never values.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	pgdriver "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/chathub/chathub/internal/health"
)

// ErrNotFound is wrapped by lookups that find nothing (LoadVersion).
var ErrNotFound = errors.New("store: not found")

// Dialect names returned by Store.Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Defaults applied by Open.
const (
	// DefaultSQLitePath is the SQLite file used when Config.URL is empty.
	DefaultSQLitePath = "chathub.db"
	// DefaultMaxOpenConns is the PostgreSQL pool size when Config.MaxOpenConns is 0.
	DefaultMaxOpenConns = 32
)

// Config selects and tunes the database.
type Config struct {
	// URL is a PostgreSQL URL ("postgres://…" or "postgresql://…") or else a
	// SQLite file path; "sqlite://path" and "file:path" (a SQLite URI) are
	// accepted too. Empty means the SQLite file DefaultSQLitePath.
	URL string
	// Logger receives gorm's warnings and errors (SQL text without parameter
	// values) and migration notices. Nil discards them.
	Logger *slog.Logger
	// MaxOpenConns caps the PostgreSQL connection pool; 0 means
	// DefaultMaxOpenConns. SQLite ignores it and always uses one connection
	// (one writer; WAL, busy_timeout=5000, foreign keys on).
	MaxOpenConns int
	// MaxWriteBatch, for PostgreSQL only, caps how many client statements
	// of concurrent callers (RecordChanges and ApplyChanges of chats
	// handled in parallel) are sent in one round trip and committed
	// together; 0 means DefaultMaxWriteBatch
	// (32) and 1 sends every write on its own. Batching never waits for a
	// batch to fill, and each caller still returns only after its write
	// committed. The card reads (GetClient) are batched the same way, up
	// to as many, in batches of their own, one at a time.
	MaxWriteBatch int
	// WriteFlushers, for PostgreSQL only, is how many write batches may be
	// in flight at once, each on its own pooled connection; 0 means
	// DefaultWriteFlushers (2). With batching (MaxWriteBatch above 1) it is
	// capped at MaxOpenConns-2: the batch of card reads in flight takes a
	// connection too, and one is left for the other statements (gorm's,
	// the health probe's). It is one at the least, so a pool of 2 or
	// fewer leaves the other statements nothing while both batchers send.
	// One read flusher serves every card read: a read batch stuck on a
	// dead connection holds the others until it times out (30 s).
	WriteFlushers int
	// Schema, for PostgreSQL only, is a schema to create if missing and use
	// through search_path (tests isolate themselves with it). Empty uses the
	// server's default search_path.
	Schema string
	// ConversationTTL is how long an idle conversation lives (STATE_TTL):
	// a client waiting at a step for longer no longer counts as stuck there
	// in stuck(...) segments (segment.Config.OpenFor). 0 means
	// segment.OpenFor (30 days, STATE_TTL's default); must not be negative.
	ConversationTTL time.Duration

	// migrateTo stops the migrations after this version (tests of a
	// migration over existing rows); 0 applies them all.
	migrateTo int
}

var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// isPostgres reports whether the URL selects PostgreSQL.
func (c Config) isPostgres() bool {
	return strings.HasPrefix(c.URL, "postgres://") || strings.HasPrefix(c.URL, "postgresql://")
}

// poolSize is MaxOpenConns with its default.
func (c Config) poolSize() int {
	if c.MaxOpenConns == 0 {
		return DefaultMaxOpenConns
	}
	return c.MaxOpenConns
}

// writeBatch is MaxWriteBatch with its default.
func (c Config) writeBatch() int {
	if c.MaxWriteBatch == 0 {
		return DefaultMaxWriteBatch
	}
	return c.MaxWriteBatch
}

// flushers is WriteFlushers with its default, leaving a pooled connection
// to the read batcher (when batching) and one to the other statements (one
// flusher at the least).
func (c Config) flushers() int {
	n := c.WriteFlushers
	if n == 0 {
		n = DefaultWriteFlushers
	}
	spare := 1
	if c.writeBatch() > 1 {
		spare = 2 // the read batcher's connection
	}
	return max(1, min(n, c.poolSize()-spare))
}

// validate checks the config without touching the database.
func (c Config) validate() error {
	if c.MaxOpenConns < 0 {
		return fmt.Errorf("store config: max open conns must not be negative, got %d", c.MaxOpenConns)
	}
	if c.MaxWriteBatch < 0 || c.WriteFlushers < 0 {
		return fmt.Errorf("store config: max write batch (%d) and write flushers (%d) must not be negative",
			c.MaxWriteBatch, c.WriteFlushers)
	}
	if c.ConversationTTL < 0 {
		return fmt.Errorf("store config: conversation TTL must not be negative, got %s", c.ConversationTTL)
	}
	if c.Schema != "" && !c.isPostgres() {
		return errors.New("store config: schema is supported only with a PostgreSQL URL")
	}
	if c.Schema != "" && !schemaName.MatchString(c.Schema) {
		return errors.New("store config: schema must be a plain SQL identifier (letters, digits, underscore)")
	}
	if c.isPostgres() {
		if _, err := url.Parse(c.URL); err != nil {
			return errors.New("store config: malformed PostgreSQL URL")
		}
	}
	return nil
}

// Store is the CRM and scenario-version repository over gorm. It is safe
// for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	schema  string
	log     *slog.Logger
	// conversationTTL is Config.ConversationTTL.
	conversationTTL time.Duration
	// batch carries the single-row statements of queryRow on PostgreSQL
	// (nil: each statement on its own, always on SQLite).
	batch *groupCommit
	// reads carries the single-row reads of readRow (the dialog's client
	// card) the same way, in batches of their own: a read then waits
	// neither behind the writes queued before it nor for their batch's
	// commit, while one flusher still bounds what reads ask of the server
	// at once. Nil exactly when batch is.
	reads *groupCommit
	// scenarios are the names segments check completed/answered against.
	scenarios scenarioIndex
	// health watches the database: an outage is logged once by it, not by
	// every statement that fails meanwhile.
	health *health.Dependency
}

// Open connects to the database cfg names, applies pending migrations and
// returns a ready Store. Close it when done.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{log: log, schema: cfg.Schema, conversationTTL: cfg.ConversationTTL}
	name := "SQLite"
	if cfg.isPostgres() {
		name = "PostgreSQL"
	}
	var err error
	s.health, err = health.New(health.Config{Name: name, Probe: s.Ping, Logger: log})
	if err != nil {
		return nil, err
	}
	gcfg := &gorm.Config{
		Logger:                 gormLogger(cfg.Logger, s.health, cfg.isPostgres()),
		SkipDefaultTransaction: true,
		DisableAutomaticPing:   true, // Open pings with its context instead
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	if cfg.isPostgres() {
		s.dialect = DialectPostgres
		s.db, err = openPostgres(cfg, gcfg)
		if err != nil {
			return nil, fmt.Errorf("open %s store: %w", s.dialect, err)
		}
	} else {
		s.dialect = DialectSQLite
		if s.db, err = openSQLite(ctx, cfg, gcfg); err != nil {
			return nil, err
		}
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx, cfg.migrateTo); err != nil {
		s.Close()
		return nil, err
	}
	if s.pg() && cfg.writeBatch() > 1 {
		sqlDB, err := s.db.DB()
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s store: %w", s.dialect, err)
		}
		s.batch = newGroupCommit("write", sqlDB, log, cfg.writeBatch(), cfg.flushers())
		s.reads = newGroupCommit("read", sqlDB, log, cfg.writeBatch(), 1)
	}
	return s, nil
}

// gormLogger keeps SQL parameters (personal data) out of the logs and, on
// PostgreSQL (pg), the failures of an outage that dep logs once.
func gormLogger(l *slog.Logger, dep *health.Dependency, pg bool) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	q := quietLogger{l: l, slow: 500 * time.Millisecond}
	if pg {
		q.dep = dep
	}
	return q
}

// quietLogger logs failed and slow statements as SQL text without values.
// Unlike gorm's slog logger it renders nothing for the statements it does not
// log, which keeps the hot path free of SQL formatting. A statement that
// failed without an answer from PostgreSQL while the database does not
// answer its probe is part of an outage, which dep logs once: it is logged
// at debug level only, as is a statement its caller cancelled.
type quietLogger struct {
	l    *slog.Logger
	slow time.Duration
	dep  *health.Dependency // nil: every failure is logged
}

// LogMode implements logger.Interface; the level is fixed at warnings.
func (q quietLogger) LogMode(logger.LogLevel) logger.Interface { return q }

// Info implements logger.Interface; gorm's informational messages are dropped.
func (q quietLogger) Info(context.Context, string, ...any) {}

// Warn implements logger.Interface (the message only: arguments may hold data).
func (q quietLogger) Warn(ctx context.Context, msg string, _ ...any) {
	q.l.WarnContext(ctx, "gorm: "+msg)
}

// Error implements logger.Interface (the message only: arguments may hold data).
func (q quietLogger) Error(ctx context.Context, msg string, _ ...any) {
	q.l.ErrorContext(ctx, "gorm: "+msg)
}

// Trace implements logger.Interface: failed or slow statements only.
func (q quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	failed := err != nil && !errors.Is(err, gorm.ErrRecordNotFound)
	if !failed && elapsed < q.slow {
		return
	}
	sql, rows := fc()
	if failed {
		level := slog.LevelError
		if cancelled(ctx, err) || q.inOutage(err) {
			level = slog.LevelDebug
		}
		q.l.Log(ctx, level, "SQL failed", "sql", sql, "duration", elapsed, "err", err)
		return
	}
	q.l.WarnContext(ctx, "slow SQL", "sql", sql, "duration", elapsed, "rows", rows)
}

// cancelled reports whether a statement failed because its caller gave up:
// its context was cancelled (a process shutting down stops its workers
// mid-query, a browser leaves a page). That is no failure of the database,
// and the caller knows it stopped; logged at debug level only.
func cancelled(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled)
}

// inOutage reports whether a failed statement's error is the database not
// answering (no answer from the server, and the probe fails too).
func (q quietLogger) inOutage(err error) bool {
	var pgErr *pgconn.PgError
	if q.dep == nil || errors.As(err, &pgErr) {
		return false // the server answered: the statement's own error
	}
	return q.dep.Check(context.Background()) != nil
}

// ParamsFilter implements gorm's logger.ParamsFilter: statements are rendered
// without their parameter values.
func (q quietLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func openPostgres(cfg Config, gcfg *gorm.Config) (*gorm.DB, error) {
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("parse PostgreSQL URL: malformed")
	}
	if cfg.Schema != "" {
		// The schema may not exist yet: search_path tolerates that, and
		// migrate creates it before anything else runs.
		pcfg.RuntimeParams["search_path"] = quoteIdent(cfg.Schema)
	}
	sqlDB := stdlib.OpenDB(*pcfg)
	n := cfg.poolSize()
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	db, err := gorm.Open(pgdriver.New(pgdriver.Config{Conn: sqlDB}), gcfg)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// openSQLite opens and pings the SQLite file; an error names the file and,
// where its place is the cause, what is wrong with it (explainSQLiteOpen).
func openSQLite(ctx context.Context, cfg Config, gcfg *gorm.Config) (*gorm.DB, error) {
	db, err := gorm.Open(sqlite.Open(sqliteDSN(cfg.URL)), gcfg)
	if err != nil {
		return nil, explainSQLiteOpen(cfg.URL, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, explainSQLiteOpen(cfg.URL, err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, explainSQLiteOpen(cfg.URL, err)
	}
	// One connection: SQLite has one writer anyway, and a single connection
	// also keeps ":memory:" databases whole.
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxIdleTime(0)
	sqlDB.SetConnMaxLifetime(0)
	return db, nil
}

// sqliteDSN turns Config.URL into a glebarez/go-sqlite DSN with WAL, a busy
// timeout, foreign keys and immediate write transactions.
func sqliteDSN(u string) string {
	const params = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	path, query := u, ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	switch {
	case strings.HasPrefix(path, "sqlite://"):
		path = strings.TrimPrefix(path, "sqlite://")
	case strings.HasPrefix(path, "sqlite:"):
		path = strings.TrimPrefix(path, "sqlite:")
	}
	if path == "" || path == "file:" {
		path = DefaultSQLitePath
	}
	if query != "" {
		return path + "?" + query + "&" + params
	}
	return path + "?" + params
}

// quoteIdent double-quotes an identifier already checked by schemaName.
func quoteIdent(s string) string { return `"` + s + `"` }

// lockKey is the advisory-lock key guarding migrations of one schema.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("chathub.migrations:" + schema))
	return int64(h.Sum64())
}

// Close finishes the writes in progress and releases the connection pool.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.close()
		s.reads.close()
	}
	s.health.Close()
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping %s: %w", s.dialect, err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.dialect, err)
	}
	return nil
}

// Health watches whether the database answers: a failure's caller checks
// it to tell an outage (logged once, waited out) from its own error.
func (s *Store) Health() *health.Dependency { return s.health }

// Dialect returns DialectPostgres or DialectSQLite.
func (s *Store) Dialect() string { return s.dialect }

func (s *Store) pg() bool { return s.dialect == DialectPostgres }
