package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema change. Versions only grow; an applied
// migration is never edited, a new one is appended instead.
type migration struct {
	Version  int
	Name     string
	Postgres []string
	SQLite   []string
	// SQLiteNoForeignKeys runs the SQLite statements with foreign keys off
	// (a table rebuild: dropping the old table must not cascade) and checks
	// every reference before the transaction commits.
	SQLiteNoForeignKeys bool
}

// migrations is the ordered schema history.
var migrations = []migration{
	{Version: 1, Name: "crm", Postgres: pgCRM, SQLite: sqliteCRM},
	{Version: 2, Name: "scenario_versions", Postgres: pgVersions, SQLite: sqliteVersions},
	{Version: 3, Name: "segments", Postgres: pgSegments, SQLite: sqliteSegments},
	{Version: 4, Name: "completions", Postgres: pgCompletions, SQLite: sqliteCompletions},
	{Version: 5, Name: "broadcasts", Postgres: pgBroadcasts, SQLite: sqliteBroadcasts},
	{Version: 6, Name: "client_last_update", Postgres: pgLastUpdate, SQLite: sqliteLastUpdate},
	{Version: 7, Name: "deliveries_claim_order", Postgres: claimOrderIndex, SQLite: claimOrderIndex},
	{Version: 8, Name: "bots", Postgres: pgBots, SQLite: sqliteBots, SQLiteNoForeignKeys: true},
	{Version: 9, Name: "clients_fillfactor", Postgres: pgClientsFillfactor},
	{Version: 10, Name: "broadcast_channels", Postgres: pgBroadcastChannels, SQLite: sqliteBroadcastChannels},
	{Version: 11, Name: "accounts", Postgres: accountsSchema("BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ"),
		SQLite: accountsSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP")},
	{Version: 12, Name: "client_search", Postgres: pgClientSearch},
	{Version: 13, Name: "deliveries_client", Postgres: clientDeliveriesIndex, SQLite: clientDeliveriesIndex},
	{Version: 14, Name: "client_overview", Postgres: pgClientOverview, SQLite: sqliteClientOverview},
	{Version: 15, Name: "deliveries_failures", Postgres: deliveryFailuresIndex, SQLite: deliveryFailuresIndex},
	{Version: 19, Name: "clients_city_age", Postgres: pgClientsCityAge},
	{Version: 20, Name: "handoffs_live", Postgres: pgHandoffsLive, SQLite: sqliteHandoffsLive},
	{Version: 21, Name: "messages", Postgres: pgMessages, SQLite: sqliteMessages},
	{Version: 22, Name: "account_links", Postgres: linksSchema("BIGINT", "TIMESTAMPTZ"), SQLite: linksSchema("INTEGER", "TIMESTAMP")},
	{Version: 23, Name: "handoff_return_attempts", Postgres: pgHandoffReturnAttempts, SQLite: sqliteHandoffReturnAttempts},
	{Version: 24, Name: "handoff_team_chats", Postgres: pgHandoffTeamChats, SQLite: sqliteHandoffTeamChats},
	{Version: 25, Name: "reminders", Postgres: remindersSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ"),
		SQLite: remindersSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP")},
	{Version: 26, Name: "step_visits", Postgres: stepVisitsSchema("BIGSERIAL PRIMARY KEY", "BIGINT", "TIMESTAMPTZ", true),
		SQLite: stepVisitsSchema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "TIMESTAMP", false)},
	{Version: 27, Name: "overview_charts", Postgres: pgOverviewCharts, SQLite: sqliteOverviewCharts},
	{Version: 28, Name: "funnel_rollup", Postgres: pgFunnelRollup},
	{Version: 29, Name: "step_visits_fillfactor", Postgres: pgStepVisitsFillfactor},
	{Version: 30, Name: "reminders_run", Postgres: remindersRun, SQLite: remindersRun},
}

// pgClientsCityAge replaces the index on city with one on (city, age)
// that also carries subscribed, so that counting a segment of a city ("city
// == "Москва" and age >= 25 and subscribed") reads that city's index
// entries alone (an index-only scan) instead of every heap page one of its
// clients is on (with clients of all cities interleaved, that is the whole
// table: 15-19 ms on 100,000 clients against 4 ms). age and subscribed are
// indexed already, so no client update that was HOT stops being one.
// SQLite keeps its index on city.
var pgClientsCityAge = []string{
	`CREATE INDEX clients_city_age_idx ON clients (city, age) INCLUDE (subscribed)`,
	`DROP INDEX clients_city_idx`,
}

// pgClientOverview and sqliteClientOverview index what Обзор counts
// (ClientOverview), so that no count reads the clients table itself: when
// clients came (with the platform: the new clients of the week and per day
// of the last 30 read that range only), every client by platform and
// subscription (an index-only scan of two narrow columns instead of the
// wide rows), and the few clients who blocked the bot (a partial index).
var pgClientOverview = []string{
	`CREATE INDEX clients_created_at_idx ON clients (created_at) INCLUDE (platform)`,
	`CREATE INDEX clients_platform_subscribed_idx ON clients (platform, subscribed)`,
	`CREATE INDEX clients_blocked_idx ON clients (platform) WHERE blocked_at IS NOT NULL`,
}

var sqliteClientOverview = []string{
	`CREATE INDEX clients_created_at_idx ON clients (created_at, platform)`,
	`CREATE INDEX clients_platform_subscribed_idx ON clients (platform, subscribed)`,
	`CREATE INDEX clients_blocked_idx ON clients (platform) WHERE blocked_at IS NOT NULL`,
}

// pgClientSearch indexes what a client search (ListOptions.Search) matches:
// a name or username by its beginning, in any case (lower(col) LIKE
// 'word%': text_pattern_ops serves LIKE prefixes whatever the collation,
// and equality for @username), and a phone exactly. A search that matches
// few clients then reads those rows instead of the whole table. SQLite, the
// embedded default for trying chathub, keeps scanning: its LIKE folds ASCII
// only, and the search tries several spellings instead.
var pgClientSearch = []string{
	`CREATE INDEX clients_first_name_prefix_idx ON clients (lower(first_name) text_pattern_ops)`,
	`CREATE INDEX clients_last_name_prefix_idx ON clients (lower(last_name) text_pattern_ops)`,
	`CREATE INDEX clients_username_prefix_idx ON clients (lower(username) text_pattern_ops)`,
	`CREATE INDEX clients_phone_idx ON clients (phone)`,
}

// pgClientsFillfactor leaves a fifth of each new clients page free, so a
// client's update fits beside the old row version and PostgreSQL can make
// it a HOT update (no index entries) even when the page filled up with new
// clients first; together with the coarse last_seen_at (lastSeenPrecision)
// most dialog writes are then HOT. Pages written before keep their layout.
// SQLite has no such setting: nothing to do there.
var pgClientsFillfactor = []string{
	`ALTER TABLE clients SET (fillfactor = 80)`,
}

// pgClientColumns and sqliteClientColumns list the client portrait columns
// (DOMAIN.md). Text columns are NOT NULL with an empty default, so "unknown" has one
// spelling; numbers, dates and timestamps are NULL when unknown.
const pgClientColumns = `
	id BIGSERIAL PRIMARY KEY,
	platform TEXT NOT NULL,
	platform_user_id TEXT NOT NULL,
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	phone TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	gender TEXT NOT NULL DEFAULT '',
	birth_date DATE,
	age INTEGER,
	city TEXT NOT NULL DEFAULT '',
	region TEXT NOT NULL DEFAULT '',
	family_status TEXT NOT NULL DEFAULT '',
	children_count INTEGER,
	income_level TEXT NOT NULL DEFAULT '',
	occupation TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT '',
	lifecycle_stage TEXT NOT NULL DEFAULT '',
	temperature TEXT NOT NULL DEFAULT '',
	assigned_manager TEXT NOT NULL DEFAULT '',
	timezone TEXT NOT NULL DEFAULT '',
	subscribed BOOLEAN NOT NULL DEFAULT FALSE,
	consent_at TIMESTAMPTZ,
	unsubscribed_at TIMESTAMPTZ,
	blocked_at TIMESTAMPTZ,
	handoff_requested_at TIMESTAMPTZ,
	attributes JSONB NOT NULL DEFAULT '{}',
	confirmed JSONB NOT NULL DEFAULT '{}',
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	CONSTRAINT clients_platform_user_key UNIQUE (platform, platform_user_id)`

var pgCRM = []string{
	`CREATE TABLE clients (` + pgClientColumns + `)`,
	`CREATE INDEX clients_city_idx ON clients (city)`,
	`CREATE INDEX clients_age_idx ON clients (age)`,
	`CREATE INDEX clients_subscribed_idx ON clients (subscribed)`,
	`CREATE INDEX clients_last_seen_at_idx ON clients (last_seen_at)`,
	`CREATE INDEX clients_attributes_gin ON clients USING GIN (attributes)`,
	`CREATE TABLE client_tags (
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		tag TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		PRIMARY KEY (client_id, tag))`,
	`CREATE INDEX client_tags_tag_idx ON client_tags (tag)`,
	`CREATE TABLE answers (
		id BIGSERIAL PRIMARY KEY,
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		scenario TEXT NOT NULL DEFAULT '',
		version TEXT NOT NULL DEFAULT '',
		step TEXT NOT NULL DEFAULT '',
		field TEXT NOT NULL DEFAULT '',
		value TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	`CREATE INDEX answers_client_created_idx ON answers (client_id, created_at)`,
	`CREATE INDEX answers_scenario_step_idx ON answers (scenario, step)`,
	`CREATE TABLE notes (
		id BIGSERIAL PRIMARY KEY,
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		author TEXT NOT NULL DEFAULT '',
		text TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	`CREATE INDEX notes_client_idx ON notes (client_id, created_at)`,
	`CREATE TABLE handoffs (
		id BIGSERIAL PRIMARY KEY,
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		scenario TEXT NOT NULL DEFAULT '',
		step TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL DEFAULT '',
		status TEXT NOT NULL DEFAULT 'open',
		created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	`CREATE INDEX handoffs_client_idx ON handoffs (client_id, created_at)`,
	`CREATE INDEX handoffs_status_idx ON handoffs (status, created_at)`,
}

// SQLite keeps timestamps as UTC text ("2006-01-02 15:04:05.999999999+00:00",
// lexically ordered), dates as "2006-01-02", booleans as 0/1, JSON as text.
const sqliteClientColumns = `
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	platform TEXT NOT NULL,
	platform_user_id TEXT NOT NULL,
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	phone TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	gender TEXT NOT NULL DEFAULT '',
	birth_date DATE,
	age INTEGER,
	city TEXT NOT NULL DEFAULT '',
	region TEXT NOT NULL DEFAULT '',
	family_status TEXT NOT NULL DEFAULT '',
	children_count INTEGER,
	income_level TEXT NOT NULL DEFAULT '',
	occupation TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT '',
	lifecycle_stage TEXT NOT NULL DEFAULT '',
	temperature TEXT NOT NULL DEFAULT '',
	assigned_manager TEXT NOT NULL DEFAULT '',
	timezone TEXT NOT NULL DEFAULT '',
	subscribed BOOLEAN NOT NULL DEFAULT 0,
	consent_at TIMESTAMP,
	unsubscribed_at TIMESTAMP,
	blocked_at TIMESTAMP,
	handoff_requested_at TIMESTAMP,
	attributes TEXT NOT NULL DEFAULT '{}',
	confirmed TEXT NOT NULL DEFAULT '{}',
	created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	last_seen_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	UNIQUE (platform, platform_user_id)`

var sqliteCRM = []string{
	`CREATE TABLE clients (` + sqliteClientColumns + `)`,
	`CREATE INDEX clients_city_idx ON clients (city)`,
	`CREATE INDEX clients_age_idx ON clients (age)`,
	`CREATE INDEX clients_subscribed_idx ON clients (subscribed)`,
	`CREATE INDEX clients_last_seen_at_idx ON clients (last_seen_at)`,
	`CREATE TABLE client_tags (
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		tag TEXT NOT NULL,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		PRIMARY KEY (client_id, tag))`,
	`CREATE INDEX client_tags_tag_idx ON client_tags (tag)`,
	`CREATE TABLE answers (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		scenario TEXT NOT NULL DEFAULT '',
		version TEXT NOT NULL DEFAULT '',
		step TEXT NOT NULL DEFAULT '',
		field TEXT NOT NULL DEFAULT '',
		value TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE INDEX answers_client_created_idx ON answers (client_id, created_at)`,
	`CREATE INDEX answers_scenario_step_idx ON answers (scenario, step)`,
	`CREATE TABLE notes (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		author TEXT NOT NULL DEFAULT '',
		text TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE INDEX notes_client_idx ON notes (client_id, created_at)`,
	`CREATE TABLE handoffs (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		scenario TEXT NOT NULL DEFAULT '',
		step TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL DEFAULT '',
		status TEXT NOT NULL DEFAULT 'open',
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE INDEX handoffs_client_idx ON handoffs (client_id, created_at)`,
	`CREATE INDEX handoffs_status_idx ON handoffs (status, created_at)`,
}

var pgVersions = []string{
	`CREATE TABLE scenario_versions (
		scenario_id TEXT NOT NULL,
		version TEXT NOT NULL,
		file TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		PRIMARY KEY (scenario_id, version))`,
}

var sqliteVersions = []string{
	`CREATE TABLE scenario_versions (
		scenario_id TEXT NOT NULL,
		version TEXT NOT NULL,
		file TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		PRIMARY KEY (scenario_id, version))`,
}

// pgSegments and sqliteSegments hold the saved segments: a unique name, the
// segment expression (internal/segment) and a description for managers.
var pgSegments = []string{
	`CREATE TABLE segments (
		id BIGSERIAL PRIMARY KEY,
		name TEXT NOT NULL,
		expression TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		CONSTRAINT segments_name_key UNIQUE (name))`,
}

var sqliteSegments = []string{
	`CREATE TABLE segments (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL,
		expression TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		UNIQUE (name))`,
}

// pgCompletions and sqliteCompletions record every conversation that reached
// an end step: which scenario (and version), which end step, and when. The
// segment functions completed(...) read it.
var pgCompletions = []string{
	`CREATE TABLE completions (
		id BIGSERIAL PRIMARY KEY,
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		scenario TEXT NOT NULL,
		version TEXT NOT NULL DEFAULT '',
		step TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	`CREATE INDEX completions_client_scenario_idx ON completions (client_id, scenario, created_at)`,
	`CREATE INDEX completions_scenario_idx ON completions (scenario, created_at)`,
}

var sqliteCompletions = []string{
	`CREATE TABLE completions (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		scenario TEXT NOT NULL,
		version TEXT NOT NULL DEFAULT '',
		step TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE INDEX completions_client_scenario_idx ON completions (client_id, scenario, created_at)`,
	`CREATE INDEX completions_scenario_idx ON completions (scenario, created_at)`,
}

// pgLastUpdate and sqliteLastUpdate add clients.last_update_id: the
// platform id of the update whose changes the client's latest CRM write
// recorded (empty after a write no update carried). ApplyChanges reads it to
// record an update's answers, note, hand-off and completion once when the
// update is retried or redelivered (see writeOnceFilter). A constant default
// adds the column without rewriting the table on PostgreSQL 11+.
var pgLastUpdate = []string{
	`ALTER TABLE clients ADD COLUMN last_update_id TEXT NOT NULL DEFAULT ''`,
}

var sqliteLastUpdate = []string{
	`ALTER TABLE clients ADD COLUMN last_update_id TEXT NOT NULL DEFAULT ''`,
}

// claimOrderIndex rebuilds deliveries_claim_idx in the claim's whole order
// (next_attempt_at, then client_id): with next_attempt_at alone, the rows of
// a fill, which share it, had to be read and sorted in full on every claim
// (17.8 ms for 30,000 rows, linear in the campaign); in the index's order a
// claim reads just the rows it takes (0.23 ms).
var claimOrderIndex = []string{
	`DROP INDEX deliveries_claim_idx`,
	`CREATE INDEX deliveries_claim_idx ON deliveries (campaign_id, platform, next_attempt_at, client_id) WHERE status = 'queued'`,
}

// statements returns m's SQL for the store's dialect.
func (s *Store) statements(m migration) []string {
	if s.pg() {
		return m.Postgres
	}
	return m.SQLite
}

// migrate brings the schema up to the newest migration. Each migration runs
// in its own transaction; on PostgreSQL every transaction first takes an
// advisory lock per schema, so processes starting together apply each
// migration exactly once. SQLite write transactions are exclusive already.
// A positive upTo stops after that version.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	if err := s.inMigrationTx(ctx, s.bootstrap); err != nil {
		return fmt.Errorf("migrate: bootstrap: %w", err)
	}
	for _, m := range migrations {
		if upTo > 0 && m.Version > upTo {
			break
		}
		applied := false
		err := s.withoutForeignKeys(ctx, !s.pg() && m.SQLiteNoForeignKeys, func() error {
			return s.inMigrationTx(ctx, func(tx *gorm.DB) error {
				var err error
				applied, err = s.apply(tx, m)
				if err == nil && applied && !s.pg() && m.SQLiteNoForeignKeys {
					err = checkForeignKeys(tx)
				}
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("migrate: version %d (%s): %w", m.Version, m.Name, err)
		}
		if applied {
			s.log.InfoContext(ctx, "applied migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// withoutForeignKeys runs fn with SQLite's foreign keys off when off is
// true. The pragma cannot change inside a transaction, so it is set on the
// store's one SQLite connection around fn's transaction.
func (s *Store) withoutForeignKeys(ctx context.Context, off bool, fn func() error) error {
	if !off {
		return fn()
	}
	db := s.db.WithContext(ctx)
	if err := db.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
		return fmt.Errorf("foreign keys off: %w", err)
	}
	err := fn()
	if onErr := db.Exec("PRAGMA foreign_keys = ON").Error; onErr != nil && err == nil {
		err = fmt.Errorf("foreign keys back on: %w", onErr)
	}
	return err
}

// checkForeignKeys fails when any row references a missing parent (SQLite,
// after a table rebuild with foreign keys off).
func checkForeignKeys(tx *gorm.DB) error {
	rows, err := tx.Raw("PRAGMA foreign_key_check").Rows()
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		return errors.New("foreign key check: a row references a missing parent after the rebuild")
	}
	return rows.Err()
}

// inMigrationTx runs fn in a transaction holding the migration lock.
func (s *Store) inMigrationTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.pg() {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lockKey(s.schema)).Error; err != nil {
				return fmt.Errorf("advisory lock: %w", err)
			}
		}
		return fn(tx)
	})
}

// bootstrap creates the schema (PostgreSQL, when configured) and the
// schema_migrations table.
func (s *Store) bootstrap(tx *gorm.DB) error {
	ts := "TIMESTAMP"
	if s.pg() {
		ts = "TIMESTAMPTZ"
		if s.schema != "" {
			if err := tx.Exec("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(s.schema)).Error; err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
	}
	err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		applied_at ` + ts + ` NOT NULL)`).Error
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}

// apply runs m unless it is recorded already; it reports whether it ran.
func (s *Store) apply(tx *gorm.DB, m migration) (bool, error) {
	var n int64
	if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("read applied versions: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	for i, stmt := range s.statements(m) {
		if err := tx.Exec(stmt).Error; err != nil {
			return false, fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	err := tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.Version, time.Now().UTC()).Error
	if err != nil {
		return false, fmt.Errorf("record version: %w", err)
	}
	return true, nil
}
