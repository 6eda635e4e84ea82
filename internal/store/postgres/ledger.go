package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// recipientColumns is what the ledger needs of a client, in the order
// scanRecipient reads it.
// Whether the client is in a hand-off is an index lookup on
// handoffs_live_idx per recipient.
const recipientColumns = "clients.id, clients.platform, clients.bot, clients.platform_user_id, clients.subscribed, " +
	"clients.blocked_at IS NOT NULL, clients.timezone, clients.last_broadcast_at, " +
	"EXISTS (SELECT 1 FROM handoffs AS lh WHERE lh.client_id = clients.id AND lh.status <> 'closed')"

func recipientTargets(r *broadcast.Recipient, platform *string) []any {
	return []any{&r.ClientID, platform, &r.Bot, &r.PlatformUserID, &r.Subscribed, &r.Blocked, &r.Timezone,
		timeScanner{p: &r.LastBroadcastAt}, &r.InHandoff}
}

// Recipients implements broadcast.Ledger: one keyset page of the clients
// seg selects (pin seg with At so every page agrees on relative times).
func (s *Store) Recipients(ctx context.Context, seg *segment.Segment, after int64, limit int) ([]broadcast.Recipient, error) {
	w, err := s.segmentWhere(seg)
	if err != nil {
		return nil, fmt.Errorf("recipients after %d: %w", after, err)
	}
	q := "SELECT " + recipientColumns + " FROM clients WHERE clients.id > ? AND " + w.SQL + " ORDER BY clients.id LIMIT ?"
	rows, err := s.db.WithContext(ctx).Raw(q, append(append([]any{after}, w.Args...), limit)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("recipients after %d: %w", after, err)
	}
	defer rows.Close()
	out := make([]broadcast.Recipient, 0, limit)
	for rows.Next() {
		var r broadcast.Recipient
		var platform string
		if err := rows.Scan(recipientTargets(&r, &platform)...); err != nil {
			return nil, fmt.Errorf("recipients after %d: %w", after, err)
		}
		r.Platform = messenger.Platform(platform)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recipients after %d: %w", after, err)
	}
	return out, nil
}

// entryWidth is the number of parameters of one inserted ledger row.
const entryWidth = 10

// maxEntriesPerInsert keeps one insert under PostgreSQL's 65,535 parameters.
const maxEntriesPerInsert = 6000

// AddEntries implements broadcast.Ledger: multi-row inserts that keep rows
// already there (ON CONFLICT DO NOTHING) and the new fill cursor, in one
// transaction, so a fill cut short resumes after the last page written.
func (s *Store) AddEntries(ctx context.Context, campaignID int64, rows []broadcast.Entry, cursor int64, filled bool) error {
	now := stampTime(time.Time{})
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for start := 0; start < len(rows); start += maxEntriesPerInsert {
			if err := insertEntries(tx, campaignID, rows[start:min(start+maxEntriesPerInsert, len(rows))], now); err != nil {
				return err
			}
		}
		greatest := "GREATEST"
		if !s.pg() {
			greatest = "MAX"
		}
		return tx.Exec("UPDATE campaigns SET fill_cursor = "+greatest+"(fill_cursor, ?), filled = (filled OR ?), "+
			"updated_at = ? WHERE id = ?", cursor, filled, now, campaignID).Error
	})
	if err != nil {
		return fmt.Errorf("add %d ledger rows to campaign %d: %w", len(rows), campaignID, err)
	}
	if filled && s.pg() {
		// A fill is a bulk insert the statistics have not seen yet; without
		// them the planner took the claim index for small and recorded every
		// outcome batch by scanning all queued rows (a hash join instead of
		// primary-key lookups: 115 ms instead of ~1 ms for 64 outcomes).
		if err := s.db.WithContext(ctx).Exec("ANALYZE deliveries").Error; err != nil {
			return fmt.Errorf("analyze the ledger of campaign %d: %w", campaignID, err)
		}
	}
	return nil
}

