package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/handoff"
)

// maxForwardMessages is how many client messages PendingForwards returns
// per request at most (the oldest ones).
const maxForwardMessages = 20

// claimableAnnouncement is the condition of a request ClaimAnnouncements
// may claim (alias h; its parameter is now).
const claimableAnnouncement = sqlAnswerable + " AND h.announced_at IS NULL AND " +
	"(h.announce_claim_until IS NULL OR h.announce_claim_until < ?)"

// ClaimAnnouncements implements handoff.TeamChatStore.
func (s *Store) ClaimAnnouncements(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]handoff.Request, error) {
	now = stampTime(now)
	out, err := s.claimHandoffs(ctx, "announce_claim_until = ?", []any{stampTime(now.Add(lease))},
		claimableAnnouncement, []any{now}, limit)
	if err != nil {
		return nil, fmt.Errorf("claim announcements: %w", err)
	}
	return out, nil
}

// Announcing implements handoff.AnnouncingReporter: a live request whose
// announcement some process claimed (the claim holding at now) and has not
// recorded.
func (s *Store) Announcing(ctx context.Context, now time.Time) (bool, error) {
	var n int64
	_, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM (SELECT 1 FROM handoffs AS h WHERE "+sqlAnswerable+
		" AND h.announced_at IS NULL AND h.announce_claim_until >= ? LIMIT 1) AS a", []any{stampTime(now)}, &n)
	if err != nil {
		return false, fmt.Errorf("announcements in flight: %w", err)
	}
	return n > 0, nil
}

// MarkAnnounced implements handoff.TeamChatStore.
func (s *Store) MarkAnnounced(ctx context.Context, id int64, chat, messageID string, now time.Time) error {
	now = stampTime(now)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE handoffs SET announced_at = ?, announce_claim_until = NULL WHERE id = ?", now, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return handoff.ErrNotFound
		}
		return addPost(tx, id, chat, messageID, now)
	})
	if err != nil {
		return fmt.Errorf("mark handoff %d announced: %w", id, err)
	}
	return nil
}

// addPost records post (chat, messageID) of request id; recording it again
// is no change.
func addPost(db *gorm.DB, id int64, chat, messageID string, now time.Time) error {
	if chat == "" || messageID == "" {
		return fmt.Errorf("a post needs a chat and a message id")
	}
	return db.Exec("INSERT INTO handoff_posts (chat, message_id, handoff_id, created_at) VALUES (?, ?, ?, ?) "+
		"ON CONFLICT DO NOTHING", chat, messageID, id, now).Error
}

// AddPost implements handoff.TeamChatStore.
func (s *Store) AddPost(ctx context.Context, id int64, chat, messageID string) error {
	db := s.db.WithContext(ctx)
	if _, err := handoffState(db, id); err != nil {
		return fmt.Errorf("add post of handoff %d: %w", id, err)
	}
	if err := addPost(db, id, chat, messageID, stampTime(time.Now())); err != nil {
		return fmt.Errorf("add post of handoff %d: %w", id, classify(err))
	}
	return nil
}

// HandoffByPost implements handoff.TeamChatStore.
func (s *Store) HandoffByPost(ctx context.Context, chat, messageID string) (handoff.Request, error) {
	r, err := s.oneHandoff(s.db.WithContext(ctx),
		"h.id = (SELECT p.handoff_id FROM handoff_posts AS p WHERE p.chat = ? AND p.message_id = ?)", chat, messageID)
	if err != nil {
		return handoff.Request{}, fmt.Errorf("handoff by post: %w", err)
	}
	return r, nil
}

// AnnouncementPost returns the message id of the post announcing request
// id in chat (its first post there); handoff.ErrNotFound when none.
func (s *Store) AnnouncementPost(ctx context.Context, id int64, chat string) (string, error) {
	var messageID string
	found, err := queryOne(s.db.WithContext(ctx), "SELECT message_id FROM handoff_posts WHERE handoff_id = ? AND chat = ? "+
		"ORDER BY created_at, message_id LIMIT 1", []any{id, chat}, &messageID)
	if err == nil && !found {
		err = handoff.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("announcement post of handoff %d: %w", id, err)
	}
	return messageID, nil
}

// pendingForward is the condition of a client message still to forward to
// the team chat (alias m of messages, h of its request): the request's
// inbound message newer than its forwarded_id.
const pendingForward = "m.handoff_id = h.id AND m.id > h.forwarded_id AND m.direction = 'in'"

// PendingForwards implements handoff.TeamChatStore: the client's messages
// of each announced live request (the ones written while the chat is with
// the request) newer than its forwarded_id.
func (s *Store) PendingForwards(ctx context.Context, limit int) ([]handoff.Forward, error) {
	db := s.db.WithContext(ctx)
	rows, err := db.Raw("SELECT h.id, h.forwarded_id FROM handoffs AS h WHERE "+sqlLive+" AND h.announced_at IS NOT NULL AND "+
		"EXISTS (SELECT 1 FROM messages AS m WHERE m.client_id = h.client_id AND "+pendingForward+") "+
		"ORDER BY h.id LIMIT ?", pageLimit(limit)).Rows()
	if err != nil {
		return nil, fmt.Errorf("pending forwards: %w", err)
	}
	ids, from, err := scanForwardIDs(rows)
	if err != nil || len(ids) == 0 {
		return nil, wrapErr("pending forwards", err)
	}
	reqs, err := s.handoffsByID(db, ids)
	if err != nil {
		return nil, fmt.Errorf("pending forwards: %w", err)
	}
	rows, err = db.Raw("SELECT "+messageColumns+" FROM (SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.handoff_id ORDER BY m.id) AS n "+
		"FROM messages AS m JOIN handoffs AS h ON "+pendingForward+" AND m.client_id = h.client_id "+
		"WHERE h.id IN "+values(1, len(ids))+") AS m WHERE m.n <= ? ORDER BY m.id",
		append(idArgs(ids), maxForwardMessages)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("pending forwards: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("pending forwards: %w", err)
	}
	out := make([]handoff.Forward, 0, len(reqs))
	byID := make(map[int64]int, len(reqs))
	for _, r := range reqs {
		byID[r.ID] = len(out)
		out = append(out, handoff.Forward{Request: r, From: from[r.ID]})
	}
	for _, m := range msgs {
		if i, ok := byID[m.HandoffID]; ok {
			out[i].Messages = append(out[i].Messages, m)
		}
	}
	return out, nil
}

// scanForwardIDs reads rows of (request id, forwarded_id).
func scanForwardIDs(rows *sql.Rows) ([]int64, map[int64]int64, error) {
	defer rows.Close()
	var ids []int64
	from := map[int64]int64{}
	for rows.Next() {
		var id, f int64
		if err := rows.Scan(&id, &f); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		from[id] = f
	}
	return ids, from, rows.Err()
}

// AdvanceForward implements handoff.TeamChatStore.
func (s *Store) AdvanceForward(ctx context.Context, id, from, to int64) (bool, error) {
	res := s.db.WithContext(ctx).Exec("UPDATE handoffs SET forwarded_id = ? WHERE id = ? AND forwarded_id = ?", to, id, from)
	if res.Error != nil {
		return false, fmt.Errorf("advance forward of handoff %d: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// wrapErr wraps err (nil stays nil) with what.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
