package postgres

import "strings"

// Migration 8 ("bots") identifies a chat by its bot too: two bots of one
// platform see the same user ids, so a client is one row per platform, bot
// and platform user id. clients.bot and deliveries.bot default to ”, the
// bot configured by environment variables, so every existing row keeps its
// meaning. The claim index leads with (campaign, platform, bot) because a
// broadcast worker claims the rows of one bot's channel.
//
// PostgreSQL swaps the unique constraint in place. SQLite cannot drop a
// table's UNIQUE clause, so clients is rebuilt (the documented 12-step
// table change): created anew with the extra column and the new unique key,
// filled with every row (ids kept, and the AUTOINCREMENT sequence), the old
// table dropped and the new one renamed. The migration runs with foreign
// keys off (migration.SQLiteNoForeignKeys) so that dropping the old table
// does not cascade to the tags, answers and deliveries that reference it;
// the runner checks every reference before it commits.
var pgBots = []string{
	`ALTER TABLE clients ADD COLUMN bot TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE clients DROP CONSTRAINT clients_platform_user_key`,
	`ALTER TABLE clients ADD CONSTRAINT clients_platform_bot_user_key UNIQUE (platform, bot, platform_user_id)`,
	`ALTER TABLE deliveries ADD COLUMN bot TEXT NOT NULL DEFAULT ''`,
	`DROP INDEX deliveries_claim_idx`,
	`CREATE INDEX deliveries_claim_idx ON deliveries (campaign_id, platform, bot, next_attempt_at, client_id) WHERE status = 'queued'`,
}

// sqliteBotClientColumns is clients as migrations 1, 5 and 6 left it (in
// that column order, so the copy can select *) plus bot, unique on
// (platform, bot, platform_user_id).
var sqliteBotClientColumns = strings.Replace(sqliteClientColumns, "UNIQUE (platform, platform_user_id)",
	`last_broadcast_at TIMESTAMP,
	last_update_id TEXT NOT NULL DEFAULT '',
	bot TEXT NOT NULL DEFAULT '',
	UNIQUE (platform, bot, platform_user_id)`, 1)

var sqliteBots = []string{
	`CREATE TABLE clients_new (` + sqliteBotClientColumns + `)`,
	`INSERT INTO clients_new SELECT *, '' FROM clients`,
	`DELETE FROM sqlite_sequence WHERE name = 'clients_new'`,
	`INSERT INTO sqlite_sequence (name, seq) SELECT 'clients_new', seq FROM sqlite_sequence WHERE name = 'clients'`,
	`DROP TABLE clients`,
	`ALTER TABLE clients_new RENAME TO clients`,
	`CREATE INDEX clients_city_idx ON clients (city)`,
	`CREATE INDEX clients_age_idx ON clients (age)`,
	`CREATE INDEX clients_subscribed_idx ON clients (subscribed)`,
	`CREATE INDEX clients_last_seen_at_idx ON clients (last_seen_at)`,
	`ALTER TABLE deliveries ADD COLUMN bot TEXT NOT NULL DEFAULT ''`,
	`DROP INDEX deliveries_claim_idx`,
	`CREATE INDEX deliveries_claim_idx ON deliveries (campaign_id, platform, bot, next_attempt_at, client_id) WHERE status = 'queued'`,
}