func insertEntries(tx *gorm.DB, campaignID int64, rows []broadcast.Entry, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	var b stmt // gorm's '?' placeholders
	b.Grow(200 + len(rows)*36)
	b.WriteString("INSERT INTO deliveries (campaign_id, client_id, platform, bot, platform_user_id, status, reason, " +
		"next_attempt_at, created_at, updated_at) VALUES ")
	writeValues(&b, len(rows), entryWidth)
	b.WriteString(" ON CONFLICT (campaign_id, client_id) DO NOTHING")
	args := make([]any, 0, len(rows)*entryWidth)
	for _, r := range rows {
		nb := now
		if !r.NotBefore.IsZero() {
			nb = stampTime(r.NotBefore)
		}
		args = append(args, campaignID, r.ClientID, string(r.Platform), r.Bot, r.PlatformUserID, r.Status, r.Reason, nb, now, now)
	}
	return tx.Exec(b.String(), args...).Error
}

// Claim implements broadcast.Ledger. On PostgreSQL one statement picks the
// due queued rows not claimed by a live process (FOR UPDATE SKIP LOCKED, so
// concurrent claimers in any process get disjoint rows), stamps them
// claimed_by / claimed_at and attempts + 1, and returns them joined with the
// client's current subscription, block, timezone and last broadcast. SQLite
// (one writer) does the same in one transaction.
func (s *Store) Claim(ctx context.Context, req broadcast.ClaimRequest) ([]broadcast.Claimed, error) {
	now := stampTime(req.Now)
	stale := now.Add(-req.Lease)
	var out []broadcast.Claimed
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if s.pg() {
			out, err = claimPostgres(tx, req, now, stale)
		} else {
			out, err = claimSQLite(tx, req, now, stale)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s deliveries of campaign %d: %w", req.Platform, req.CampaignID, err)
	}
	return out, nil
}

const claimPick = `SELECT d.campaign_id, d.client_id, d.claimed_at AS prev FROM deliveries d
	WHERE d.campaign_id = ? AND d.platform = ? AND d.bot = ? AND d.status = 'queued' AND d.next_attempt_at <= ?
	AND (d.claimed_at IS NULL OR d.claimed_at < ?)
	AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = d.campaign_id AND c.state = 'running')
	ORDER BY d.next_attempt_at, d.client_id LIMIT ?`

func claimPostgres(tx *gorm.DB, req broadcast.ClaimRequest, now, stale time.Time) ([]broadcast.Claimed, error) {
	q := `WITH picked AS (` + claimPick + ` FOR UPDATE OF d SKIP LOCKED),
	upd AS (UPDATE deliveries d SET claimed_by = ?, claimed_at = ?, attempts = d.attempts + 1, updated_at = ?
		FROM picked p WHERE d.campaign_id = p.campaign_id AND d.client_id = p.client_id
		RETURNING d.campaign_id, d.client_id, d.attempts, p.prev IS NOT NULL AS reclaimed)
	SELECT upd.campaign_id, upd.attempts, upd.reclaimed, ` + recipientColumns + `
	FROM upd JOIN clients ON clients.id = upd.client_id ORDER BY clients.id`
	rows, err := tx.Raw(q, req.CampaignID, string(req.Platform), req.Bot, now, stale, req.Limit, req.Worker, now, now).Rows()
	if err != nil {
		return nil, err
	}
	return scanClaimed(rows, req.Limit)
}

