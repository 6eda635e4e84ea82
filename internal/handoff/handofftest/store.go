// Package handofftest holds an in-memory handoff.Store for tests of the
// hand-off's users (the Service, the Worker, the console, the team chat):
// the same semantics as internal/store/postgres's (claims with leases, one
// live request per client, *handoff.TakenError, handoff.ErrClosed), plus
// helpers that put clients, requests and client messages in place.
package handofftest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// Client is a client's card as the inbox shows it.
type Client struct {
	Chat            messenger.ChatKey
	Name            string
	Phone           string
	City            string
	Tags            []string
	AssignedManager string
}

type request struct {
	handoff.Request
	claimUntil *time.Time
	// team is the request's state in each team chat, by its store key.
	team map[string]*teamState
}

// teamState is a request's state in one team chat.
type teamState struct {
	announced   bool
	claimUntil  *time.Time
	forwardedID int64
}

// teamIn returns r's state in chat, made on first use.
func (r *request) teamIn(chat string) *teamState {
	if r.team == nil {
		r.team = map[string]*teamState{}
	}
	if r.team[chat] == nil {
		r.team[chat] = &teamState{}
	}
	return r.team[chat]
}

type message struct {
	crm.Message
	claimUntil *time.Time
}

type postKey struct{ chat, messageID string }

// Store is an in-memory handoff.Store; the zero value is not usable, call
// New. Safe for concurrent use.
type Store struct {
	// Err, when set, is called first by every Store method with the
	// method's name; a non-nil result is returned instead (to test how
	// callers meet a failing database).
	Err func(method string) error

	mu       sync.Mutex
	clients  map[int64]*Client
	requests map[int64]*request
	messages map[int64]*message
	posts    map[postKey]int64
	nextID   int64
}

var (
	_ handoff.Store              = (*Store)(nil)
	_ handoff.AnnouncingReporter = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store {
	return &Store{
		clients:  map[int64]*Client{},
		requests: map[int64]*request{},
		messages: map[int64]*message{},
		posts:    map[postKey]int64{},
	}
}

func (s *Store) id() int64 {
	s.nextID++
	return s.nextID
}

func (s *Store) fail(method string) error {
	if s.Err == nil {
		return nil
	}
	return s.Err(method)
}

// AddClient adds a client and returns its id.
func (s *Store) AddClient(c Client) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id()
	c.Tags = slices.Clone(c.Tags)
	s.clients[id] = &c
	return id
}

// AssignedManager returns the client's responsible manager.
func (s *Store) AssignedManager(clientID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[clientID]; c != nil {
		return c.AssignedManager
	}
	return ""
}

// AddRequest records h as a request of h.ClientID, created (and waiting)
// at h.CreatedAt, and returns its id and true; when the client has a live
// request already it adds nothing and returns that one's id and false.
// It panics on an unknown client (a broken test).
func (s *Store) AddRequest(h crm.Handoff) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients[h.ClientID] == nil {
		panic("handofftest: AddRequest for an unknown client")
	}
	if r := s.liveOf(h.ClientID); r != nil {
		return r.ID, false
	}
	at := h.CreatedAt
	r := &request{Request: handoff.Request{
		ID: s.id(), ClientID: h.ClientID, Scenario: h.Scenario, Step: h.Step, Reason: h.Reason,
		Question: h.Question, Status: handoff.StatusOpen, CreatedAt: at,
		WaitingSince: &at, LastActivityAt: &at,
	}}
	s.requests[r.ID] = r
	return r.ID, true
}

// AddInbound appends the client's message text at at to the transcript
// (belonging to the live request, if any) and stamps the live request as
// the inbound pipeline does (crm.HandoffActivity): waiting since at when
// answered, last activity at, the question when it had none. It returns
// the message's id.
func (s *Store) AddInbound(clientID int64, text string, at time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := crm.Message{ClientID: clientID, Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient,
		Text: text, CreatedAt: at}
	if r := s.liveOf(clientID); r != nil {
		m.HandoffID = r.ID
		if r.WaitingSince == nil {
			r.WaitingSince = &at
		}
		r.LastActivityAt = &at
		if r.Question == "" {
			r.Question = text
		}
	}
	return s.appendLocked(m)
}

