package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// Every claim below is one UPDATE whose WHERE re-checks that the row is
// still claimable (on PostgreSQL the rows are picked FOR UPDATE SKIP
// LOCKED; SQLite has a single writer), so that of several processes exactly
// one claims a row; a claim whose lease passed is claimable again.

// QueueReply implements handoff.ReplyStore.
func (s *Store) QueueReply(ctx context.Context, id int64, m crm.Message) (crm.Message, error) {
	m = cleanMessage(m)
	if m.Text == "" {
		return crm.Message{}, fmt.Errorf("queue reply to handoff %d: %w", id, handoff.ErrEmpty)
	}
	m.Direction, m.AuthorKind, m.Status, m.Error, m.HandoffID = crm.DirectionOut, crm.AuthorManager, crm.MessageQueued, "", id
	m.CreatedAt = stampTime(m.CreatedAt)
	db := s.db.WithContext(ctx)
	found, err := queryOne(db, "INSERT INTO messages (client_id, direction, author_kind, author, text, button, media, "+
		"platform_msg_id, handoff_id, status, error, created_at) "+
		"SELECT h.client_id, ?, ?, ?, ?, ?, ?, ?, h.id, ?, ?, ? FROM handoffs AS h WHERE h.id = ? AND "+sqlAnswerable+
		" RETURNING id, client_id", []any{m.Direction, m.AuthorKind, m.Author, m.Text, m.Button, m.Media,
		m.PlatformMsgID, m.Status, m.Error, m.CreatedAt, id}, &m.ID, &m.ClientID)
	if err == nil && !found {
		err = errNotLive(db, id)
	}
	if err != nil {
		return crm.Message{}, fmt.Errorf("queue reply to handoff %d: %w", id, classify(err))
	}
	return m, nil
}

// claimableReply is the condition of a reply ClaimReplies may claim (alias
// m; its parameter is now).
const claimableReply = "m.status IN ('queued', 'sending') AND (m.status = 'queued' OR m.claim_until IS NULL OR m.claim_until < ?)"

// ClaimReplies implements handoff.ReplyStore.
func (s *Store) ClaimReplies(ctx context.Context, now time.Time, lease time.Duration, limit int, only int64) ([]handoff.Outgoing, error) {
	now = stampTime(now)
	pick := "SELECT m.id FROM messages AS m WHERE " + claimableReply
	args := []any{now}
	if only > 0 {
		pick += " AND m.id = ?"
		args = append(args, only)
	}
	pick += " ORDER BY m.id LIMIT ?" + s.skipLocked()
	args = append(args, pageLimit(limit))
	var out []handoff.Outgoing
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rows, err := tx.Raw("UPDATE messages AS m SET status = 'sending', claim_until = ? WHERE m.id IN ("+pick+") AND "+
			claimableReply+" RETURNING id", append(append([]any{stampTime(now.Add(lease))}, args...), now)...).Rows()
		if err != nil {
			return err
		}
		ids, err := scanIDs(rows)
		if err != nil || len(ids) == 0 {
			return err
		}
		out, err = outgoing(tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim replies: %w", err)
	}
	return out, nil
}

// outgoing reads messages ids with their chats, by id.
func outgoing(db *gorm.DB, ids []int64) ([]handoff.Outgoing, error) {
	rows, err := db.Raw("SELECT "+messageColumns+", c.platform, c.bot, c.platform_user_id FROM messages AS m "+
		"JOIN clients AS c ON c.id = m.client_id WHERE m.id IN "+values(1, len(ids))+" ORDER BY m.id", idArgs(ids)...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []handoff.Outgoing
	for rows.Next() {
		var o handoff.Outgoing
		var platform string
		dest := append(messageTargets(&o.Message), &platform, &o.Chat.Bot, &o.Chat.ID)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		o.Chat.Platform = messenger.Platform(platform)
		out = append(out, o)
	}
	return out, rows.Err()
}

// FinishReply implements handoff.ReplyStore. Only a claimed (sending) reply
// is settled; a sent one stops its request's waiting clock in the same
// transaction.
func (s *Store) FinishReply(ctx context.Context, msgID int64, status, platformMsgID, reason string, now time.Time) error {
	switch status {
	case crm.MessageSent, crm.MessageFailed, crm.MessageQueued:
	default:
		return fmt.Errorf("finish reply %d: unknown status %q", msgID, status)
	}
	now = stampTime(now)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var handoffID int64
		found, err := queryOne(tx, "UPDATE messages SET status = ?, platform_msg_id = ?, error = ?, claim_until = NULL "+
			"WHERE id = ? AND status = 'sending' RETURNING handoff_id", []any{status, crm.CutMessageText(platformMsgID),
			crm.CutMessageText(reason), msgID}, nullInt{&handoffID})
		if err != nil {
			return err
		}
		if !found {
			return errNotSending(tx, msgID)
		}
		if status != crm.MessageSent || handoffID == 0 {
			return nil
		}
		return tx.Exec("UPDATE handoffs SET first_reply_at = COALESCE(first_reply_at, ?), waiting_since = NULL, "+
			"last_activity_at = ? WHERE id = ?", now, now, handoffID).Error
	})
	if err != nil {
		return fmt.Errorf("finish reply %d: %w", msgID, err)
	}
	return nil
}

// errNotSending is the error of settling reply id that was not sending:
// ErrNotFound when there is no such message.
func errNotSending(db *gorm.DB, id int64) error {
	var status string
	found, err := queryOne(db, "SELECT status FROM messages WHERE id = ?", []any{id}, &status)
	switch {
	case err != nil:
		return err
	case !found:
		return handoff.ErrNotFound
	}
	return fmt.Errorf("the reply is %q, not claimed for sending", status)
}

