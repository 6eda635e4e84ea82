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

// claimableTeamRow is the condition of a request's row in a team chat
// (alias t) that ClaimAnnouncements may claim: not announced, its claim
// (if any) expired (parameter now).
const claimableTeamRow = "t.announced_at IS NULL AND (t.claim_until IS NULL OR t.claim_until < ?)"

// ClaimAnnouncements implements handoff.TeamChatStore: first the requests
// whose announcing claim in chat expired (a post that failed, a process
// that died), then the answerable requests chat has no row for yet (a new
// request, or a team chat added since); each claim is a conditional write
// that one process wins (the row's primary key for a new one).
func (s *Store) ClaimAnnouncements(ctx context.Context, chat string, now time.Time, lease time.Duration, limit int) ([]handoff.Request, error) {
	now, until, limit := stampTime(now), stampTime(now.Add(lease)), pageLimit(limit)
	var out []handoff.Request
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rows, err := tx.Raw("UPDATE handoff_team_chats AS t SET claim_until = ? WHERE t.chat = ? AND "+claimableTeamRow+
			" AND t.handoff_id IN (SELECT t.handoff_id FROM handoff_team_chats AS t WHERE t.chat = ? AND "+claimableTeamRow+
			" AND EXISTS (SELECT 1 FROM handoffs AS h WHERE h.id = t.handoff_id AND "+sqlAnswerable+")"+
			" ORDER BY t.handoff_id LIMIT ?"+s.skipLocked()+") RETURNING handoff_id",
			until, chat, now, chat, now, limit).Rows()
		if err != nil {
			return err
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return err
		}
		if len(ids) < limit {
			rows, err = tx.Raw("INSERT INTO handoff_team_chats (handoff_id, chat, claim_until) SELECT h.id, ?, ? FROM handoffs AS h WHERE "+
				sqlAnswerable+" AND NOT EXISTS (SELECT 1 FROM handoff_team_chats AS t WHERE t.handoff_id = h.id AND t.chat = ?)"+
				" ORDER BY h.id LIMIT ? ON CONFLICT DO NOTHING RETURNING handoff_id", chat, until, chat, limit-len(ids)).Rows()
			if err != nil {
				return err
			}
			fresh, err := scanIDs(rows)
			if err != nil {
				return err
			}
			ids = append(ids, fresh...)
		}
		out, err = s.handoffsByID(tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim announcements in %s: %w", chat, err)
	}
	return out, nil
}

// Announcing implements handoff.AnnouncingReporter: a live request whose
// announcement in chat some process claimed (the claim holding at now) and
// has not recorded.
func (s *Store) Announcing(ctx context.Context, chat string, now time.Time) (bool, error) {
	var n int64
	_, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM (SELECT 1 FROM handoff_team_chats AS t "+
		"JOIN handoffs AS h ON h.id = t.handoff_id WHERE t.chat = ? AND t.announced_at IS NULL AND t.claim_until >= ? AND "+
		sqlAnswerable+" LIMIT 1) AS a", []any{chat, stampTime(now)}, &n)
	if err != nil {
		return false, fmt.Errorf("announcements in flight: %w", err)
	}
	return n > 0, nil
}

// MarkAnnounced implements handoff.TeamChatStore.
func (s *Store) MarkAnnounced(ctx context.Context, id int64, chat, messageID string, now time.Time) error {
	now = stampTime(now)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE handoffs SET announced_at = COALESCE(announced_at, ?) WHERE id = ?", now, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return handoff.ErrNotFound
		}
		err := tx.Exec("INSERT INTO handoff_team_chats (handoff_id, chat, announced_at) VALUES (?, ?, ?) "+
			"ON CONFLICT (handoff_id, chat) DO UPDATE SET announced_at = excluded.announced_at, claim_until = NULL",
			id, chat, now).Error
		if err != nil {
			return err
		}
		return addPost(tx, id, chat, messageID, now)
	})
	if err != nil {
		return fmt.Errorf("mark handoff %d announced in %s: %w", id, chat, err)
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
// a team chat (alias m of messages, h of its request, t of the request's
// row in the team chat): the request's inbound message newer than its
// forwarded mark there.
const pendingForward = "m.handoff_id = h.id AND m.id > t.forwarded_id AND m.direction = 'in'"

// PendingForwards implements handoff.TeamChatStore: the client's messages
// of each live request announced in chat (the ones written while the chat
// is with the request) newer than its forwarded mark there.
func (s *Store) PendingForwards(ctx context.Context, chat string, limit int) ([]handoff.Forward, error) {
	db := s.db.WithContext(ctx)
	rows, err := db.Raw("SELECT h.id, t.forwarded_id FROM handoffs AS h "+
		"JOIN handoff_team_chats AS t ON t.handoff_id = h.id AND t.chat = ? WHERE "+sqlLive+" AND t.announced_at IS NOT NULL AND "+
		"EXISTS (SELECT 1 FROM messages AS m WHERE m.client_id = h.client_id AND "+pendingForward+") "+
		"ORDER BY h.id LIMIT ?", chat, pageLimit(limit)).Rows()
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
	args := append([]any{chat}, idArgs(ids)...)
	rows, err = db.Raw("SELECT "+messageColumns+" FROM (SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.handoff_id ORDER BY m.id) AS n "+
		"FROM messages AS m JOIN handoffs AS h ON m.client_id = h.client_id "+
		"JOIN handoff_team_chats AS t ON t.handoff_id = h.id AND t.chat = ? "+
		"WHERE "+pendingForward+" AND h.id IN "+values(1, len(ids))+") AS m WHERE m.n <= ? ORDER BY m.id",
		append(args, maxForwardMessages)...).Rows()
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

// scanForwardIDs reads rows of (request id, forwarded mark).
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
func (s *Store) AdvanceForward(ctx context.Context, id int64, chat string, from, to int64) (bool, error) {
	res := s.db.WithContext(ctx).Exec("UPDATE handoff_team_chats SET forwarded_id = ? WHERE handoff_id = ? AND chat = ? AND forwarded_id = ?",
		to, id, chat, from)
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
