package dialog

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// memStates is an in-memory StateStore with compare-and-set.
type memStates struct {
	mu sync.Mutex
	st map[messenger.ChatKey]StoredState
	// raceAfterLoad simulates another worker saving between our load and save.
	raceAfterLoad bool
}

func newMemStates() *memStates {
	return &memStates{st: map[messenger.ChatKey]StoredState{}}
}

func (m *memStates) LoadState(_ context.Context, key messenger.ChatKey) (StoredState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st[key]
	if m.raceAfterLoad {
		cur := m.st[key]
		cur.Rev++
		m.st[key] = cur
	}
	return st, nil
}

func (m *memStates) SaveState(_ context.Context, key messenger.ChatKey, st StoredState) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st[key].Rev != st.Rev {
		return 0, fmt.Errorf("%s: %w", key, ErrConflict)
	}
	if st.Data == nil && st.Update == "" {
		delete(m.st, key)
		return 0, nil
	}
	st.Rev++
	m.st[key] = st
	return st.Rev, nil
}

// confirm drops the outbox of update id, as the pipeline's finish does.
func (m *memStates) confirm(key messenger.ChatKey, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.st[key]; ok && st.Update == id {
		st.Outbox = nil
		m.st[key] = st
	}
}

// memClients is an in-memory ClientStore applying the changes the handler tests look at.
type memClients struct {
	mu      sync.Mutex
	clients map[messenger.ChatKey]*crm.Client
	answers []crm.Answer
	updates []string // the UpdateID of every RecordChanges, in order
	// handoffs, activity and messages are the recorded hand-off requests,
	// client messages during a hand-off and transcript rows.
	handoffs []crm.Handoff
	activity []crm.HandoffActivity
	messages []crm.Message
	// failWith refuses changes for which it returns an error.
	failWith func(ch *crm.Changes) error
	fail     error
	gets     int
}

func newMemClients() *memClients { return &memClients{clients: map[messenger.ChatKey]*crm.Client{}} }

func (m *memClients) GetClient(_ context.Context, key messenger.ChatKey) (*crm.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	c, ok := m.clients[key]
	if !ok {
		return nil, nil
	}
	cp := *c
	cp.Tags, cp.Attributes = slices.Clone(c.Tags), maps.Clone(c.Attributes)
	return &cp, nil
}

func (m *memClients) RecordChanges(_ context.Context, key messenger.ChatKey, ch *crm.Changes) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if m.failWith != nil {
		if err := m.failWith(ch); err != nil {
			return err
		}
	}
	m.updates = append(m.updates, ch.UpdateID)
	m.messages = append(m.messages, ch.Messages...)
	if ch.Handoff != nil {
		m.handoffs = append(m.handoffs, *ch.Handoff)
	}
	if ch.HandoffActivity != nil {
		m.activity = append(m.activity, *ch.HandoffActivity)
	}
	if ch.Forget {
		delete(m.clients, key)
		return nil
	}
	c, ok := m.clients[key]
	if !ok {
		c = &crm.Client{Platform: key.Platform, PlatformUserID: key.ID, Attributes: map[string]any{}}
		m.clients[key] = c
	}
	if ch.Profile != nil && c.FirstName == "" {
		c.FirstName = ch.Profile.FirstName
	}
	for _, fv := range ch.Set {
		switch fv.Field {
		case "first_name":
			c.FirstName = fv.Value.(string)
		case "city":
			c.City = fv.Value.(string)
		case "phone":
			c.Phone = fv.Value.(string)
		case "age":
			v := fv.Value.(int)
			c.Age = &v
		}
	}
	for _, fv := range ch.Attributes {
		c.Attributes[fv.Field] = fv.Value
	}
	for _, t := range ch.AddTags {
		if !c.HasTag(t) {
			c.Tags = append(c.Tags, t)
		}
	}
	if ch.Source != "" && c.Source == "" {
		c.Source = ch.Source
	}
	if ch.Consent {
		c.Subscribed, c.ConsentAt = true, &ch.Now
	}
	if ch.Unsubscribe {
		c.Subscribed, c.UnsubscribedAt = false, &ch.Now
	}
	if ch.Blocked {
		c.BlockedAt = &ch.Now
	}
	if ch.Unblocked {
		c.BlockedAt = nil
	}
	if ch.Handoff != nil {
		c.HandoffRequestedAt = &ch.Now
	}
	m.answers = append(m.answers, ch.Answers...)
	c.LastSeenAt = ch.Now
	return nil
}

// memCatalog is a Catalog over fixed graphs.
type memCatalog struct{ graphs map[string]*scenario.Graph }

func (m *memCatalog) Get(id string) (*scenario.Graph, bool) { g, ok := m.graphs[id]; return g, ok }

func (m *memCatalog) All() []*scenario.Graph {
	out := make([]*scenario.Graph, 0, len(m.graphs))
	for _, id := range slices.Sorted(maps.Keys(m.graphs)) {
		out = append(out, m.graphs[id])
	}
	return out
}

func (m *memCatalog) Version(_ context.Context, id, version string) (*scenario.Graph, error) {
	if g, ok := m.graphs[id]; ok && g.Version == version {
		return g, nil
	}
	return nil, fmt.Errorf("no version %s@%s", id, version)
}

func (m *memCatalog) find(match func(*scenario.Graph) bool) (*scenario.Graph, bool) {
	for _, id := range slices.Sorted(maps.Keys(m.graphs)) {
		if match(m.graphs[id]) {
			return m.graphs[id], true
		}
	}
	return nil, false
}

func (m *memCatalog) ByCommand(cmd string) (*scenario.Graph, bool) {
	return m.find(func(g *scenario.Graph) bool { return slices.Contains(g.Triggers.Commands, cmd) })
}

func (m *memCatalog) ByKeyword(text string) (*scenario.Graph, bool) {
	return m.find(func(g *scenario.Graph) bool {
		return slices.ContainsFunc(g.Triggers.Keywords, func(k string) bool { return strings.EqualFold(k, strings.TrimSpace(text)) })
	})
}

func (m *memCatalog) ByPayload(p string) (*scenario.Graph, bool) {
	return m.find(func(g *scenario.Graph) bool {
		return slices.ContainsFunc(g.Triggers.Payloads, func(pat string) bool {
			prefix, wild := strings.CutSuffix(pat, "*")
			return pat == p || wild && strings.HasPrefix(p, prefix)
		})
	})
}

// recSender records what was sent.
type recSender struct {
	mu   sync.Mutex
	msgs []messenger.OutMessage
	keys []string // idempotency key of each send
	err  error
	// okFirst sends succeed before err applies.
	okFirst int
}

func (s *recSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil && s.okFirst == 0 {
		return messenger.Sent{}, s.err
	}
	if s.okFirst > 0 {
		s.okFirst--
	}
	s.msgs = append(s.msgs, msg)
	key, _ := messenger.IdempotencyKey(ctx)
	s.keys = append(s.keys, key)
	return messenger.Sent{MessageID: fmt.Sprint(len(s.msgs))}, nil
}

func (s *recSender) take() []messenger.OutMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.msgs
	s.msgs = nil
	return out
}
