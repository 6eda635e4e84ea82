package postgres

import (
	"database/sql"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// messageColumns is the column list of a transcript read (alias m), in the
// order messageTargets scans it.
const messageColumns = "m.id, m.client_id, m.direction, m.author_kind, m.author, m.text, m.button, m.media, " +
	"m.platform_msg_id, m.handoff_id, m.status, m.error, m.created_at"

// messageTargets returns scan destinations for messageColumns.
func messageTargets(m *crm.Message) []any {
	return []any{&m.ID, &m.ClientID, &m.Direction, &m.AuthorKind, &m.Author, &m.Text, &m.Button, &m.Media,
		&m.PlatformMsgID, nullInt{&m.HandoffID}, &m.Status, &m.Error, timeScanner{v: &m.CreatedAt}}
}

// nullInt scans an integer column that may be NULL (0 then).
type nullInt struct{ p *int64 }

// Scan implements sql.Scanner.
func (n nullInt) Scan(src any) error {
	var v sql.NullInt64
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.p = v.Int64
	return nil
}

// lastMessage receives the LEFT JOINed last message of a request (every
// column NULL when the chat has none).
type lastMessage struct {
	id, clientID, handoffID                                                  sql.NullInt64
	dir, kind, author, text, button, media, platformMsgID, status, errorText sql.NullString
	createdAt                                                                *time.Time
}

func (l *lastMessage) targets() []any {
	return []any{&l.id, &l.clientID, &l.dir, &l.kind, &l.author, &l.text, &l.button, &l.media,
		&l.platformMsgID, &l.handoffID, &l.status, &l.errorText, timeScanner{p: &l.createdAt}}
}

// message returns the last message, nil when there was none.
func (l *lastMessage) message() *crm.Message {
	if !l.id.Valid {
		return nil
	}
	m := &crm.Message{ID: l.id.Int64, ClientID: l.clientID.Int64, Direction: l.dir.String, AuthorKind: l.kind.String,
		Author: l.author.String, Text: l.text.String, Button: l.button.String, Media: l.media.String,
		PlatformMsgID: l.platformMsgID.String, HandoffID: l.handoffID.Int64, Status: l.status.String, Error: l.errorText.String}
	if l.createdAt != nil {
		m.CreatedAt = *l.createdAt
	}
	return m
}

// handoffSelect reads requests (alias h) with their client's summary and
// the chat's last message, in the order handoffRow.targets scans them; the
// caller appends WHERE, ORDER BY and LIMIT. The last message is a join on
// the client's greatest message id (an index lookup on messages_client_idx
// per request), so a page of requests is one query.
func (s *Store) handoffSelect() string {
	return "SELECT h.id, h.client_id, c.platform, c.bot, c.platform_user_id, c.first_name, c.last_name, c.username, " +
		"c.phone, c.city, c.assigned_manager, " + s.tagsExpr("c.id") + ", h.scenario, h.step, h.reason, h.question, " +
		"h.status, h.manager, h.created_at, h.taken_at, h.first_reply_at, h.waiting_since, h.last_activity_at, " +
		"h.closed_at, h.close_reason, h.closed_by, h.return_scenario, h.announced_at, h.return_attempts, h.return_error, " +
		strings.ReplaceAll(messageColumns, "m.", "lm.") +
		" FROM handoffs AS h JOIN clients AS c ON c.id = h.client_id" +
		" LEFT JOIN messages AS lm ON lm.id = (SELECT max(m2.id) FROM messages AS m2 WHERE m2.client_id = h.client_id)"
}

// handoffRow receives one row of handoffSelect.
type handoffRow struct {
	r                           handoff.Request
	platform, first, last, user string
	status                      string
	lastMsg                     lastMessage
}

func (h *handoffRow) targets() []any {
	r := &h.r
	out := []any{&r.ID, &r.ClientID, &h.platform, &r.Chat.Bot, &r.Chat.ID, &h.first, &h.last, &h.user,
		&r.Phone, &r.City, &r.AssignedManager, tagsScanner{&r.Tags}, &r.Scenario, &r.Step, &r.Reason, &r.Question,
		&h.status, &r.Manager, timeScanner{v: &r.CreatedAt}, timeScanner{p: &r.TakenAt}, timeScanner{p: &r.FirstReplyAt},
		timeScanner{p: &r.WaitingSince}, timeScanner{p: &r.LastActivityAt}, timeScanner{p: &r.ClosedAt},
		&r.CloseReason, &r.ClosedBy, &r.ReturnScenario, timeScanner{p: &r.AnnouncedAt}, &r.ReturnAttempts, &r.ReturnError}
	return append(out, h.lastMsg.targets()...)
}

// request returns the scanned request.
func (h *handoffRow) request() handoff.Request {
	r := h.r
	r.Chat.Platform = messenger.Platform(h.platform)
	r.Status = handoff.Status(h.status)
	r.ClientName = clientName(h.first, h.last, h.user, r.Chat.ID)
	r.LastMessage = h.lastMsg.message()
	return r
}

// clientName is the name the inbox shows: the client's names, else
// @username, else the platform's id.
func clientName(first, last, username, platformID string) string {
	if name := strings.TrimSpace(first + " " + last); name != "" {
		return name
	}
	if username != "" {
		return "@" + username
	}
	return platformID
}

// scanRequests reads every row of rows (handoffSelect) as requests.
func scanRequests(rows *sql.Rows) ([]handoff.Request, error) {
	defer rows.Close()
	var out []handoff.Request
	for rows.Next() {
		var h handoffRow
		if err := rows.Scan(h.targets()...); err != nil {
			return nil, err
		}
		out = append(out, h.request())
	}
	return out, rows.Err()
}

// scanMessages reads every row of rows (messageColumns) as messages.
func scanMessages(rows *sql.Rows) ([]crm.Message, error) {
	defer rows.Close()
	var out []crm.Message
	for rows.Next() {
		var m crm.Message
		if err := rows.Scan(messageTargets(&m)...); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// scanIDs reads every row of rows as one id.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
