// Package account holds the console's people: users with a role, their
// sessions, login throttling and the audit log of what they did. It is the
// domain and its ports; internal/store/postgres implements the storage, the
// CLI (`chathub user`, `chathub audit`) and internal/console use the
// Service.
package account

import (
	"errors"
	"fmt"
	"time"
)

// Role is what a user may do in the console and the CLI-equivalent API.
type Role string

// The roles, from least to most: operators see scenarios, the playground
// and analytics; managers also everything about clients, segments and
// campaigns; admins also users and the audit log.
const (
	RoleOperator Role = "operator"
	RoleManager  Role = "manager"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, least first.
var Roles = []Role{RoleOperator, RoleManager, RoleAdmin}

// ParseRole returns the role named s, or an error naming the valid ones.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (admin, manager, operator)", s)
}

// rank orders roles; an unknown role ranks below every known one.
func (r Role) rank() int {
	for i, k := range Roles {
		if k == r {
			return i + 1
		}
	}
	return 0
}

// AtLeast reports whether r includes everything min may do.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// User is a console account. The password hash never leaves the store and
// the Service.
type User struct {
	ID        int64
	Name      string
	Role      Role
	CreatedAt time.Time
	// PasswordChangedAt is when the password was last set.
	PasswordChangedAt time.Time
}

// Session is a logged-in browser: the token is the cookie's value (only its
// hash is stored).
type Session struct {
	UserID int64
	// LastSeenAt is the last request; the session ends IdleTimeout after it.
	LastSeenAt time.Time
	CreatedAt  time.Time
}

// Errors callers test with errors.Is / errors.As.
var (
	// ErrBadCredentials: no such user or a wrong password (one error for
	// both, so a login does not tell which names exist).
	ErrBadCredentials = errors.New("account: wrong name or password")
	// ErrNoSession: the token names no live session (unknown, ended or idle
	// past its timeout).
	ErrNoSession = errors.New("account: no such session")
	// ErrUserExists: a user of that name exists.
	ErrUserExists = errors.New("account: user exists")
	// ErrNoUser: no user of that name.
	ErrNoUser = errors.New("account: no such user")
)

// ThrottledError is a login refused because of repeated failures: try again
// after RetryAfter (the console answers 429 with Retry-After).
type ThrottledError struct {
	RetryAfter time.Duration
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("account: too many failed logins; try again in %s", e.RetryAfter.Round(time.Second))
}
