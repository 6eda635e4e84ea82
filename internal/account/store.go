package account

import (
	"context"
	"errors"
	"time"
)

// Store is the storage the Service needs; internal/store/postgres
// implements it on PostgreSQL and SQLite.
type Store interface {
	UserStore
	SessionStore
	AuditStore
	LinkStore
}

// UserStore keeps the users and their password hashes.
type UserStore interface {
	// CreateUser stores u (its ID and CreatedAt are set by the store) with
	// the password hash; ErrUserExists when the name is taken.
	CreateUser(ctx context.Context, u User, hash string) (User, error)
	// UserByName returns the user and its password hash; ErrNoUser when
	// there is none.
	UserByName(ctx context.Context, name string) (User, string, error)
	// ListUsers returns every user, by name.
	ListUsers(ctx context.Context) ([]User, error)
	// SetPasswordHash replaces the user's hash, stamps PasswordChangedAt
	// and ends every session of the user in one transaction; ErrNoUser
	// when there is none.
	SetPasswordHash(ctx context.Context, name, hash string, at time.Time) error
	// SetRole changes the user's role; ErrNoUser when there is none,
	// ErrLastAdmin when it would demote the only admin (checked
	// atomically with the change).
	SetRole(ctx context.Context, name string, role Role) error
	// DeleteUser deletes the user and (by cascade) its sessions;
	// ErrNoUser when there is none, ErrLastAdmin when it is the only admin
	// (checked atomically with the delete).
	DeleteUser(ctx context.Context, name string) error
}

// SessionStore keeps the sessions (by the SHA-256 of their token) and the
// failed-login counters.
type SessionStore interface {
	// CreateSession stores a session under the token's hash.
	CreateSession(ctx context.Context, tokenHash []byte, s Session) error
	// SessionByHash returns the session and its user; ErrNoSession when
	// there is none.
	SessionByHash(ctx context.Context, tokenHash []byte) (Session, User, error)
	// TouchSession sets the session's LastSeenAt.
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	// DeleteSession ends one session (no error when it is gone already).
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteIdleSessions ends every session last seen before idleSince.
	DeleteIdleSessions(ctx context.Context, idleSince time.Time) error

	// LoginFailures returns the failure counters of keys (missing keys
	// have none).
	LoginFailures(ctx context.Context, keys []string) ([]Failures, error)
	// AddLoginFailure counts a failure of key at at, restarting the count
	// when the previous failure was before resetBefore.
	AddLoginFailure(ctx context.Context, key string, at, resetBefore time.Time) error
	// ClearLoginFailures forgets key's failures.
	ClearLoginFailures(ctx context.Context, key string) error
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit stores e (ID assigned by the store) and returns it.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditEntries returns the entries f selects, newest (highest ID)
	// first; f.Limit is already defaulted and capped by the Service.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// LinkStore keeps the links of users to their messenger accounts and the
// pending link codes (by the SHA-256 of the code, so a database dump holds
// no usable code). A user's links and codes go with the user.
type LinkStore interface {
	// PutLinkCode stores a code for user on platform, expiring at expires,
	// replacing the user's earlier code for that platform, and drops the
	// codes expired before now; ErrNoUser when there is no such user.
	PutLinkCode(ctx context.Context, codeHash []byte, user, platform string, now, expires time.Time) error
	// RedeemLinkCode uses up the code of l.Platform with codeHash and, when
	// it was still live at l.LinkedAt, links its user to l's platform
	// account in the same transaction: the account's link to anyone else
	// and the user's earlier account on the platform are replaced. It
	// returns l with User set. ErrLinkCodeUnknown when there is no such
	// code, ErrLinkCodeExpired when it had expired (it is used up all the
	// same).
	RedeemLinkCode(ctx context.Context, codeHash []byte, l Link) (Link, error)
	// LinkedUser returns the user linked to the platform account; ok is
	// false when none is.
	LinkedUser(ctx context.Context, platform, platformUserID string) (user string, ok bool, err error)
	// Links returns user's links (every user's when user is ""), by user
	// and platform.
	Links(ctx context.Context, user string) ([]Link, error)
	// DeleteLink removes user's link on platform and returns it; ErrNoLink
	// when there is none.
	DeleteLink(ctx context.Context, user, platform string) (Link, error)
}

// Failures is the failed-login counter of one key ("name:anna" or
// "addr:10.0.0.7").
type Failures struct {
	Key   string
	Count int
	// Last is the latest failure.
	Last time.Time
}

// ErrLastAdmin: removing or demoting the user would leave no admin.
var ErrLastAdmin = errors.New("account: that would leave no admin; add another admin first")
