package postgres

// Migration 20 (handoffs_live) turns the hand-off requests into a live
// inbox (internal/handoff) and migration 21 (messages) adds the
// conversation record (the transcript).
//
// A request is live from its creation until it is closed: 'open' (waiting
// for a manager), 'assigned' (a manager took it), 'returning' (someone
// asked to give the chat back to the bot; a `chathub run` process carries
// it out) and 'closed'. At most one request of a client is live (the
// partial unique index): a second /manager while one is live adds nothing.
// Requests recorded before the inbox existed keep their status, but only
// the newest open one of each client stays open.
//
// The team-chat columns record the post announcing the request in the
// managers' Telegram chat (announced_at, with a claim so that one process
// announces it) and how far the client's messages were forwarded there
// (forwarded_id, the last transcript row forwarded). handoff_posts maps the
// team chat's posts back to their request, so a manager's reply to any of
// them answers that client.
var pgHandoffsLive = []string{
	`UPDATE handoffs SET status = 'closed' WHERE status = 'open' AND id NOT IN
		(SELECT max(id) FROM handoffs WHERE status = 'open' GROUP BY client_id)`,
	`ALTER TABLE handoffs
		ADD COLUMN manager TEXT NOT NULL DEFAULT '',
		ADD COLUMN question TEXT NOT NULL DEFAULT '',
		ADD COLUMN taken_at TIMESTAMPTZ,
		ADD COLUMN first_reply_at TIMESTAMPTZ,
		ADD COLUMN waiting_since TIMESTAMPTZ,
		ADD COLUMN last_activity_at TIMESTAMPTZ,
		ADD COLUMN closed_at TIMESTAMPTZ,
		ADD COLUMN close_reason TEXT NOT NULL DEFAULT '',
		ADD COLUMN closed_by TEXT NOT NULL DEFAULT '',
		ADD COLUMN return_scenario TEXT NOT NULL DEFAULT '',
		ADD COLUMN claim_until TIMESTAMPTZ,
		ADD COLUMN announced_at TIMESTAMPTZ,
		ADD COLUMN announce_claim_until TIMESTAMPTZ,
		ADD COLUMN forwarded_id BIGINT NOT NULL DEFAULT 0`,
	`UPDATE handoffs SET waiting_since = created_at, last_activity_at = created_at WHERE status = 'open'`,
	`CREATE UNIQUE INDEX handoffs_live_idx ON handoffs (client_id) WHERE status <> 'closed'`,
	`CREATE INDEX handoffs_manager_idx ON handoffs (manager, status) WHERE status <> 'closed'`,
	`CREATE INDEX handoffs_first_reply_idx ON handoffs (first_reply_at) WHERE first_reply_at IS NOT NULL`,
	`CREATE TABLE handoff_posts (
		chat TEXT NOT NULL,
		message_id TEXT NOT NULL,
		handoff_id BIGINT NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		PRIMARY KEY (chat, message_id))`,
	`CREATE INDEX handoff_posts_handoff_idx ON handoff_posts (handoff_id)`,
}

var sqliteHandoffsLive = []string{
	`UPDATE handoffs SET status = 'closed' WHERE status = 'open' AND id NOT IN
		(SELECT max(id) FROM handoffs WHERE status = 'open' GROUP BY client_id)`,
	`ALTER TABLE handoffs ADD COLUMN manager TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE handoffs ADD COLUMN question TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE handoffs ADD COLUMN taken_at TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN first_reply_at TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN waiting_since TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN last_activity_at TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN closed_at TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN close_reason TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE handoffs ADD COLUMN closed_by TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE handoffs ADD COLUMN return_scenario TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE handoffs ADD COLUMN claim_until TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN announced_at TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN announce_claim_until TIMESTAMP`,
	`ALTER TABLE handoffs ADD COLUMN forwarded_id INTEGER NOT NULL DEFAULT 0`,
	`UPDATE handoffs SET waiting_since = created_at, last_activity_at = created_at WHERE status = 'open'`,
	`CREATE UNIQUE INDEX handoffs_live_idx ON handoffs (client_id) WHERE status <> 'closed'`,
	`CREATE INDEX handoffs_manager_idx ON handoffs (manager, status) WHERE status <> 'closed'`,
	`CREATE INDEX handoffs_first_reply_idx ON handoffs (first_reply_at) WHERE first_reply_at IS NOT NULL`,
	`CREATE TABLE handoff_posts (
		chat TEXT NOT NULL,
		message_id TEXT NOT NULL,
		handoff_id INTEGER NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
		PRIMARY KEY (chat, message_id))`,
	`CREATE INDEX handoff_posts_handoff_idx ON handoff_posts (handoff_id)`,
}