func claimSQLite(tx *gorm.DB, req broadcast.ClaimRequest, now, stale time.Time) ([]broadcast.Claimed, error) {
	rows, err := tx.Raw(claimPick, req.CampaignID, string(req.Platform), req.Bot, now, stale, req.Limit).Rows()
	if err != nil {
		return nil, err
	}
	var ids []any
	for rows.Next() {
		var cid, id int64
		var prev any
		if err := rows.Scan(&cid, &id, &prev); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	// The reclaimed flag is read before the update overwrites claimed_at.
	q := `SELECT d.campaign_id, d.attempts + 1, d.claimed_at IS NOT NULL, ` + recipientColumns + `
		FROM deliveries d JOIN clients ON clients.id = d.client_id
		WHERE d.campaign_id = ? AND d.client_id IN ` + inList(len(ids)) + ` ORDER BY clients.id`
	rows, err = tx.Raw(q, append([]any{req.CampaignID}, ids...)...).Rows()
	if err != nil {
		return nil, err
	}
	out, err := scanClaimed(rows, len(ids))
	if err != nil {
		return nil, err
	}
	err = tx.Exec("UPDATE deliveries SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1, updated_at = ? "+
		"WHERE campaign_id = ? AND client_id IN "+inList(len(ids)), append([]any{req.Worker, now, now, req.CampaignID}, ids...)...).Error
	return out, err
}

func scanClaimed(rows *sql.Rows, n int) ([]broadcast.Claimed, error) {
	defer rows.Close()
	out := make([]broadcast.Claimed, 0, n)
	for rows.Next() {
		var c broadcast.Claimed
		var platform string
		dest := append([]any{&c.CampaignID, &c.Attempts, &c.Reclaimed}, recipientTargets(&c.Recipient, &platform)...)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.Platform = messenger.Platform(platform)
		out = append(out, c)
	}
	return out, rows.Err()
}

// outcomeWidth is the number of parameters of one recorded outcome.
const outcomeWidth = 10

// Record implements broadcast.Ledger: the outcomes of claimed rows in one
// statement on PostgreSQL (a transaction on SQLite). Only rows still queued
// change, and only while the outcome's worker still holds the claim, except
// a send, which is recorded whoever holds the row: a worker that outlived its
// lease must not hand back or settle a row another worker is sending. Each
// row leaves its claim (an Unsent one takes its claim back
// from attempts); a sent row stamps the client's
// last_broadcast_at (the frequency cap) and writes the message into the
// client's transcript (AuthorBroadcast, Author the campaign id), a blocked
// row the client's blocked_at, which keeps them out of later campaigns.
func (s *Store) Record(ctx context.Context, outcomes []broadcast.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	var err error
	if s.pg() {
		err = s.recordPostgres(ctx, outcomes)
	} else {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return recordSQLite(tx, outcomes) })
	}
	if err != nil {
		return fmt.Errorf("record %d delivery outcomes: %w", len(outcomes), err)
	}
	return nil
}

func outcomeArgs(o broadcast.Outcome) []any {
	var nb any
	if !o.NotBefore.IsZero() {
		nb = stampTime(o.NotBefore)
	}
	unsent := 0 // the claim to take back from attempts
	if o.Unsent {
		unsent = 1
	}
	return []any{o.CampaignID, o.ClientID, o.Status, o.Reason, o.MessageID, nb, stampTime(o.At), unsent, o.Worker,
		crm.CutMessageText(o.Text)}
}

