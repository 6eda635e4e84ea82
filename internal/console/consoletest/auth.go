// Package consoletest holds test doubles for the web console: a
// hand-written in-memory Auth with one user per role.
package consoletest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// Auth is an in-memory console.Auth for tests. NewAuth gives it one user
// per role, named after the role ("admin", "manager", "operator") with the
// password Password(name).
type Auth struct {
	mu        sync.Mutex
	users     map[string]fakeUser
	sessions  map[string]account.User
	throttled map[string]time.Duration
	next      int
	ips       []string
	// touched counts, per token, the Session calls (which refresh a real
	// session); PeekSession does not count.
	touched map[string]int
}

type fakeUser struct {
	password string
	user     account.User
}

// Password is the test password of the user named name.
func Password(name string) string { return name + "-secret" }

// NewAuth returns an Auth with a user per role.
func NewAuth() *Auth {
	f := &Auth{users: map[string]fakeUser{}, sessions: map[string]account.User{}, throttled: map[string]time.Duration{},
		touched: map[string]int{}}
	for i, r := range account.Roles {
		name := string(r)
		f.users[name] = fakeUser{password: Password(name), user: account.User{ID: int64(i + 1), Name: name, Role: r}}
	}
	return f
}

// AddUser adds (or replaces) a user.
func (f *Auth) AddUser(name, password string, role account.Role) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[name] = fakeUser{password: password, user: account.User{ID: int64(100 + len(f.users)), Name: name, Role: role}}
}

// Throttle makes logins as name answer *account.ThrottledError with d.
func (f *Auth) Throttle(name string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttled[name] = d
}

// Authenticate implements console.Auth.
func (f *Auth) Authenticate(_ context.Context, name, password, clientIP string) (account.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ips = append(f.ips, clientIP)
	if d, ok := f.throttled[name]; ok {
		return account.User{}, &account.ThrottledError{RetryAfter: d}
	}
	u, ok := f.users[name]
	if !ok || u.password != password {
		return account.User{}, account.ErrBadCredentials
	}
	return u.user, nil
}

// StartSession implements console.Auth.
func (f *Auth) StartSession(_ context.Context, u account.User) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	token := fmt.Sprintf("tok-%d-%d", f.next, u.ID)
	f.sessions[token] = u
	return token, nil
}

// Session implements console.Auth.
func (f *Auth) Session(_ context.Context, token string) (account.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.sessions[token]
	if !ok {
		return account.User{}, account.ErrNoSession
	}
	f.touched[token]++
	return u, nil
}

// PeekSession implements the console's optional session look-up for
// background polls: like Session, but not counted by Touched.
func (f *Auth) PeekSession(_ context.Context, token string) (account.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.sessions[token]
	if !ok {
		return account.User{}, account.ErrNoSession
	}
	return u, nil
}

// Touched is how many requests counted as activity of the session token
// (Session calls, not PeekSession).
func (f *Auth) Touched(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.touched[token]
}

// EndSession implements console.Auth.
func (f *Auth) EndSession(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[token]; !ok {
		return account.ErrNoSession
	}
	delete(f.sessions, token)
	return nil
}

// Sessions is how many sessions are open.
func (f *Auth) Sessions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

// ClientIPs lists the clientIP of every Authenticate call, in order.
func (f *Auth) ClientIPs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ips...)
}

// Login opens a session for the user named name directly and returns its
// token (for tests that start signed in).
func (f *Auth) Login(name string) string {
	f.mu.Lock()
	u := f.users[name].user
	f.mu.Unlock()
	token, _ := f.StartSession(context.Background(), u)
	return token
}

// EndSessionsOf ends every session of the user named name (as an idle
// expiry would).
func (f *Auth) EndSessionsOf(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for token, u := range f.sessions {
		if u.Name == name {
			delete(f.sessions, token)
		}
	}
}
