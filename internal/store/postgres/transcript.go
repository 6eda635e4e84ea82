package postgres

import (
	"context"
	"fmt"
	"gorm.io/gorm"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// defaultPurgeBatch is PurgeMessages' batch when limit is not positive.
const defaultPurgeBatch = 1000

// Transcript implements handoff.TranscriptStore: newest first below
// BeforeID (or from the newest), oldest first above AfterID.
func (s *Store) Transcript(ctx context.Context, clientID int64, p handoff.Page) ([]crm.Message, error) {
	q := "SELECT " + messageColumns + " FROM messages AS m WHERE m.client_id = ?"
	args := []any{clientID}
	switch {
	case p.AfterID > 0:
		q += " AND m.id > ? ORDER BY m.id"
		args = append(args, p.AfterID)
	case p.BeforeID > 0:
		q += " AND m.id < ? ORDER BY m.id DESC"
		args = append(args, p.BeforeID)
	default:
		q += " ORDER BY m.id DESC"
	}
	rows, err := s.db.WithContext(ctx).Raw(q+" LIMIT ?", append(args, pageLimit(p.Limit))...).Rows()
	if err != nil {
		return nil, fmt.Errorf("transcript of client %d: %w", clientID, err)
	}
	out, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("transcript of client %d: %w", clientID, err)
	}
	return out, nil
}

// AppendMessage implements handoff.TranscriptStore. The message belongs to
// m.HandoffID, else to the client's live request if any; its texts are made
// storable (crm.CutMessageText); a zero CreatedAt is the clock's now.
func (s *Store) AppendMessage(ctx context.Context, m crm.Message) (int64, error) {
	id, err := insertMessage(s.db.WithContext(ctx), m)
	if err != nil {
		return 0, fmt.Errorf("append message of client %d: %w", m.ClientID, classify(err))
	}
	return id, nil
}

// insertMessage writes m into the transcript (belonging to m.HandoffID, or
// else to the client's live request, if any) and returns its id.
func insertMessage(db *gorm.DB, m crm.Message) (int64, error) {
	m = cleanMessage(m)
	if m.Direction != crm.DirectionIn && m.Direction != crm.DirectionOut {
		return 0, fmt.Errorf("unknown direction %q", m.Direction)
	}
	var handoffID any = m.HandoffID
	if m.HandoffID == 0 {
		handoffID = nil
	}
	var id int64
	found, err := queryOne(db, "INSERT INTO messages (client_id, direction, author_kind, author, text, button, "+
		"media, platform_msg_id, status, error, handoff_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "+
		"COALESCE(?, (SELECT h.id FROM handoffs AS h WHERE h.client_id = ? AND "+sqlLive+")), ?) RETURNING id",
		[]any{m.ClientID, m.Direction, m.AuthorKind, m.Author, m.Text, m.Button, m.Media, m.PlatformMsgID, m.Status,
			m.Error, handoffID, m.ClientID, stampTime(m.CreatedAt)}, &id)
	if err == nil && !found {
		err = fmt.Errorf("insert returned no row")
	}
	return id, err
}

// PurgeMessages implements handoff.TranscriptStore: one batch of the oldest
// messages created before before (messages_created_idx), replies still
// queued or being sent excepted; the caller repeats it while it deletes a
// full batch.
func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		limit = defaultPurgeBatch
	}
	res := s.db.WithContext(ctx).Exec("DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE created_at < ? "+
		"AND status NOT IN ('queued', 'sending') ORDER BY created_at LIMIT ?)", stampTime(before), limit)
	if res.Error != nil {
		return 0, fmt.Errorf("purge messages: %w", res.Error)
	}
	return res.RowsAffected, nil
}
