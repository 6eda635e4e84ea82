package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// The console's Рассылки pages read campaigns and their ledgers a page at
// a time: CampaignPage (newest first, keyset by id), LedgerCounts (one
// grouped count over the status index for a page of campaigns) and
// FailedDeliveries (a campaign's failed and blocked rows, keyset by client
// id over deliveries_failures_idx, migration 15).

// CampaignPage returns up to limit campaigns with an id below before (0:
// from the newest), newest first.
func (s *Store) CampaignPage(ctx context.Context, before int64, limit int) ([]broadcast.Campaign, error) {
	if before <= 0 {
		return s.campaigns(ctx, "SELECT "+campaignColumns+" FROM campaigns ORDER BY id DESC LIMIT ?", limit)
	}
	return s.campaigns(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE id < ? ORDER BY id DESC LIMIT ?", before, limit)
}

// LedgerCounts counts the ledger rows of each campaign of ids by status:
// Targeted, Queued, Sent, Failed, Blocked and Skipped of broadcast.Stats
// (no reasons, no rate). A campaign without rows is absent from the map.
func (s *Store) LedgerCounts(ctx context.Context, ids []int64) (map[int64]broadcast.Stats, error) {
	out := make(map[int64]broadcast.Stats, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.WithContext(ctx).Raw("SELECT campaign_id, status, COUNT(*) FROM deliveries WHERE campaign_id IN ("+
		marks+") GROUP BY campaign_id, status", args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("ledger counts of %d campaigns: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status string
		var n int
		if err := rows.Scan(&id, &status, &n); err != nil {
			return nil, fmt.Errorf("ledger counts of %d campaigns: %w", len(ids), err)
		}
		st := out[id]
		st.Targeted += n
		switch status {
		case broadcast.StatusQueued:
			st.Queued += n
		case broadcast.StatusSent:
			st.Sent += n
		case broadcast.StatusFailed:
			st.Failed += n
		case broadcast.StatusBlocked:
			st.Blocked += n
		case broadcast.StatusSkipped:
			st.Skipped += n
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger counts of %d campaigns: %w", len(ids), err)
	}
	return out, nil
}

// FailedDeliveries returns up to limit of campaign id's failed and blocked
// ledger rows with a client id above after, in client order.
func (s *Store) FailedDeliveries(ctx context.Context, campaignID, after int64, limit int) ([]broadcast.Delivery, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT campaign_id, client_id, platform, platform_user_id, status, reason, "+
		"attempts, platform_message_id, sent_at, updated_at FROM deliveries WHERE campaign_id = ? AND client_id > ? "+
		"AND status IN (?, ?) ORDER BY client_id LIMIT ?",
		campaignID, after, broadcast.StatusFailed, broadcast.StatusBlocked, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("failed deliveries of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	var out []broadcast.Delivery
	for rows.Next() {
		var d broadcast.Delivery
		var platform string
		if err := rows.Scan(&d.CampaignID, &d.ClientID, &platform, &d.PlatformUserID, &d.Status, &d.Reason, &d.Attempts,
			&d.MessageID, timeScanner{p: &d.SentAt}, timeScanner{v: &d.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("failed deliveries of campaign %d: %w", campaignID, err)
		}
		d.Platform = messenger.Platform(platform)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed deliveries of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// deliveryFailuresIndex lets FailedDeliveries walk a campaign's failed
// and blocked rows in client order, however many rows were sent.
var deliveryFailuresIndex = []string{
	`CREATE INDEX deliveries_failures_idx ON deliveries (campaign_id, client_id) WHERE status IN ('failed', 'blocked')`,
}
