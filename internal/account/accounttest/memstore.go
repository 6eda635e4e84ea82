// Package accounttest holds a hand-written in-memory account.Store and the
// conformance suite every account.Store passes (the in-memory one and
// internal/store/postgres on SQLite and PostgreSQL).
package accounttest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// MemStore is an in-memory account.Store for tests.
type MemStore struct {
	mu       sync.Mutex
	nextID   int64
	users    map[string]memUser
	sessions map[string]account.Session
	failures map[string]account.Failures
	audit    []account.AuditEntry
	links    []account.Link
	codes    map[string]memCode
	// Touches counts TouchSession calls.
	Touches int
}

type memUser struct {
	u    account.User
	hash string
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{users: map[string]memUser{}, sessions: map[string]account.Session{},
		failures: map[string]account.Failures{}, codes: map[string]memCode{}}
}

// CreateUser implements account.UserStore.
func (m *MemStore) CreateUser(_ context.Context, u account.User, hash string) (account.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[u.Name]; ok {
		return account.User{}, account.ErrUserExists
	}
	m.nextID++
	u.ID = m.nextID
	m.users[u.Name] = memUser{u, hash}
	return u, nil
}

// UserByName implements account.UserStore.
func (m *MemStore) UserByName(_ context.Context, name string) (account.User, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mu, ok := m.users[name]
	if !ok {
		return account.User{}, "", account.ErrNoUser
	}
	return mu.u, mu.hash, nil
}

// ListUsers implements account.UserStore.
func (m *MemStore) ListUsers(context.Context) ([]account.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []account.User
	for _, mu := range m.users {
		out = append(out, mu.u)
	}
	slices.SortFunc(out, func(a, b account.User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SetPasswordHash implements account.UserStore.
func (m *MemStore) SetPasswordHash(_ context.Context, name, hash string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mu, ok := m.users[name]
	if !ok {
		return account.ErrNoUser
	}
	mu.hash, mu.u.PasswordChangedAt = hash, at
	m.users[name] = mu
	m.endSessions(mu.u.ID)
	return nil
}

// SetRole implements account.UserStore.
func (m *MemStore) SetRole(_ context.Context, name string, role account.Role) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mu, ok := m.users[name]
	if !ok {
		return account.ErrNoUser
	}
	if mu.u.Role == account.RoleAdmin && role != account.RoleAdmin && m.admins() == 1 {
		return account.ErrLastAdmin
	}
	mu.u.Role = role
	m.users[name] = mu
	return nil
}

func (m *MemStore) admins() int {
	n := 0
	for _, o := range m.users {
		if o.u.Role == account.RoleAdmin {
			n++
		}
	}
	return n
}

// DeleteUser implements account.UserStore.
func (m *MemStore) DeleteUser(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mu, ok := m.users[name]
	if !ok {
		return account.ErrNoUser
	}
	if mu.u.Role == account.RoleAdmin && m.admins() == 1 {
		return account.ErrLastAdmin
	}
	delete(m.users, name)
	m.endSessions(mu.u.ID)
	m.dropLinks(name)
	return nil
}

func (m *MemStore) endSessions(userID int64) {
	for k, s := range m.sessions {
		if s.UserID == userID {
			delete(m.sessions, k)
		}
	}
}

// CreateSession implements account.SessionStore.
func (m *MemStore) CreateSession(_ context.Context, h []byte, s account.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[string(h)] = s
	return nil
}

// SessionByHash implements account.SessionStore.
func (m *MemStore) SessionByHash(_ context.Context, h []byte) (account.Session, account.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[string(h)]
	if !ok {
		return account.Session{}, account.User{}, account.ErrNoSession
	}
	for _, mu := range m.users {
		if mu.u.ID == s.UserID {
			return s, mu.u, nil
		}
	}
	return account.Session{}, account.User{}, account.ErrNoSession
}

// TouchSession implements account.SessionStore.
func (m *MemStore) TouchSession(_ context.Context, h []byte, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Touches++
	if s, ok := m.sessions[string(h)]; ok {
		s.LastSeenAt = at
		m.sessions[string(h)] = s
	}
	return nil
}

// DeleteSession implements account.SessionStore.
func (m *MemStore) DeleteSession(_ context.Context, h []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, string(h))
	return nil
}

// DeleteIdleSessions implements account.SessionStore.
func (m *MemStore) DeleteIdleSessions(_ context.Context, idleSince time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.sessions {
		if s.LastSeenAt.Before(idleSince) {
			delete(m.sessions, k)
		}
	}
	return nil
}

// LoginFailures implements account.SessionStore.
func (m *MemStore) LoginFailures(_ context.Context, keys []string) ([]account.Failures, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []account.Failures
	for _, k := range keys {
		if f, ok := m.failures[k]; ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// AddLoginFailure implements account.SessionStore.
func (m *MemStore) AddLoginFailure(_ context.Context, key string, at, resetBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.failures[key]
	if f.Last.Before(resetBefore) {
		f.Count = 0
	}
	f.Key, f.Count, f.Last = key, f.Count+1, at
	m.failures[key] = f
	return nil
}

// ClearLoginFailures implements account.SessionStore.
func (m *MemStore) ClearLoginFailures(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failures, key)
	return nil
}

// AppendAudit implements account.AuditStore.
func (m *MemStore) AppendAudit(_ context.Context, e account.AuditEntry) (account.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.audit) + 1)
	m.audit = append(m.audit, e)
	return e, nil
}

// AuditEntries implements account.AuditStore.
func (m *MemStore) AuditEntries(_ context.Context, f account.AuditFilter) ([]account.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []account.AuditEntry
	for i := len(m.audit) - 1; i >= 0 && len(out) < f.Limit; i-- {
		e := m.audit[i]
		if (f.Before == 0 || e.ID < f.Before) && (f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || e.Action == f.Action) {
			out = append(out, e)
		}
	}
	return out, nil
}

var _ account.Store = (*MemStore)(nil)
