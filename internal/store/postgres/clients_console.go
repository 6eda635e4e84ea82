package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
)

// CountClients counts the clients opt's filters select (Limit, Offset and
// BeforeID aside). A search or segment counts through the indexes that
// serve it (the name-prefix and phone indexes of migration 12, the
// segment's own); with no filter it counts the clients' primary key.
func (s *Store) CountClients(ctx context.Context, opt ListOptions) (int64, error) {
	opt.BeforeID, opt.Offset = 0, 0
	where, args, err := s.listWhere(opt, s.segmentCountWhere)
	if err != nil {
		return 0, fmt.Errorf("count clients: %w", err)
	}
	var n int64
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM clients"+where, args, &n); err != nil {
		return 0, fmt.Errorf("count clients: %w", err)
	}
	return n, nil
}

// ClientByID returns the client with that id, with its tags, attributes
// and confirmation stamps, or (nil, nil) when there is none.
func (s *Store) ClientByID(ctx context.Context, id int64) (*crm.Client, error) {
	if id <= 0 {
		return nil, nil
	}
	cs, err := s.ListClients(ctx, ListOptions{ID: id, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("client %d: %w", id, err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return &cs[0], nil
}

// ClientDelivery is one campaign's delivery to a client as the delivery
// ledger records it.
type ClientDelivery struct {
	CampaignID int64
	// Campaign is the campaign's name.
	Campaign string
	// Status is queued, sent, failed, blocked or skipped; Reason says why
	// a delivery failed or was skipped.
	Status, Reason string
	Attempts       int
	// SentAt is when it was sent (nil unless sent); UpdatedAt when the
	// row last changed (its outcome's time).
	SentAt    *time.Time
	UpdatedAt time.Time
}

// ClientDeliveries returns up to limit (0 or less: DefaultListLimit) of the
// client's campaign deliveries, newest campaign first, through the index
// deliveries_client_idx (migration 13).
func (s *Store) ClientDeliveries(ctx context.Context, clientID int64, limit int) ([]ClientDelivery, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT d.campaign_id, c.name, d.status, d.reason, d.attempts, d.sent_at, d.updated_at "+
		"FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE d.client_id = ? "+
		"ORDER BY d.campaign_id DESC LIMIT ?", clientID, limitOr(limit)).Rows()
	if err != nil {
		return nil, fmt.Errorf("deliveries of client %d: %w", clientID, err)
	}
	defer rows.Close()
	var out []ClientDelivery
	for rows.Next() {
		var d ClientDelivery
		if err := rows.Scan(&d.CampaignID, &d.Campaign, &d.Status, &d.Reason, &d.Attempts,
			timeScanner{p: &d.SentAt}, timeScanner{v: &d.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("deliveries of client %d: %w", clientID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries of client %d: %w", clientID, err)
	}
	return out, nil
}

// clientDeliveriesIndex (migration 13) finds a client's rows in the
// delivery ledger: the client card lists them, and erasing a client
// (DeleteClient's cascade) deletes them without reading the whole ledger.
var clientDeliveriesIndex = []string{
	`CREATE INDEX deliveries_client_idx ON deliveries (client_id, campaign_id)`,
}

// ClientEdit is a person's change to a client card (the console's Клиенты):
// tags added and removed, and the assigned manager. It is not the client's
// own doing, so unlike ApplyChanges it neither creates a missing client nor
// moves last_seen_at or the confirmation stamps.
type ClientEdit struct {
	// AddTags and RemoveTags change the tag set (checked with crm.CheckTag
	// by the caller).
	AddTags, RemoveTags []string
	// Manager, when not nil, sets assigned_manager ("" clears it).
	Manager *string
	// Now stamps updated_at and the new tags.
	Now time.Time
}

// EditClient applies e to the client with that id in one transaction and
// reports whether there was such a client (false: nothing written).
func (s *Store) EditClient(ctx context.Context, id int64, e ClientEdit) (bool, error) {
	now := stampTime(e.Now)
	found := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		set, args := "updated_at = ?", []any{now}
		if e.Manager != nil {
			set += ", assigned_manager = ?"
			args = append(args, *e.Manager)
		}
		res := tx.Exec("UPDATE clients SET "+set+" WHERE id = ?", append(args, id)...)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		found = true
		for _, tag := range e.AddTags {
			if err := tx.Exec("INSERT INTO client_tags (client_id, tag, created_at) VALUES (?, ?, ?) "+
				"ON CONFLICT (client_id, tag) DO NOTHING", id, tag, now).Error; err != nil {
				return err
			}
		}
		for _, tag := range e.RemoveTags {
			if err := tx.Exec("DELETE FROM client_tags WHERE client_id = ? AND tag = ?", id, tag).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("edit client %d: %w", id, err)
	}
	return found, nil
}
