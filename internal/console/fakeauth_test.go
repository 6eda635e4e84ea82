package console

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// fakeAuth is a hand-written Auth: users with passwords, sessions in a
// map, names listed in throttled answer *account.ThrottledError.
type fakeAuth struct {
	mu        sync.Mutex
	users     map[string]fakeUser
	sessions  map[string]account.User
	throttled map[string]time.Duration
	next      int
	ips       []string // clientIP of every Authenticate
}

type fakeUser struct {
	password string
	user     account.User
}

func newFakeAuth() *fakeAuth {
	f := &fakeAuth{users: map[string]fakeUser{}, sessions: map[string]account.User{}, throttled: map[string]time.Duration{}}
	for i, r := range account.Roles {
		name := string(r)
		f.users[name] = fakeUser{password: name + "-secret", user: account.User{ID: int64(i + 1), Name: name, Role: r}}
	}
	return f
}

func (f *fakeAuth) Authenticate(_ context.Context, name, password, clientIP string) (account.User, error) {
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

func (f *fakeAuth) StartSession(_ context.Context, u account.User) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	token := fmt.Sprintf("tok-%d-%s", f.next, u.Name)
	f.sessions[token] = u
	return token, nil
}

func (f *fakeAuth) Session(_ context.Context, token string) (account.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.sessions[token]
	if !ok {
		return account.User{}, account.ErrNoSession
	}
	return u, nil
}

func (f *fakeAuth) EndSession(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[token]; !ok {
		return account.ErrNoSession
	}
	delete(f.sessions, token)
	return nil
}

func (f *fakeAuth) sessionCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

// login opens a session for the user named name directly (no HTTP).
func (f *fakeAuth) login(name string) string {
	token, _ := f.StartSession(context.Background(), f.users[name].user)
	return token
}