func (s *Store) recordPostgres(ctx context.Context, outcomes []broadcast.Outcome) error {
	var b stmt // gorm's '?' placeholders
	b.WriteString("WITH v (campaign_id, client_id, status, reason, mid, nb, at, unsent, worker, text) AS (VALUES " +
		"(?::bigint, ?::bigint, ?::text, ?::text, ?::text, ?::timestamptz, ?::timestamptz, ?::int, ?::text, ?::text)")
	if len(outcomes) > 1 {
		b.WriteString(", ")
		writeValues(&b, len(outcomes)-1, outcomeWidth)
	}
	b.WriteString(`), upd AS (UPDATE deliveries d SET status = v.status, reason = v.reason,
		platform_message_id = CASE WHEN v.mid = '' THEN d.platform_message_id ELSE v.mid END,
		next_attempt_at = COALESCE(v.nb, d.next_attempt_at),
		sent_at = CASE WHEN v.status = 'sent' THEN v.at ELSE d.sent_at END,
		attempts = GREATEST(d.attempts - v.unsent, 0),
		claimed_by = NULL, claimed_at = NULL, updated_at = v.at
		FROM v WHERE d.campaign_id = v.campaign_id AND d.client_id = v.client_id AND d.status = 'queued'
		AND (v.status = 'sent' OR d.claimed_by = v.worker)
		RETURNING d.client_id, d.campaign_id, v.status, v.at, v.mid, v.text),
	tr AS (INSERT INTO messages (client_id, direction, author_kind, author, text, platform_msg_id, handoff_id, created_at)
		SELECT upd.client_id, '` + crm.DirectionOut + `', '` + crm.AuthorBroadcast + `', upd.campaign_id::text, upd.text, upd.mid,
		(SELECT lh.id FROM handoffs AS lh WHERE lh.client_id = upd.client_id AND lh.status <> 'closed'), upd.at
		FROM upd WHERE upd.status = 'sent'),
	cl AS (UPDATE clients c SET
		last_broadcast_at = CASE WHEN upd.status = 'sent' THEN upd.at ELSE c.last_broadcast_at END,
		blocked_at = CASE WHEN upd.status = 'blocked' THEN COALESCE(c.blocked_at, upd.at) ELSE c.blocked_at END
		FROM upd WHERE c.id = upd.client_id AND upd.status IN ('sent', 'blocked') RETURNING 1)
	SELECT (SELECT COUNT(*) FROM upd), (SELECT COUNT(*) FROM cl)`)
	args := make([]any, 0, len(outcomes)*outcomeWidth)
	for _, o := range outcomes {
		args = append(args, outcomeArgs(o)...)
	}
	var n, m int64
	_, err := queryOne(s.db.WithContext(ctx), b.String(), args, &n, &m)
	return err
}

func recordSQLite(tx *gorm.DB, outcomes []broadcast.Outcome) error {
	for _, o := range outcomes {
		a := outcomeArgs(o)
		res := tx.Exec(`UPDATE deliveries SET status = ?, reason = ?,
			platform_message_id = CASE WHEN ? = '' THEN platform_message_id ELSE ? END,
			next_attempt_at = COALESCE(?, next_attempt_at),
			sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
			attempts = MAX(attempts - ?, 0),
			claimed_by = NULL, claimed_at = NULL, updated_at = ?
			WHERE campaign_id = ? AND client_id = ? AND status = 'queued' AND (? = 'sent' OR claimed_by = ?)`,
			a[2], a[3], a[4], a[4], a[5], a[2], a[6], a[7], a[6], a[0], a[1], a[2], a[8])
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		switch o.Status {
		case broadcast.StatusSent:
			if err := tx.Exec("UPDATE clients SET last_broadcast_at = ? WHERE id = ?", a[6], o.ClientID).Error; err != nil {
				return err
			}
			if err := tx.Exec("INSERT INTO messages (client_id, direction, author_kind, author, text, platform_msg_id, "+
				"handoff_id, created_at) VALUES (?, ?, ?, ?, ?, ?, "+sqliteLiveHandoff+", ?)", o.ClientID, crm.DirectionOut,
				crm.AuthorBroadcast, strconv.FormatInt(o.CampaignID, 10), a[9], a[4], o.ClientID, a[6]).Error; err != nil {
				return err
			}
		case broadcast.StatusBlocked:
			if err := tx.Exec("UPDATE clients SET blocked_at = COALESCE(blocked_at, ?) WHERE id = ?", a[6], o.ClientID).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// ClientsByID implements broadcast.ClientLoader: the cards of ids, with tags.
func (s *Store) ClientsByID(ctx context.Context, ids []int64) (map[int64]*crm.Client, error) {
	out := make(map[int64]*crm.Client, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := "SELECT " + clientColumns + ", " + s.tagsExpr("clients.id") + " FROM clients WHERE id IN " + inList(len(ids))
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("load %d clients: %w", len(ids), err)
	}
	clients, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("load %d clients: %w", len(ids), err)
	}
	for i := range clients {
		out[clients[i].ID] = &clients[i]
	}
	return out, nil
}
