package postgres

// pgBroadcasts and sqliteBroadcasts hold the broadcaster's tables
// (internal/broadcast): campaigns, and the delivery ledger with one row per
// campaign × client. clients.last_broadcast_at feeds the frequency cap.
//
// A delivery row is claimed by setting claimed_by / claimed_at; a claim older
// than the broadcaster's lease belongs to a dead process and may be taken
// again. deliveries_claim_idx serves the claim query (queued rows of a
// campaign, due first); deliveries_status_idx the statistics.
var pgBroadcasts = []string{
	`ALTER TABLE clients ADD COLUMN last_broadcast_at TIMESTAMPTZ`,
	`CREATE TABLE campaigns (
		id BIGSERIAL PRIMARY KEY,
		name TEXT NOT NULL,
		segment TEXT NOT NULL,
		text TEXT NOT NULL,
		buttons JSONB NOT NULL DEFAULT '[]',
		image_url TEXT NOT NULL DEFAULT '',
		platforms JSONB NOT NULL DEFAULT '[]',
		start_at TIMESTAMPTZ,
		state TEXT NOT NULL,
		ignore_frequency_cap BOOLEAN NOT NULL DEFAULT FALSE,
		ignore_quiet_hours BOOLEAN NOT NULL DEFAULT FALSE,
		segment_at TIMESTAMPTZ,
		fill_cursor BIGINT NOT NULL DEFAULT 0,
		filled BOOLEAN NOT NULL DEFAULT FALSE,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		started_at TIMESTAMPTZ,
		finished_at TIMESTAMPTZ)`,
	`CREATE INDEX campaigns_state_idx ON campaigns (state, start_at)`,
	`CREATE TABLE deliveries (
		campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		platform TEXT NOT NULL,
		platform_user_id TEXT NOT NULL,
		status TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		attempts INTEGER NOT NULL DEFAULT 0,
		platform_message_id TEXT NOT NULL DEFAULT '',
		next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		claimed_by TEXT,
		claimed_at TIMESTAMPTZ,
		sent_at TIMESTAMPTZ,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		PRIMARY KEY (campaign_id, client_id))`,
	`CREATE INDEX deliveries_claim_idx ON deliveries (campaign_id, platform, next_attempt_at) WHERE status = 'queued'`,
	`CREATE INDEX deliveries_status_idx ON deliveries (campaign_id, status, reason)`,
	`CREATE INDEX deliveries_sent_idx ON deliveries (campaign_id, sent_at) WHERE sent_at IS NOT NULL`,
}

var sqliteBroadcasts = []string{
	`ALTER TABLE clients ADD COLUMN last_broadcast_at TIMESTAMP`,
	`CREATE TABLE campaigns (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL,
		segment TEXT NOT NULL,
		text TEXT NOT NULL,
		buttons TEXT NOT NULL DEFAULT '[]',
		image_url TEXT NOT NULL DEFAULT '',
		platforms TEXT NOT NULL DEFAULT '[]',
		start_at TIMESTAMP,
		state TEXT NOT NULL,
		ignore_frequency_cap BOOLEAN NOT NULL DEFAULT 0,
		ignore_quiet_hours BOOLEAN NOT NULL DEFAULT 0,
		segment_at TIMESTAMP,
		fill_cursor INTEGER NOT NULL DEFAULT 0,
		filled BOOLEAN NOT NULL DEFAULT 0,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		started_at TIMESTAMP,
		finished_at TIMESTAMP)`,
	`CREATE INDEX campaigns_state_idx ON campaigns (state, start_at)`,
	`CREATE TABLE deliveries (
		campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		platform TEXT NOT NULL,
		platform_user_id TEXT NOT NULL,
		status TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		attempts INTEGER NOT NULL DEFAULT 0,
		platform_message_id TEXT NOT NULL DEFAULT '',
		next_attempt_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		claimed_by TEXT,
		claimed_at TIMESTAMP,
		sent_at TIMESTAMP,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		PRIMARY KEY (campaign_id, client_id))`,
	`CREATE INDEX deliveries_claim_idx ON deliveries (campaign_id, platform, next_attempt_at) WHERE status = 'queued'`,
	`CREATE INDEX deliveries_status_idx ON deliveries (campaign_id, status, reason)`,
	`CREATE INDEX deliveries_sent_idx ON deliveries (campaign_id, sent_at) WHERE sent_at IS NOT NULL`,
}
