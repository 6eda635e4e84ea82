package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// SkipQueued implements broadcast.LedgerAdmin.
func (s *Store) SkipQueued(ctx context.Context, campaignID int64, reason string) error {
	err := s.db.WithContext(ctx).Exec("UPDATE deliveries SET status = ?, reason = ?, claimed_by = NULL, claimed_at = NULL, "+
		"updated_at = ? WHERE campaign_id = ? AND status = ?", broadcast.StatusSkipped, reason, stampTime(time.Time{}),
		campaignID, broadcast.StatusQueued).Error
	if err != nil {
		return fmt.Errorf("skip queued deliveries of campaign %d: %w", campaignID, err)
	}
	return nil
}

// Pending implements broadcast.LedgerAdmin.
func (s *Store) Pending(ctx context.Context, campaignID int64) (int, error) {
	var n int64
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM deliveries WHERE campaign_id = ? AND status = ?",
		[]any{campaignID, broadcast.StatusQueued}, &n); err != nil {
		return 0, fmt.Errorf("count queued deliveries of campaign %d: %w", campaignID, err)
	}
	return int(n), nil
}

// DeliveryStats implements broadcast.LedgerAdmin.
func (s *Store) DeliveryStats(ctx context.Context, campaignID int64, since, until time.Time) (broadcast.Stats, error) {
	st := broadcast.Stats{FailedByReason: map[string]int{}, SkippedByReason: map[string]int{}, QueuedByReason: map[string]int{}}
	rows, err := s.db.WithContext(ctx).Raw("SELECT status, reason, COUNT(*) FROM deliveries WHERE campaign_id = ? "+
		"GROUP BY status, reason", campaignID).Rows()
	if err != nil {
		return st, fmt.Errorf("delivery stats of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, reason string
		var n int
		if err := rows.Scan(&status, &reason, &n); err != nil {
			return st, fmt.Errorf("delivery stats of campaign %d: %w", campaignID, err)
		}
		st.Targeted += n
		switch status {
		case broadcast.StatusQueued:
			st.Queued += n
			if reason != "" {
				st.QueuedByReason[reason] += n
			}
		case broadcast.StatusSent:
			st.Sent += n
		case broadcast.StatusBlocked:
			st.Blocked += n
		case broadcast.StatusFailed:
			st.Failed += n
			st.FailedByReason[reason] += n
		case broadcast.StatusSkipped:
			st.Skipped += n
			st.SkippedByReason[reason] += n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("delivery stats of campaign %d: %w", campaignID, err)
	}
	var recent int64
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM deliveries WHERE campaign_id = ? AND sent_at >= ?",
		[]any{campaignID, stampTime(since)}, &recent); err != nil {
		return st, fmt.Errorf("delivery rate of campaign %d: %w", campaignID, err)
	}
	if window := until.Sub(since).Seconds(); window > 0 {
		st.Rate = float64(recent) / window
	}
	return st, nil
}

// deliveryPage is EachDelivery's keyset page size.
const deliveryPage = 1000

// EachDelivery implements broadcast.LedgerAdmin: keyset pages by client id,
// no transaction held between pages.
func (s *Store) EachDelivery(ctx context.Context, campaignID int64, fn func(broadcast.Delivery) error) error {
	var after int64
	for {
		page, err := s.deliveryPage(ctx, campaignID, after)
		if err != nil {
			return err
		}
		for _, d := range page {
			if err := fn(d); err != nil {
				return err
			}
		}
		if len(page) < deliveryPage {
			return nil
		}
		after = page[len(page)-1].ClientID
	}
}

func (s *Store) deliveryPage(ctx context.Context, campaignID, after int64) ([]broadcast.Delivery, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT campaign_id, client_id, platform, platform_user_id, status, reason, "+
		"attempts, platform_message_id, sent_at, updated_at FROM deliveries WHERE campaign_id = ? AND client_id > ? "+
		"ORDER BY client_id LIMIT ?", campaignID, after, deliveryPage).Rows()
	if err != nil {
		return nil, fmt.Errorf("deliveries of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	out := make([]broadcast.Delivery, 0, deliveryPage)
	for rows.Next() {
		var d broadcast.Delivery
		var platform string
		if err := rows.Scan(&d.CampaignID, &d.ClientID, &platform, &d.PlatformUserID, &d.Status, &d.Reason, &d.Attempts,
			&d.MessageID, timeScanner{p: &d.SentAt}, timeScanner{v: &d.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("deliveries of campaign %d: %w", campaignID, err)
		}
		d.Platform = messenger.Platform(platform)
		out = append(out, d)
	}
	return out, rows.Err()
}
