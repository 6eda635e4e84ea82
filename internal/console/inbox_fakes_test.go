package console

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// fakeHandoffs is a hand-written hand-off service: requests by id,
// transcripts by client, the take/reply/return rules of handoff.Service in
// a few lines; it remembers the actors of what it did.
type fakeHandoffs struct {
	mu       sync.Mutex
	requests map[int64]*handoff.Request
	messages map[int64][]crm.Message // by client, oldest first
	nextMsg  int64
	sla      time.Duration
	// failWith, when set, makes the next reply fail with this reason.
	failWith string
	// beforeTake runs (unlocked) before a Take: a race's other manager.
	beforeTake func()
	actions    []string // "actor action id [scenario]"
	err        error
}

func newFakeHandoffs() *fakeHandoffs {
	return &fakeHandoffs{requests: map[int64]*handoff.Request{}, messages: map[int64][]crm.Message{}, nextMsg: 1000, sla: 10 * time.Minute}
}

// sampleHandoffs: request 1 (Анна, waiting 25 min: over the SLA), 2 (Олег,
// waiting 3 min), 3 (Игорь, taken by "petr"), 4 (closed).
func sampleHandoffs() *fakeHandoffs {
	f := newFakeHandoffs()
	now := time.Now()
	f.add(handoff.Request{ID: 1, ClientID: 11, ClientName: "Анна Петровна", Phone: "+79990001122", City: "Самара",
		Tags: []string{"vip"}, Status: handoff.StatusOpen, Scenario: "portrait", Step: "name", Question: "У меня вопрос по заказу"}, now.Add(-25*time.Minute),
		crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot, Text: "Как вас зовут?"},
		crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "У меня вопрос по заказу"})
	f.add(handoff.Request{ID: 2, ClientID: 12, ClientName: "Олег", City: "Санкт-Петербург", Status: handoff.StatusOpen}, now.Add(-3*time.Minute),
		crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "Позовите человека"})
	f.add(handoff.Request{ID: 3, ClientID: 13, ClientName: "Игорь", Status: handoff.StatusAssigned, Manager: "petr"}, now.Add(-time.Hour),
		crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "Нужен счёт"})
	closed := now.Add(-2 * time.Hour)
	f.add(handoff.Request{ID: 4, ClientID: 14, ClientName: "Мария", Status: handoff.StatusClosed, Manager: "manager",
		ClosedAt: &closed, CloseReason: handoff.CloseManager, ClosedBy: "manager"}, now.Add(-3*time.Hour),
		crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "Спасибо"})
	return f
}

// add stores r created (and waiting since) at, with its chat's messages.
func (f *fakeHandoffs) add(r handoff.Request, at time.Time, msgs ...crm.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.CreatedAt = at
	if r.Chat.Platform == "" {
		r.Chat = messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint(5000 + r.ClientID)}
	}
	if r.Status.Live() {
		w := at
		r.WaitingSince = &w
	}
	f.requests[r.ID] = &r
	for i, m := range msgs {
		m.CreatedAt = at.Add(time.Duration(i) * time.Second)
		f.appendLocked(r.ClientID, m)
	}
}

func (f *fakeHandoffs) appendLocked(client int64, m crm.Message) crm.Message {
	f.nextMsg++
	m.ID, m.ClientID = f.nextMsg, client
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	f.messages[client] = append(f.messages[client], m)
	return m
}

// clientSays adds a client's message to request id's chat (a new message
// arriving while the page is open).
func (f *fakeHandoffs) clientSays(id int64, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests[id]
	f.appendLocked(r.ClientID, crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: text, HandoffID: id})
}

func (f *fakeHandoffs) withLast(r handoff.Request) handoff.Request {
	if ms := f.messages[r.ClientID]; len(ms) > 0 {
		m := ms[len(ms)-1]
		r.LastMessage = &m
	}
	r.Tags = slices.Clone(r.Tags)
	return r
}