// pgMessages is the transcript: every message in and out of a client's
// chat (crm.Message), newest read first by (client_id, id). A manager's
// reply is a row too, written 'queued' before it is sent, so that exactly
// one process sends it (claim_until) and a failure is kept with its reason
// (status 'failed', error). created_at is indexed for the retention purge
// (TRANSCRIPT_RETENTION).
var pgMessages = []string{
	`CREATE TABLE messages (
		id BIGSERIAL PRIMARY KEY,
		client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		direction TEXT NOT NULL,
		author_kind TEXT NOT NULL,
		author TEXT NOT NULL DEFAULT '',
		text TEXT NOT NULL DEFAULT '',
		button TEXT NOT NULL DEFAULT '',
		media TEXT NOT NULL DEFAULT '',
		platform_msg_id TEXT NOT NULL DEFAULT '',
		handoff_id BIGINT,
		status TEXT NOT NULL DEFAULT '',
		error TEXT NOT NULL DEFAULT '',
		claim_until TIMESTAMPTZ,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	`CREATE INDEX messages_client_idx ON messages (client_id, id)`,
	`CREATE INDEX messages_created_idx ON messages (created_at)`,
	`CREATE INDEX messages_pending_idx ON messages (id) WHERE status IN ('queued', 'sending')`,
}

var sqliteMessages = []string{
	`CREATE TABLE messages (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
		direction TEXT NOT NULL,
		author_kind TEXT NOT NULL,
		author TEXT NOT NULL DEFAULT '',
		text TEXT NOT NULL DEFAULT '',
		button TEXT NOT NULL DEFAULT '',
		media TEXT NOT NULL DEFAULT '',
		platform_msg_id TEXT NOT NULL DEFAULT '',
		handoff_id INTEGER,
		status TEXT NOT NULL DEFAULT '',
		error TEXT NOT NULL DEFAULT '',
		claim_until TIMESTAMP,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE INDEX messages_client_idx ON messages (client_id, id)`,
	`CREATE INDEX messages_created_idx ON messages (created_at)`,
	`CREATE INDEX messages_pending_idx ON messages (id) WHERE status IN ('queued', 'sending')`,
}

// Migration 23 (handoff_return_attempts) bounds the return of a chat to
// the bot: return_attempts counts its failed tries (a try that may pass is
// tried again, the next try's time kept in claim_until, until
// handoff.MaxReturnAttempts) and return_error keeps the last one's reason,
// also on a request closed with close_reason 'return_failed' when the
// return was given up.
var pgHandoffReturnAttempts = []string{
	`ALTER TABLE handoffs
		ADD COLUMN return_attempts INTEGER NOT NULL DEFAULT 0,
		ADD COLUMN return_error TEXT NOT NULL DEFAULT ''`,
}

var sqliteHandoffReturnAttempts = []string{
	`ALTER TABLE handoffs ADD COLUMN return_attempts INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE handoffs ADD COLUMN return_error TEXT NOT NULL DEFAULT ''`,
}

// Migration 24 (handoff_team_chats) keeps the team-chat state per team
// chat, so that one request is announced in a Telegram and a VK managers'
// chat alike: a row per request and chat (its store key, see
// handoff.StoreKey) with its announcing claim (claim_until), when the post
// went out (announced_at) and how far the client's messages were forwarded
// there (forwarded_id). The request's own announced_at stays its first
// announcement anywhere; its announce_claim_until and forwarded_id columns
// are no longer read. The requests announced before carry their state over
// to the chat their posts are in.
var pgHandoffTeamChats = []string{
	`CREATE TABLE handoff_team_chats (
		handoff_id BIGINT NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
		chat TEXT NOT NULL,
		claim_until TIMESTAMPTZ,
		announced_at TIMESTAMPTZ,
		forwarded_id BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (handoff_id, chat))`,
	teamChatsCarryOver,
}

var sqliteHandoffTeamChats = []string{
	`CREATE TABLE handoff_team_chats (
		handoff_id INTEGER NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
		chat TEXT NOT NULL,
		claim_until TIMESTAMP,
		announced_at TIMESTAMP,
		forwarded_id INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (handoff_id, chat))`,
	teamChatsCarryOver,
}

// teamChatsCarryOver moves the state of the requests announced before
// migration 24 (one team chat then) to the chat of their posts.
const teamChatsCarryOver = `INSERT INTO handoff_team_chats (handoff_id, chat, announced_at, forwarded_id)
	SELECT h.id, p.chat, h.announced_at, h.forwarded_id FROM handoffs AS h
	JOIN (SELECT handoff_id, MIN(chat) AS chat FROM handoff_posts GROUP BY handoff_id) AS p ON p.handoff_id = h.id
	WHERE h.announced_at IS NOT NULL`
