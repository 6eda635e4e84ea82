package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// HandoffReader lists hand-off requests and reads transcripts
// (*handoff.Service implements it).
type HandoffReader interface {
	Inbox(ctx context.Context, manager string, f handoff.Filter) ([]handoff.Request, error)
	Transcript(ctx context.Context, clientID int64, p handoff.Page) ([]crm.Message, error)
}

// Page sizes of the hand-off routes.
const (
	defaultHandoffPage = 50
	maxHandoffPage     = 200
)

// handoffRoutes registers the hand-off inbox and the transcript.
func (a *API) handoffRoutes() {
	a.route("GET /api/handoffs", a.listHandoffs)
	a.route("GET /api/clients/{id}/messages", a.clientMessages)
}

// handoffJSON is a hand-off request as the API shows it. It carries
// personal data (name, phone, the question): only authenticated managers
// see it, and it is never logged.
type handoffJSON struct {
	ID              int64        `json:"id"`
	ClientID        int64        `json:"client_id"`
	Platform        string       `json:"platform"`
	ClientName      string       `json:"client_name"`
	Phone           string       `json:"phone,omitempty"`
	City            string       `json:"city,omitempty"`
	Tags            []string     `json:"tags"`
	AssignedManager string       `json:"assigned_manager,omitempty"`
	Scenario        string       `json:"scenario,omitempty"`
	Step            string       `json:"step,omitempty"`
	Reason          string       `json:"reason,omitempty"`
	Question        string       `json:"question"`
	Status          string       `json:"status"`
	Manager         string       `json:"manager,omitempty"`
	WaitingSeconds  int64        `json:"waiting_seconds"`
	CreatedAt       time.Time    `json:"created_at"`
	TakenAt         *time.Time   `json:"taken_at,omitempty"`
	FirstReplyAt    *time.Time   `json:"first_reply_at,omitempty"`
	WaitingSince    *time.Time   `json:"waiting_since,omitempty"`
	LastActivityAt  *time.Time   `json:"last_activity_at,omitempty"`
	ClosedAt        *time.Time   `json:"closed_at,omitempty"`
	CloseReason     string       `json:"close_reason,omitempty"`
	ClosedBy        string       `json:"closed_by,omitempty"`
	ReturnError     string       `json:"return_error,omitempty"`
	LastMessage     *messageJSON `json:"last_message,omitempty"`
}

func newHandoffJSON(r *handoff.Request, now time.Time) handoffJSON {
	out := handoffJSON{
		ID: r.ID, ClientID: r.ClientID, Platform: string(r.Chat.Platform), ClientName: r.ClientName,
		Phone: r.Phone, City: r.City, Tags: r.Tags, AssignedManager: r.AssignedManager,
		Scenario: r.Scenario, Step: r.Step, Reason: r.Reason, Question: r.Question, Status: string(r.Status),
		Manager: r.Manager, WaitingSeconds: int64(r.Waiting(now).Seconds()), CreatedAt: r.CreatedAt.UTC(),
		TakenAt: utc(r.TakenAt), FirstReplyAt: utc(r.FirstReplyAt), WaitingSince: utc(r.WaitingSince),
		LastActivityAt: utc(r.LastActivityAt), ClosedAt: utc(r.ClosedAt), CloseReason: r.CloseReason, ClosedBy: r.ClosedBy,
		ReturnError: r.ReturnError,
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if r.LastMessage != nil {
		m := newMessageJSON(r.LastMessage)
		out.LastMessage = &m
	}
	return out
}

// messageJSON is one transcript message as the API shows it (personal
// data: never logged).
type messageJSON struct {
	ID            int64     `json:"id"`
	Direction     string    `json:"direction"`
	AuthorKind    string    `json:"author_kind"`
	Author        string    `json:"author,omitempty"`
	Text          string    `json:"text"`
	Button        string    `json:"button,omitempty"`
	Media         string    `json:"media,omitempty"`
	PlatformMsgID string    `json:"platform_message_id,omitempty"`
	HandoffID     int64     `json:"handoff_id,omitempty"`
	Status        string    `json:"status,omitempty"`
	Error         string    `json:"error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

func newMessageJSON(m *crm.Message) messageJSON {
	return messageJSON{
		ID: m.ID, Direction: m.Direction, AuthorKind: m.AuthorKind, Author: m.Author, Text: m.Text,
		Button: m.Button, Media: m.Media, PlatformMsgID: m.PlatformMsgID, HandoffID: m.HandoffID,
		Status: m.Status, Error: m.Error, CreatedAt: m.CreatedAt.UTC(),
	}
}

// listHandoffs answers GET /api/handoffs?tab=&manager=&before=&limit=.
func (a *API) listHandoffs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := handoff.Filter{Tab: handoff.Tab(q.Get("tab")), Manager: q.Get("manager")}
	switch f.Tab {
	case "":
		f.Tab = handoff.TabWaiting
	case handoff.TabWaiting, handoff.TabMine, handoff.TabAll, handoff.TabClosed:
	default:
		return badInput("tab", fmt.Sprintf("tab must be waiting, mine, all or closed, got %q", f.Tab))
	}
	if f.Tab == handoff.TabMine && f.Manager == "" {
		return badInput("manager", "manager is required with tab=mine: whose requests to list")
	}
	var err error
	if f.Limit, err = pageLimit(q.Get("limit")); err != nil {
		return err
	}
	if f.BeforeID, err = beforeID(q.Get("before")); err != nil {
		return err
	}
	if f.BeforeID > 0 && f.Tab != handoff.TabClosed {
		return badInput("before", "before pages the closed tab only; the live tabs list at most 200 requests, longest waiting first")
	}
	rs, err := a.cfg.Handoffs.Inbox(r.Context(), f.Manager, f)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]handoffJSON, 0, len(rs))
	for i := range rs {
		out = append(out, newHandoffJSON(&rs[i], now))
	}
	body := map[string]any{"handoffs": out}
	if f.Tab == handoff.TabClosed && len(rs) == f.Limit {
		body["next_before"] = rs[len(rs)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// clientMessages answers GET /api/clients/{id}/messages?before=&limit=:
// the client's transcript, newest first.
func (a *API) clientMessages(w http.ResponseWriter, r *http.Request) error {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return badInput("id", fmt.Sprintf("client id must be a positive whole number, got %q", raw))
	}
	q := r.URL.Query()
	p := handoff.Page{}
	if p.Limit, err = pageLimit(q.Get("limit")); err != nil {
		return err
	}
	if p.BeforeID, err = beforeID(q.Get("before")); err != nil {
		return err
	}
	ms, err := a.cfg.Handoffs.Transcript(r.Context(), id, p)
	if err != nil {
		return err
	}
	out := make([]messageJSON, 0, len(ms))
	for i := range ms {
		out = append(out, newMessageJSON(&ms[i]))
	}
	body := map[string]any{"messages": out}
	if len(ms) == p.Limit {
		body["next_before"] = ms[len(ms)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// pageLimit reads a limit parameter: 1..maxHandoffPage, default
// defaultHandoffPage.
func pageLimit(raw string) (int, error) {
	if raw == "" {
		return defaultHandoffPage, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxHandoffPage {
		return 0, badInput("limit", fmt.Sprintf("limit must be 1..%d, got %q", maxHandoffPage, raw))
	}
	return n, nil
}

// beforeID reads a before parameter: a positive id, or none.
func beforeID(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, badInput("before", fmt.Sprintf("before must be a positive id (the last id of the previous page), got %q", raw))
	}
	return n, nil
}