func (f *fakeHandoffs) Inbox(_ context.Context, manager string, flt handoff.Filter) ([]handoff.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []handoff.Request
	for _, r := range f.requests {
		ok := false
		switch flt.Tab {
		case handoff.TabWaiting:
			ok = r.Status == handoff.StatusOpen
		case handoff.TabMine:
			ok = r.Status.Live() && r.Manager == manager
		case handoff.TabAll:
			ok = r.Status.Live()
		case handoff.TabClosed:
			ok = r.Status == handoff.StatusClosed
		}
		if ok && (flt.BeforeID == 0 || r.ID < flt.BeforeID) {
			out = append(out, f.withLast(*r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if flt.Tab != handoff.TabClosed {
		sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	}
	if flt.Limit > 0 && len(out) > flt.Limit {
		out = out[:flt.Limit]
	}
	return out, nil
}

func (f *fakeHandoffs) Counts(_ context.Context, manager string) (handoff.Counts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return handoff.Counts{}, f.err
	}
	var c handoff.Counts
	now := time.Now()
	for _, r := range f.requests {
		if !r.Status.Live() {
			continue
		}
		c.All++
		if r.Status == handoff.StatusOpen {
			c.Waiting++
		}
		if r.Manager == manager {
			c.Mine++
		}
		if r.Waiting(now) > f.sla {
			c.OverSLA++
		}
	}
	return c, nil
}

func (f *fakeHandoffs) Get(_ context.Context, id int64) (handoff.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return handoff.Request{}, f.err
	}
	r, ok := f.requests[id]
	if !ok {
		return handoff.Request{}, fmt.Errorf("get request %d: %w", id, handoff.ErrNotFound)
	}
	return f.withLast(*r), nil
}

func (f *fakeHandoffs) LiveOf(_ context.Context, client int64) (handoff.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		if r.ClientID == client && r.Status.Live() {
			return *r, nil
		}
	}
	return handoff.Request{}, handoff.ErrNotFound
}

func (f *fakeHandoffs) Transcript(_ context.Context, client int64, p handoff.Page) ([]crm.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	ms := f.messages[client]
	var out []crm.Message
	for i := len(ms) - 1; i >= 0; i-- {
		if p.BeforeID == 0 || ms[i].ID < p.BeforeID {
			out = append(out, ms[i])
		}
	}
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
	}
	return out, nil
}

func (f *fakeHandoffs) note(ctx context.Context, action string, id int64, extra string) {
	actor, _ := account.ActorIn(ctx)
	f.actions = append(f.actions, fmt.Sprintf("%s %s %d%s", actor, action, id, extra))
}

func (f *fakeHandoffs) Take(ctx context.Context, id int64, manager string) (handoff.Request, error) {
	if f.beforeTake != nil {
		f.beforeTake()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	switch {
	case !ok:
		return handoff.Request{}, handoff.ErrNotFound
	case !r.Status.Live() || r.Status == handoff.StatusReturning:
		return handoff.Request{}, handoff.ErrClosed
	case r.Manager != "" && r.Manager != manager:
		return handoff.Request{}, &handoff.TakenError{By: r.Manager}
	}
	r.Manager, r.Status, r.AssignedManager = manager, handoff.StatusAssigned, manager
	f.note(ctx, "take", id, "")
	return *r, nil
}

func (f *fakeHandoffs) Reply(ctx context.Context, id int64, manager, text string, _ time.Duration) (crm.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	switch {
	case !ok:
		return crm.Message{}, handoff.ErrNotFound
	case r.Status != handoff.StatusOpen && r.Status != handoff.StatusAssigned:
		return crm.Message{}, handoff.ErrClosed
	case r.Manager != "" && r.Manager != manager:
		return crm.Message{}, &handoff.TakenError{By: r.Manager}
	case len(text) == 0:
		return crm.Message{}, handoff.ErrEmpty
	case utf8.RuneCountInString(text) > 4096:
		return crm.Message{}, &handoff.TooLongError{Platform: r.Chat.Platform, Len: utf8.RuneCountInString(text), Max: 4096}
	}
	r.Manager, r.Status = manager, handoff.StatusAssigned
	m := crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorManager, Author: manager, Text: text,
		HandoffID: id, Status: crm.MessageSent}
	if f.failWith != "" {
		m.Status, m.Error, f.failWith = crm.MessageFailed, f.failWith, ""
	} else {
		r.WaitingSince = nil
	}
	m = f.appendLocked(r.ClientID, m)
	f.note(ctx, "reply", id, "")
	return m, nil
}

func (f *fakeHandoffs) Return(ctx context.Context, id int64, by, scenario string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	switch {
	case !ok:
		return handoff.ErrNotFound
	case r.Status != handoff.StatusOpen && r.Status != handoff.StatusAssigned:
		return handoff.ErrClosed
	}
	r.Status, r.ReturnScenario, r.ClosedBy = handoff.StatusReturning, scenario, by
	f.note(ctx, "return", id, " "+scenario)
	return nil
}

func (f *fakeHandoffs) Stats(_ context.Context, since time.Time) (handoff.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return handoff.Stats{}, f.err
	}
	st := handoff.Stats{Since: since, Overall: handoff.Quantiles{Count: 12, P50: 4 * time.Minute, P90: 17 * time.Minute}}
	now := time.Now()
	for _, r := range f.requests {
		if r.Status.Live() {
			st.Open++
			if r.Status == handoff.StatusOpen {
				st.Waiting++
			}
			if r.Waiting(now) > f.sla {
				st.OverSLA++
			}
		}
	}
	return st, nil
}

func (f *fakeHandoffs) SLA() time.Duration { return f.sla }

func (f *fakeHandoffs) done() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.actions)
}
