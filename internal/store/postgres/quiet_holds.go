package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// QuietHolds implements broadcast.LedgerAdmin: one keyset page of the
// campaign's unclaimed rows held for quiet hours, by client id.
func (s *Store) QuietHolds(ctx context.Context, campaignID, after int64, limit int) ([]broadcast.Hold, error) {
	q := "SELECT d.next_attempt_at, " + recipientColumns + ` FROM deliveries d JOIN clients ON clients.id = d.client_id
		WHERE d.campaign_id = ? AND d.client_id > ? AND d.status = 'queued' AND d.reason = ? AND d.claimed_by IS NULL
		ORDER BY d.client_id LIMIT ?`
	rows, err := s.db.WithContext(ctx).Raw(q, campaignID, after, broadcast.ReasonQuietHours, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("quiet-hours holds of campaign %d: %w", campaignID, err)
	}
	defer rows.Close()
	out := make([]broadcast.Hold, 0, limit)
	for rows.Next() {
		var h broadcast.Hold
		var platform string
		dest := append([]any{timeScanner{v: &h.NotBefore}}, recipientTargets(&h.Recipient, &platform)...)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("quiet-hours holds of campaign %d: %w", campaignID, err)
		}
		h.Platform = messenger.Platform(platform)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quiet-hours holds of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// moveHoldsWidth is the number of parameters of one moved hold.
const moveHoldsWidth = 3

// MoveHolds implements broadcast.LedgerAdmin: one statement per page on
// PostgreSQL, a transaction of updates on SQLite.
func (s *Store) MoveHolds(ctx context.Context, campaignID int64, holds []broadcast.Hold, now time.Time) error {
	if len(holds) == 0 {
		return nil
	}
	now = stampTime(now)
	args := make([]any, 0, len(holds)*moveHoldsWidth)
	for _, h := range holds {
		nb, reason := now, ""
		if !h.NotBefore.IsZero() {
			nb, reason = stampTime(h.NotBefore), broadcast.ReasonQuietHours
		}
		args = append(args, h.ClientID, nb, reason)
	}
	var err error
	if s.pg() {
		var b stmt // gorm's '?' placeholders
		b.WriteString("UPDATE deliveries d SET next_attempt_at = v.nb, reason = v.reason, updated_at = ? FROM (VALUES " +
			"(?::bigint, ?::timestamptz, ?::text)")
		if len(holds) > 1 {
			b.WriteString(", ")
			writeValues(&b, len(holds)-1, moveHoldsWidth)
		}
		b.WriteString(`) AS v (client_id, nb, reason) WHERE d.campaign_id = ? AND d.client_id = v.client_id
			AND d.status = 'queued' AND d.reason = ? AND d.claimed_by IS NULL`)
		all := append(append([]any{now}, args...), campaignID, broadcast.ReasonQuietHours)
		err = s.db.WithContext(ctx).Exec(b.String(), all...).Error
	} else {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i := 0; i < len(args); i += moveHoldsWidth {
				if err := tx.Exec(`UPDATE deliveries SET next_attempt_at = ?, reason = ?, updated_at = ?
					WHERE campaign_id = ? AND client_id = ? AND status = 'queued' AND reason = ? AND claimed_by IS NULL`,
					args[i+1], args[i+2], now, campaignID, args[i], broadcast.ReasonQuietHours).Error; err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("move %d quiet-hours holds of campaign %d: %w", len(holds), campaignID, err)
	}
	return nil
}