// SetLastActivity sets request id's last activity (to test idle returns).
func (s *Store) SetLastActivity(id int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.requests[id]; r != nil {
		r.LastActivityAt = &at
	}
}

// Messages returns the client's whole transcript, oldest first.
func (s *Store) Messages(clientID int64) []crm.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []crm.Message
	for _, m := range s.messages {
		if m.ClientID == clientID {
			out = append(out, m.Message)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// answerable returns request id when a manager may still answer it (open
// or assigned): ErrNotFound or ErrClosed otherwise. The caller holds mu.
func (s *Store) answerable(id int64) (*request, error) {
	return s.requestIn(id, handoff.StatusOpen, handoff.StatusAssigned)
}

// requestIn returns request id when its status is one of statuses:
// ErrNotFound when there is none, ErrClosed when it is past them. The
// caller holds mu.
func (s *Store) requestIn(id int64, statuses ...handoff.Status) (*request, error) {
	r := s.requests[id]
	switch {
	case r == nil:
		return nil, handoff.ErrNotFound
	case !slices.Contains(statuses, r.Status):
		return nil, handoff.ErrClosed
	}
	return r, nil
}

func (s *Store) liveOf(clientID int64) *request {
	for _, r := range s.requests {
		if r.ClientID == clientID && r.Status.Live() {
			return r
		}
	}
	return nil
}

// view is r as the inbox shows it: with the client's summary and the
// chat's last message.
func (s *Store) view(r *request) handoff.Request {
	out := r.Request
	out.Tags = nil
	if c := s.clients[r.ClientID]; c != nil {
		out.Chat, out.ClientName, out.Phone, out.City = c.Chat, c.Name, c.Phone, c.City
		out.Tags, out.AssignedManager = slices.Clone(c.Tags), c.AssignedManager
	}
	var last *message
	for _, m := range s.messages {
		if m.ClientID == r.ClientID && (last == nil || m.ID > last.ID) {
			last = m
		}
	}
	if last != nil {
		lm := last.Message
		out.LastMessage = &lm
	}
	out.TakenAt = clone(r.TakenAt)
	out.FirstReplyAt = clone(r.FirstReplyAt)
	out.WaitingSince = clone(r.WaitingSince)
	out.LastActivityAt = clone(r.LastActivityAt)
	out.ClosedAt = clone(r.ClosedAt)
	out.AnnouncedAt = clone(r.AnnouncedAt)
	return out
}

func clone(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

func claimable(until *time.Time, now time.Time) bool { return until == nil || until.Before(now) }

// ListHandoffs implements handoff.RequestStore: the live tabs the
// longest-waiting first (answered last, then by id) after the cursor
// AfterID/AfterWaiting; the closed tab the newest first below BeforeID.
func (s *Store) ListHandoffs(ctx context.Context, f handoff.Filter) ([]handoff.Request, error) {
	if err := s.fail("ListHandoffs"); err != nil {
		return nil, err
	}
	switch f.Tab {
	case handoff.TabWaiting, handoff.TabAll, handoff.TabClosed, "":
	case handoff.TabMine:
		if f.Manager == "" {
			return nil, fmt.Errorf("handofftest: the %q tab needs a manager", f.Tab)
		}
	default:
		return nil, fmt.Errorf("handofftest: unknown inbox tab %q", f.Tab)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cursor := &request{Request: handoff.Request{ID: f.AfterID, WaitingSince: f.AfterWaiting}}
	var rs []*request
	for _, r := range s.requests {
		switch {
		case !inTab(r, f):
		case f.Tab == handoff.TabClosed && f.BeforeID > 0 && r.ID >= f.BeforeID:
		case f.Tab != handoff.TabClosed && f.AfterID > 0 && !waitingFirst(cursor, r):
		default:
			rs = append(rs, r)
		}
	}
	if f.Tab == handoff.TabClosed {
		sort.Slice(rs, func(i, j int) bool { return rs[i].ID > rs[j].ID })
	} else {
		sort.Slice(rs, func(i, j int) bool { return waitingFirst(rs[i], rs[j]) })
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	out := make([]handoff.Request, 0, min(limit, len(rs)))
	for _, r := range rs[:min(limit, len(rs))] {
		out = append(out, s.view(r))
	}
	return out, nil
}

func inTab(r *request, f handoff.Filter) bool {
	switch f.Tab {
	case handoff.TabWaiting:
		return r.Status == handoff.StatusOpen
	case handoff.TabMine:
		return r.Status.Live() && r.Manager == f.Manager
	case handoff.TabClosed:
		return r.Status == handoff.StatusClosed
	default:
		return r.Status.Live()
	}
}

// waitingFirst orders the longest-waiting first, answered ones after (by
// creation).
func waitingFirst(a, b *request) bool {
	switch {
	case a.WaitingSince != nil && b.WaitingSince != nil && !a.WaitingSince.Equal(*b.WaitingSince):
		return a.WaitingSince.Before(*b.WaitingSince)
	case a.WaitingSince != nil && b.WaitingSince == nil:
		return true
	case a.WaitingSince == nil && b.WaitingSince != nil:
		return false
	}
	return a.ID < b.ID
}

// CountHandoffs implements handoff.RequestStore.
func (s *Store) CountHandoffs(ctx context.Context, manager string, now time.Time, sla time.Duration) (handoff.Counts, error) {
	if err := s.fail("CountHandoffs"); err != nil {
		return handoff.Counts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var c handoff.Counts
	for _, r := range s.requests {
		if !r.Status.Live() {
			continue
		}
		c.All++
		if r.Status == handoff.StatusOpen {
			c.Waiting++
		}
		if manager != "" && r.Manager == manager {
			c.Mine++
		}
		if overSLA(r, now, sla) {
			c.OverSLA++
		}
	}
	return c, nil
}

func overSLA(r *request, now time.Time, sla time.Duration) bool {
	return r.WaitingSince != nil && r.WaitingSince.Before(now.Add(-sla))
}

// GetHandoff implements handoff.RequestStore.
func (s *Store) GetHandoff(ctx context.Context, id int64) (handoff.Request, error) {
	if err := s.fail("GetHandoff"); err != nil {
		return handoff.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[id]
	if r == nil {
		return handoff.Request{}, handoff.ErrNotFound
	}
	return s.view(r), nil
}

// LiveHandoffOf implements handoff.RequestStore.
func (s *Store) LiveHandoffOf(ctx context.Context, clientID int64) (handoff.Request, error) {
	if err := s.fail("LiveHandoffOf"); err != nil {
		return handoff.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveOf(clientID)
	if r == nil {
		return handoff.Request{}, handoff.ErrNotFound
	}
	return s.view(r), nil
}

// LiveHandoff implements handoff.RequestStore.
func (s *Store) LiveHandoff(ctx context.Context, key messenger.ChatKey) (bool, error) {
	if err := s.fail("LiveHandoff"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.clients {
		if c.Chat == key {
			return s.liveOf(id) != nil, nil
		}
	}
	return false, nil
}

// TakeHandoff implements handoff.RequestStore.
func (s *Store) TakeHandoff(ctx context.Context, id int64, manager string, now time.Time) (handoff.Request, error) {
	if err := s.fail("TakeHandoff"); err != nil {
		return handoff.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.answerable(id)
	switch {
	case err != nil:
		return handoff.Request{}, err
	case r.Manager != "" && r.Manager != manager:
		return handoff.Request{}, &handoff.TakenError{By: r.Manager}
	}
	if r.Manager == "" {
		at := now
		r.Manager, r.Status, r.TakenAt = manager, handoff.StatusAssigned, &at
		if c := s.clients[r.ClientID]; c != nil {
			c.AssignedManager = manager
		}
	}
	return s.view(r), nil
}

// FirstReplyTimes implements handoff.RequestStore.
func (s *Store) FirstReplyTimes(ctx context.Context, since time.Time) ([]handoff.ReplyTime, error) {
	if err := s.fail("FirstReplyTimes"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []handoff.ReplyTime
	for _, r := range s.requests {
		if r.FirstReplyAt != nil && !r.FirstReplyAt.Before(since) {
			out = append(out, handoff.ReplyTime{Manager: r.Manager, Wait: r.FirstReplyAt.Sub(r.CreatedAt)})
		}
	}
	return out, nil
}

// QueueReply implements handoff.ReplyStore.
func (s *Store) QueueReply(ctx context.Context, id int64, m crm.Message) (crm.Message, error) {
	if err := s.fail("QueueReply"); err != nil {
		return crm.Message{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.answerable(id)
	if err != nil {
		return crm.Message{}, err
	}
	m.ClientID, m.HandoffID = r.ClientID, r.ID
	m.Direction, m.AuthorKind, m.Status, m.Error = crm.DirectionOut, crm.AuthorManager, crm.MessageQueued, ""
	m.ID = s.appendLocked(m)
	return s.messages[m.ID].Message, nil
}

// ClaimReplies implements handoff.ReplyStore.
func (s *Store) ClaimReplies(ctx context.Context, now time.Time, lease time.Duration, limit int, only int64) ([]handoff.Outgoing, error) {
	if err := s.fail("ClaimReplies"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []*message
	for _, m := range s.messages {
		if only > 0 && m.ID != only {
			continue
		}
		if m.Status == crm.MessageQueued || (m.Status == crm.MessageSending && claimable(m.claimUntil, now)) {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	if limit > 0 && len(ms) > limit {
		ms = ms[:limit]
	}
	out := make([]handoff.Outgoing, 0, len(ms))
	until := now.Add(lease)
	for _, m := range ms {
		m.Status, m.claimUntil = crm.MessageSending, &until
		o := handoff.Outgoing{Message: m.Message}
		if c := s.clients[m.ClientID]; c != nil {
			o.Chat = c.Chat
		}
		out = append(out, o)
	}
	return out, nil
}

// FinishReply implements handoff.ReplyStore.
func (s *Store) FinishReply(ctx context.Context, msgID int64, status, platformMsgID, reason string, now time.Time) error {
	if err := s.fail("FinishReply"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[msgID]
	if m == nil {
		return handoff.ErrNotFound
	}
	m.Status, m.claimUntil = status, nil
	switch status {
	case crm.MessageSent:
		m.PlatformMsgID, m.Error = platformMsgID, ""
		if r := s.requests[m.HandoffID]; r != nil {
			at := now
			if r.FirstReplyAt == nil {
				r.FirstReplyAt = &at
			}
			r.WaitingSince, r.LastActivityAt = nil, &at
		}
	case crm.MessageFailed:
		m.Error = reason
	}
	return nil
}

// GetMessage implements handoff.ReplyStore.
func (s *Store) GetMessage(ctx context.Context, msgID int64) (crm.Message, error) {
	if err := s.fail("GetMessage"); err != nil {
		return crm.Message{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[msgID]
	if m == nil {
		return crm.Message{}, handoff.ErrNotFound
	}
	return m.Message, nil
}

// RequestReturn implements handoff.ReturnStore.
func (s *Store) RequestReturn(ctx context.Context, id int64, by, reason, scenario string, now time.Time) error {
	if err := s.fail("RequestReturn"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.answerable(id)
	if err != nil {
		return err
	}
	r.Status, r.CloseReason, r.ClosedBy, r.ReturnScenario, r.claimUntil = handoff.StatusReturning, reason, by, scenario, nil
	r.ReturnAttempts, r.ReturnError = 0, ""
	return nil
}

// ClaimReturns implements handoff.ReturnStore.
func (s *Store) ClaimReturns(ctx context.Context, now time.Time, lease time.Duration, idleBefore time.Time, limit int) ([]handoff.Request, error) {
	if err := s.fail("ClaimReturns"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []*request
	for _, r := range s.requests {
		switch r.Status {
		case handoff.StatusReturning:
			if claimable(r.claimUntil, now) {
				rs = append(rs, r)
			}
		case handoff.StatusOpen, handoff.StatusAssigned:
			last := r.CreatedAt
			if r.LastActivityAt != nil {
				last = *r.LastActivityAt
			}
			if !idleBefore.IsZero() && last.Before(idleBefore) {
				rs = append(rs, r)
			}
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	until := now.Add(lease)
	out := make([]handoff.Request, 0, len(rs))
	for _, r := range rs {
		if r.Status != handoff.StatusReturning {
			r.Status, r.CloseReason, r.ClosedBy, r.ReturnScenario = handoff.StatusReturning, handoff.CloseIdle, "", ""
			r.ReturnAttempts, r.ReturnError = 0, ""
		}
		u := until
		r.claimUntil = &u
		out = append(out, s.view(r))
	}
	return out, nil
}

// CloseHandoff implements handoff.ReturnStore.
func (s *Store) CloseHandoff(ctx context.Context, id int64, now time.Time) error {
	if err := s.fail("CloseHandoff"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[id]
	if r == nil {
		return handoff.ErrNotFound
	}
	if r.Status == handoff.StatusClosed {
		return nil
	}
	at := now
	r.Status, r.ClosedAt, r.claimUntil, r.WaitingSince = handoff.StatusClosed, &at, nil, nil
	return nil
}

// PostponeReturn implements handoff.ReturnStore.
func (s *Store) PostponeReturn(ctx context.Context, id int64, attempts int, why string, next time.Time) error {
	if err := s.fail("PostponeReturn"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.requestIn(id, handoff.StatusReturning)
	if err != nil {
		return err
	}
	at := next
	r.ReturnAttempts, r.ReturnError, r.claimUntil = attempts, why, &at
	return nil
}

// FailReturn implements handoff.ReturnStore.
func (s *Store) FailReturn(ctx context.Context, id int64, why string, note crm.Message, now time.Time) error {
	if err := s.fail("FailReturn"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.requests[id]; r != nil && r.Status == handoff.StatusClosed {
		return nil
	}
	r, err := s.requestIn(id, handoff.StatusReturning)
	if err != nil {
		return err
	}
	at := now
	r.Status, r.ClosedAt, r.claimUntil, r.WaitingSince = handoff.StatusClosed, &at, nil, nil
	r.CloseReason, r.ReturnError = handoff.CloseReturnFailed, why
	note.ClientID, note.HandoffID = r.ClientID, r.ID
	s.appendLocked(note)
	return nil
}

// OpenHandoffs implements handoff.ReturnStore.
func (s *Store) OpenHandoffs(ctx context.Context, now time.Time, sla time.Duration) (open, waiting, over int, err error) {
	if err := s.fail("OpenHandoffs"); err != nil {
		return 0, 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		if !r.Status.Live() {
			continue
		}
		open++
		if r.Status == handoff.StatusOpen {
			waiting++
		}
		if overSLA(r, now, sla) {
			over++
		}
	}
	return open, waiting, over, nil
}

// Transcript implements handoff.TranscriptStore.
func (s *Store) Transcript(ctx context.Context, clientID int64, p handoff.Page) ([]crm.Message, error) {
	if err := s.fail("Transcript"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []crm.Message
	for _, m := range s.messages {
		switch {
		case m.ClientID != clientID:
		case p.AfterID > 0:
			if m.ID > p.AfterID {
				out = append(out, m.Message)
			}
		case p.BeforeID <= 0 || m.ID < p.BeforeID:
			out = append(out, m.Message)
		}
	}
	if p.AfterID > 0 {
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	} else {
		sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	return out[:min(limit, 200, len(out))], nil
}

// AppendMessage implements handoff.TranscriptStore.
func (s *Store) AppendMessage(ctx context.Context, m crm.Message) (int64, error) {
	if err := s.fail("AppendMessage"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendLocked(m), nil
}

func (s *Store) appendLocked(m crm.Message) int64 {
	m.ID = s.id()
	m.Text = capText(m.Text)
	s.messages[m.ID] = &message{Message: m}
	return m.ID
}

// capText cuts text to crm.MaxMessageText bytes at a rune boundary.
func capText(text string) string {
	if len(text) <= crm.MaxMessageText {
		return text
	}
	cut := crm.MaxMessageText
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}

// PurgeMessages implements handoff.TranscriptStore.
func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := s.fail("PurgeMessages"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var old []int64
	for id, m := range s.messages {
		if m.CreatedAt.Before(before) {
			old = append(old, id)
		}
	}
	slices.Sort(old)
	if limit > 0 && len(old) > limit {
		old = old[:limit]
	}
	for _, id := range old {
		delete(s.messages, id)
	}
	return int64(len(old)), nil
}

// ClaimAnnouncements implements handoff.TeamChatStore.
func (s *Store) ClaimAnnouncements(ctx context.Context, chat string, now time.Time, lease time.Duration, limit int) ([]handoff.Request, error) {
	if err := s.fail("ClaimAnnouncements"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []*request
	for _, r := range s.requests {
		live := r.Status == handoff.StatusOpen || r.Status == handoff.StatusAssigned
		if ts := r.teamIn(chat); live && !ts.announced && claimable(ts.claimUntil, now) {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	out := make([]handoff.Request, 0, len(rs))
	for _, r := range rs {
		u := now.Add(lease)
		r.teamIn(chat).claimUntil = &u
		out = append(out, s.view(r))
	}
	return out, nil
}

// Announcing implements handoff.AnnouncingReporter.
func (s *Store) Announcing(ctx context.Context, chat string, now time.Time) (bool, error) {
	if err := s.fail("Announcing"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		live := r.Status == handoff.StatusOpen || r.Status == handoff.StatusAssigned
		if ts := r.team[chat]; live && ts != nil && !ts.announced && ts.claimUntil != nil && !ts.claimUntil.Before(now) {
			return true, nil
		}
	}
	return false, nil
}

// MarkAnnounced implements handoff.TeamChatStore.
func (s *Store) MarkAnnounced(ctx context.Context, id int64, chat, messageID string, now time.Time) error {
	if err := s.fail("MarkAnnounced"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[id]
	if r == nil {
		return handoff.ErrNotFound
	}
	if r.AnnouncedAt == nil {
		at := now
		r.AnnouncedAt = &at
	}
	ts := r.teamIn(chat)
	ts.announced, ts.claimUntil = true, nil
	s.posts[postKey{chat, messageID}] = id
	return nil
}

// AddPost implements handoff.TeamChatStore.
func (s *Store) AddPost(ctx context.Context, id int64, chat, messageID string) error {
	if err := s.fail("AddPost"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requests[id] == nil {
		return handoff.ErrNotFound
	}
	s.posts[postKey{chat, messageID}] = id
	return nil
}

// HandoffByPost implements handoff.TeamChatStore.
func (s *Store) HandoffByPost(ctx context.Context, chat, messageID string) (handoff.Request, error) {
	if err := s.fail("HandoffByPost"); err != nil {
		return handoff.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.posts[postKey{chat, messageID}]
	if !ok || s.requests[id] == nil {
		return handoff.Request{}, handoff.ErrNotFound
	}
	return s.view(s.requests[id]), nil
}

// PendingForwards implements handoff.TeamChatStore: the client's messages
// of the request itself (its handoff_id) newer than its forwarded mark in
// chat.
func (s *Store) PendingForwards(ctx context.Context, chat string, limit int) ([]handoff.Forward, error) {
	if err := s.fail("PendingForwards"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []handoff.Forward
	ids := make([]int64, 0, len(s.requests))
	for id := range s.requests {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := s.requests[id]
		ts := r.teamIn(chat)
		if !r.Status.Live() || !ts.announced {
			continue
		}
		var ms []crm.Message
		for _, m := range s.messages {
			if m.HandoffID == r.ID && m.Direction == crm.DirectionIn && m.ID > ts.forwardedID {
				ms = append(ms, m.Message)
			}
		}
		if len(ms) == 0 {
			continue
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
		out = append(out, handoff.Forward{Request: s.view(r), From: ts.forwardedID, Messages: ms[:min(20, len(ms))]})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// AdvanceForward implements handoff.TeamChatStore.
func (s *Store) AdvanceForward(ctx context.Context, id int64, chat string, from, to int64) (bool, error) {
	if err := s.fail("AdvanceForward"); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[id]
	if r == nil {
		return false, handoff.ErrNotFound
	}
	ts := r.teamIn(chat)
	if ts.forwardedID != from {
		return false, nil
	}
	ts.forwardedID = to
	return true, nil
}