// GetMessage implements handoff.ReplyStore.
func (s *Store) GetMessage(ctx context.Context, msgID int64) (crm.Message, error) {
	var m crm.Message
	found, err := queryOne(s.db.WithContext(ctx), "SELECT "+messageColumns+" FROM messages AS m WHERE m.id = ?",
		[]any{msgID}, messageTargets(&m)...)
	if err == nil && !found {
		err = handoff.ErrNotFound
	}
	if err != nil {
		return crm.Message{}, fmt.Errorf("get message %d: %w", msgID, err)
	}
	return m, nil
}

// RequestReturn implements handoff.ReturnStore.
func (s *Store) RequestReturn(ctx context.Context, id int64, by, reason, scenario string, now time.Time) error {
	err := updateLive(s.db.WithContext(ctx), id, "UPDATE handoffs SET status = 'returning', closed_by = ?, close_reason = ?, "+
		"return_scenario = ?, claim_until = NULL, return_attempts = 0, return_error = '' WHERE id = ? AND status IN ('open', 'assigned')",
		crm.CutMessageText(by), crm.CutMessageText(reason), crm.CutMessageText(scenario), id)
	if err != nil {
		return fmt.Errorf("return handoff %d: %w", id, err)
	}
	return nil
}

// claimableReturn is the condition of a request ClaimReturns may claim
// (alias h; its parameters are now and idleBefore): returning and neither
// claimed by a live process nor waiting for its next try, or answerable
// and idle.
const claimableReturn = "((h.status = 'returning' AND (h.claim_until IS NULL OR h.claim_until < ?)) OR " +
	"(h.status IN ('open', 'assigned') AND COALESCE(h.last_activity_at, h.created_at) < ?))"

// becomeIdleReturn is the part of ClaimReturns' SET that makes an idle
// request returning with reason idle (a returning one keeps its own).
const becomeIdleReturn = "status = 'returning', " +
	"close_reason = CASE WHEN h.status = 'returning' THEN h.close_reason ELSE '" + handoff.CloseIdle + "' END, " +
	"closed_by = CASE WHEN h.status = 'returning' THEN h.closed_by ELSE '' END, " +
	"return_scenario = CASE WHEN h.status = 'returning' THEN h.return_scenario ELSE '' END, " +
	"return_attempts = CASE WHEN h.status = 'returning' THEN h.return_attempts ELSE 0 END, " +
	"return_error = CASE WHEN h.status = 'returning' THEN h.return_error ELSE '' END"

// ClaimReturns implements handoff.ReturnStore.
func (s *Store) ClaimReturns(ctx context.Context, now time.Time, lease time.Duration, idleBefore time.Time, limit int) ([]handoff.Request, error) {
	now = stampTime(now)
	var idle any = stampTime(idleBefore)
	if idleBefore.IsZero() {
		idle = nil // NULL: no request is idle
	}
	out, err := s.claimHandoffs(ctx, "claim_until = ?, "+becomeIdleReturn, []any{stampTime(now.Add(lease))},
		claimableReturn, []any{now, idle}, limit)
	if err != nil {
		return nil, fmt.Errorf("claim returns: %w", err)
	}
	return out, nil
}

// PostponeReturn implements handoff.ReturnStore.
func (s *Store) PostponeReturn(ctx context.Context, id int64, attempts int, why string, next time.Time) error {
	err := updateLive(s.db.WithContext(ctx), id, "UPDATE handoffs SET return_attempts = ?, return_error = ?, claim_until = ? "+
		"WHERE id = ? AND status = 'returning'", attempts, crm.CutMessageText(why), stampTime(next), id)
	if err != nil {
		return fmt.Errorf("postpone the return of handoff %d: %w", id, err)
	}
	return nil
}

// FailReturn implements handoff.ReturnStore: the close and the note are
// one transaction, so a request is never closed without its note nor
// noted twice.
func (s *Store) FailReturn(ctx context.Context, id int64, why string, note crm.Message, now time.Time) error {
	now = stampTime(now)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var clientID int64
		found, err := queryOne(tx, "UPDATE handoffs SET status = 'closed', closed_at = ?, claim_until = NULL, waiting_since = NULL, "+
			"close_reason = ?, return_error = ? WHERE id = ? AND status = 'returning' RETURNING client_id",
			[]any{now, handoff.CloseReturnFailed, crm.CutMessageText(why), id}, &clientID)
		if err != nil {
			return err
		}
		if !found {
			if st, err := handoffState(tx, id); err != nil || st == handoff.StatusClosed {
				return err // closed already: no change
			}
			return handoff.ErrClosed
		}
		note.ClientID, note.HandoffID = clientID, id
		_, err = insertMessage(tx, note)
		return err
	})
	if err != nil {
		return fmt.Errorf("close handoff %d whose return failed: %w", id, classify(err))
	}
	return nil
}

// CloseHandoff implements handoff.ReturnStore. Closing a closed request is
// no change.
func (s *Store) CloseHandoff(ctx context.Context, id int64, now time.Time) error {
	db := s.db.WithContext(ctx)
	res := db.Exec("UPDATE handoffs SET status = 'closed', closed_at = ?, claim_until = NULL, waiting_since = NULL "+
		"WHERE id = ? AND status = 'returning'", stampTime(now), id)
	err := res.Error
	if err == nil && res.RowsAffected == 0 {
		var st handoff.Status
		if st, err = handoffState(db, id); err == nil && st != handoff.StatusClosed {
			err = fmt.Errorf("the request is %s, not returning", st)
		}
	}
	if err != nil {
		return fmt.Errorf("close handoff %d: %w", id, err)
	}
	return nil
}
