package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// pgBroadcastChannels and sqliteBroadcastChannels hold the registry of the bots each chathub run process
// broadcasts through (broadcast.ChannelRegistry): a process stamps seen_at
// of its channels while it runs, and rows of a channel nobody stamped
// recently are skipped as no_channel.
var pgBroadcastChannels = []string{
	`CREATE TABLE broadcast_channels (
		platform TEXT NOT NULL,
		bot TEXT NOT NULL,
		process TEXT NOT NULL,
		seen_at TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (platform, bot, process))`,
}

var sqliteBroadcastChannels = []string{
	`CREATE TABLE broadcast_channels (
		platform TEXT NOT NULL,
		bot TEXT NOT NULL,
		process TEXT NOT NULL,
		seen_at TIMESTAMP NOT NULL,
		PRIMARY KEY (platform, bot, process))`,
}

// staleChannels is how long a process's registration is kept after its
// last stamp (long after any channel TTL): older rows are removed when a
// process registers.
const staleChannels = 7 * 24 * time.Hour

// RegisterChannels implements broadcast.ChannelRegistry.
func (s *Store) RegisterChannels(ctx context.Context, process string, chs []broadcast.ChannelKey, now time.Time) error {
	if len(chs) == 0 {
		return nil
	}
	now = stampTime(now)
	var b stmt // gorm's '?' placeholders
	b.WriteString("INSERT INTO broadcast_channels (platform, bot, process, seen_at) VALUES ")
	writeValues(&b, len(chs), 4)
	b.WriteString(" ON CONFLICT (platform, bot, process) DO UPDATE SET seen_at = EXCLUDED.seen_at")
	args := make([]any, 0, len(chs)*4)
	for _, ch := range chs {
		args = append(args, string(ch.Platform), ch.Bot, process, now)
	}
	db := s.db.WithContext(ctx)
	if err := db.Exec(b.String(), args...).Error; err != nil {
		return fmt.Errorf("register %d broadcast channels: %w", len(chs), err)
	}
	if err := db.Exec("DELETE FROM broadcast_channels WHERE seen_at < ?", now.Add(-staleChannels)).Error; err != nil {
		return fmt.Errorf("forget stale broadcast channels: %w", err)
	}
	return nil
}

// LiveChannels implements broadcast.ChannelRegistry.
func (s *Store) LiveChannels(ctx context.Context, since time.Time) ([]broadcast.ChannelKey, error) {
	return s.channels(ctx, "SELECT DISTINCT platform, bot FROM broadcast_channels WHERE seen_at >= ? ORDER BY platform, bot",
		stampTime(since))
}

// QueuedChannels implements broadcast.LedgerAdmin. On PostgreSQL it walks
// the claim index (campaign, platform, bot, …) one distinct channel at a
// time, so it costs a few index probes however many rows are queued.
func (s *Store) QueuedChannels(ctx context.Context, campaignID int64) ([]broadcast.ChannelKey, error) {
	q := "SELECT DISTINCT platform, bot FROM deliveries WHERE campaign_id = ? AND status = 'queued' ORDER BY platform, bot"
	args := []any{campaignID}
	if s.pg() {
		q = `WITH RECURSIVE ch AS (
			(SELECT platform, bot FROM deliveries WHERE campaign_id = ? AND status = 'queued' ORDER BY platform, bot LIMIT 1)
			UNION ALL
			SELECT n.platform, n.bot FROM ch, LATERAL (SELECT d.platform, d.bot FROM deliveries d
				WHERE d.campaign_id = ? AND d.status = 'queued' AND (d.platform, d.bot) > (ch.platform, ch.bot)
				ORDER BY d.platform, d.bot LIMIT 1) n)
		SELECT platform, bot FROM ch`
		args = append(args, campaignID)
	}
	out, err := s.channels(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("queued channels of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

func (s *Store) channels(ctx context.Context, q string, args ...any) ([]broadcast.ChannelKey, error) {
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []broadcast.ChannelKey
	for rows.Next() {
		var platform, bot string
		if err := rows.Scan(&platform, &bot); err != nil {
			return nil, err
		}
		out = append(out, broadcast.ChannelKey{Platform: messenger.Platform(platform), Bot: bot})
	}
	return out, rows.Err()
}

// SkipQueuedChannel implements broadcast.LedgerAdmin.
func (s *Store) SkipQueuedChannel(ctx context.Context, campaignID int64, ch broadcast.ChannelKey, reason string) (int, error) {
	res := s.db.WithContext(ctx).Exec("UPDATE deliveries SET status = ?, reason = ?, claimed_by = NULL, claimed_at = NULL, "+
		"updated_at = ? WHERE campaign_id = ? AND platform = ? AND bot = ? AND status = ?", broadcast.StatusSkipped, reason,
		stampTime(time.Time{}), campaignID, string(ch.Platform), ch.Bot, broadcast.StatusQueued)
	if res.Error != nil {
		return 0, fmt.Errorf("skip queued %s deliveries of campaign %d: %w", ch.Platform, campaignID, res.Error)
	}
	return int(res.RowsAffected), nil
}

// RecipientsByID implements broadcast.LedgerAdmin.
func (s *Store) RecipientsByID(ctx context.Context, ids []int64) (map[int64]broadcast.Recipient, error) {
	out := make(map[int64]broadcast.Recipient, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.WithContext(ctx).Raw("SELECT "+recipientColumns+" FROM clients WHERE clients.id IN "+inList(len(ids)), args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("recipients of %d clients: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var r broadcast.Recipient
		var platform string
		if err := rows.Scan(recipientTargets(&r, &platform)...); err != nil {
			return nil, fmt.Errorf("recipients of %d clients: %w", len(ids), err)
		}
		r.Platform = messenger.Platform(platform)
		out[r.ClientID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recipients of %d clients: %w", len(ids), err)
	}
	return out, nil
}
