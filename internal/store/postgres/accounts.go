package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/account"
)

// accountsSchema creates the console's users, their sessions (by the
// SHA-256 of the token, so a database dump holds no usable cookie), the
// failed-login counters and the audit log. id and ts are the dialect's
// serial key and timestamp types. The token hash is kept as 64 hex
// characters.
func accountsSchema(id, ts string) []string {
	return []string{
		`CREATE TABLE users (
			id ` + id + `,
			name TEXT NOT NULL UNIQUE,
			role TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			created_at ` + ts + ` NOT NULL,
			password_changed_at ` + ts + ` NOT NULL)`,
		`CREATE TABLE sessions (
			token_hash TEXT PRIMARY KEY,
			user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			created_at ` + ts + ` NOT NULL,
			last_seen_at ` + ts + ` NOT NULL)`,
		`CREATE INDEX sessions_user_idx ON sessions (user_id)`,
		`CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at)`,
		`CREATE TABLE login_failures (
			key TEXT PRIMARY KEY,
			count INTEGER NOT NULL,
			last_at ` + ts + ` NOT NULL)`,
		`CREATE TABLE audit_log (
			id ` + id + `,
			at ` + ts + ` NOT NULL,
			actor TEXT NOT NULL,
			action TEXT NOT NULL,
			object TEXT NOT NULL DEFAULT '',
			details TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX audit_log_at_idx ON audit_log (at, id)`,
		`CREATE INDEX audit_log_actor_idx ON audit_log (actor, id)`,
		`CREATE INDEX audit_log_action_idx ON audit_log (action, id)`,
	}
}

var _ account.Store = (*Store)(nil)

const userColumns = "id, name, role, created_at, password_changed_at"

func userTargets(u *account.User) []any {
	return []any{&u.ID, &u.Name, (*string)(&u.Role), timeScanner{v: &u.CreatedAt}, timeScanner{v: &u.PasswordChangedAt}}
}

// CreateUser implements account.UserStore.
func (s *Store) CreateUser(ctx context.Context, u account.User, hash string) (account.User, error) {
	found, err := queryOne(s.db.WithContext(ctx), "INSERT INTO users (name, role, password_hash, created_at, password_changed_at) "+
		"VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id",
		[]any{u.Name, string(u.Role), hash, stampTime(u.CreatedAt), stampTime(u.PasswordChangedAt)}, &u.ID)
	if err != nil {
		return account.User{}, fmt.Errorf("add user %q: %w", u.Name, err)
	}
	if !found {
		return account.User{}, fmt.Errorf("add user %q: %w", u.Name, account.ErrUserExists)
	}
	u.CreatedAt, u.PasswordChangedAt = stampTime(u.CreatedAt), stampTime(u.PasswordChangedAt)
	return u, nil
}

// UserByName implements account.UserStore.
func (s *Store) UserByName(ctx context.Context, name string) (account.User, string, error) {
	var u account.User
	var hash string
	found, err := queryOne(s.db.WithContext(ctx), "SELECT "+userColumns+", password_hash FROM users WHERE name = ?",
		[]any{name}, append(userTargets(&u), &hash)...)
	if err == nil && !found {
		err = account.ErrNoUser
	}
	if err != nil {
		return account.User{}, "", fmt.Errorf("user %q: %w", name, err)
	}
	return u, hash, nil
}

// ListUsers implements account.UserStore.
func (s *Store) ListUsers(ctx context.Context) ([]account.User, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT " + userColumns + " FROM users ORDER BY name").Rows()
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []account.User
	for rows.Next() {
		var u account.User
		if err := rows.Scan(userTargets(&u)...); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetPasswordHash implements account.UserStore: the hash changes and the
// user's sessions end in one transaction.
func (s *Store) SetPasswordHash(ctx context.Context, name, hash string, at time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var id int64
		found, err := queryOne(tx, "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ? RETURNING id",
			[]any{hash, stampTime(at), name}, &id)
		if err != nil {
			return err
		}
		if !found {
			return account.ErrNoUser
		}
		return tx.Exec("DELETE FROM sessions WHERE user_id = ?", id).Error
	})
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return nil
}

// SetRole implements account.UserStore, with the last-admin check of
// changeUser.
func (s *Store) SetRole(ctx context.Context, name string, role account.Role) error {
	err := s.changeUser(ctx, name, role != account.RoleAdmin, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE users SET role = ? WHERE name = ?", string(role), name).Error
	})
	if err != nil {
		return fmt.Errorf("set role of %q: %w", name, err)
	}
	return nil
}

// DeleteUser implements account.UserStore (the sessions go by cascade),
// with the last-admin check of changeUser.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	err := s.changeUser(ctx, name, true, func(tx *gorm.DB) error {
		return tx.Exec("DELETE FROM users WHERE name = ?", name).Error
	})
	if err != nil {
		return fmt.Errorf("remove user %q: %w", name, err)
	}
	return nil
}

// changeUser runs change on name in a transaction: ErrNoUser when there is
// none, ErrLastAdmin when name is the only admin and the change takes the
// role away (unadmin). On PostgreSQL the admins' rows are locked first, so
// two admins removing or demoting each other at once cannot both succeed;
// SQLite write transactions are exclusive already.
func (s *Store) changeUser(ctx context.Context, name string, unadmin bool, change func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.pg() {
			if err := tx.Exec("SELECT id FROM users WHERE role = ? FOR UPDATE", string(account.RoleAdmin)).Error; err != nil {
				return err
			}
		}
		var role string
		found, err := queryOne(tx, "SELECT role FROM users WHERE name = ?", []any{name}, &role)
		if err != nil {
			return err
		}
		if !found {
			return account.ErrNoUser
		}
		if unadmin && role == string(account.RoleAdmin) {
			var admins int64
			if err := tx.Raw("SELECT COUNT(*) FROM users WHERE role = ?", role).Scan(&admins).Error; err != nil {
				return err
			}
			if admins <= 1 {
				return account.ErrLastAdmin
			}
		}
		return change(tx)
	})
}

// CreateSession implements account.SessionStore.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, sess account.Session) error {
	err := s.db.WithContext(ctx).Exec("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
		hex.EncodeToString(tokenHash), sess.UserID, stampTime(sess.CreatedAt), stampTime(sess.LastSeenAt)).Error
	if err != nil {
		return fmt.Errorf("start session of user %d: %w", sess.UserID, err)
	}
	return nil
}

// SessionByHash implements account.SessionStore.
func (s *Store) SessionByHash(ctx context.Context, tokenHash []byte) (account.Session, account.User, error) {
	var sess account.Session
	var u account.User
	found, err := queryOne(s.db.WithContext(ctx), "SELECT s.created_at, s.last_seen_at, u.id, u.name, u.role, u.created_at, "+
		"u.password_changed_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?", []any{hex.EncodeToString(tokenHash)},
		append([]any{timeScanner{v: &sess.CreatedAt}, timeScanner{v: &sess.LastSeenAt}}, userTargets(&u)...)...)
	if err == nil && !found {
		err = account.ErrNoSession
	}
	if err != nil {
		return account.Session{}, account.User{}, fmt.Errorf("read session: %w", err)
	}
	sess.UserID = u.ID
	return sess, u, nil
}

// TouchSession implements account.SessionStore.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	if err := s.db.WithContext(ctx).Exec("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?",
		stampTime(at), hex.EncodeToString(tokenHash)).Error; err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession implements account.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if err := s.db.WithContext(ctx).Exec("DELETE FROM sessions WHERE token_hash = ?", hex.EncodeToString(tokenHash)).Error; err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// DeleteIdleSessions implements account.SessionStore.
func (s *Store) DeleteIdleSessions(ctx context.Context, idleSince time.Time) error {
	if err := s.db.WithContext(ctx).Exec("DELETE FROM sessions WHERE last_seen_at < ?", stampTime(idleSince)).Error; err != nil {
		return fmt.Errorf("end idle sessions: %w", err)
	}
	return nil
}

// LoginFailures implements account.SessionStore.
func (s *Store) LoginFailures(ctx context.Context, keys []string) ([]account.Failures, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := s.db.WithContext(ctx).Raw("SELECT key, count, last_at FROM login_failures WHERE key IN "+inList(len(keys)), args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read login failures: %w", err)
	}
	defer rows.Close()
	var out []account.Failures
	for rows.Next() {
		var f account.Failures
		if err := rows.Scan(&f.Key, &f.Count, timeScanner{v: &f.Last}); err != nil {
			return nil, fmt.Errorf("read login failures: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read login failures: %w", err)
	}
	return out, nil
}

// AddLoginFailure implements account.SessionStore in one upsert.
func (s *Store) AddLoginFailure(ctx context.Context, key string, at, resetBefore time.Time) error {
	err := s.db.WithContext(ctx).Exec("INSERT INTO login_failures (key, count, last_at) VALUES (?, 1, ?) "+
		"ON CONFLICT (key) DO UPDATE SET count = CASE WHEN login_failures.last_at < ? THEN 1 ELSE login_failures.count + 1 END, "+
		"last_at = EXCLUDED.last_at", key, stampTime(at), stampTime(resetBefore)).Error
	if err != nil {
		return fmt.Errorf("count login failure: %w", err)
	}
	// Counters quiet for a day matter to no window; drop them so the table
	// stays as small as the current attacks.
	if err := s.db.WithContext(ctx).Exec("DELETE FROM login_failures WHERE last_at < ?",
		stampTime(at).Add(-24*time.Hour)).Error; err != nil {
		return fmt.Errorf("forget old login failures: %w", err)
	}
	return nil
}

// ClearLoginFailures implements account.SessionStore.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Exec("DELETE FROM login_failures WHERE key = ?", key).Error; err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// AppendAudit implements account.AuditStore.
func (s *Store) AppendAudit(ctx context.Context, e account.AuditEntry) (account.AuditEntry, error) {
	e.At = stampTime(e.At)
	_, err := queryOne(s.db.WithContext(ctx), "INSERT INTO audit_log (at, actor, action, object, details) VALUES (?, ?, ?, ?, ?) RETURNING id",
		[]any{e.At, e.Actor, e.Action, e.Object, e.Details}, &e.ID)
	if err != nil {
		return account.AuditEntry{}, fmt.Errorf("record %s by %s: %w", e.Action, e.Actor, err)
	}
	return e, nil
}

// AuditEntries implements account.AuditStore: newest first by id, walking
// the (actor, id), (action, id) or primary key index.
func (s *Store) AuditEntries(ctx context.Context, f account.AuditFilter) ([]account.AuditEntry, error) {
	var where []string
	var args []any
	for _, c := range []struct {
		col string
		v   any
		ok  bool
	}{{"actor = ?", f.Actor, f.Actor != ""}, {"action = ?", f.Action, f.Action != ""}, {"id < ?", f.Before, f.Before > 0}} {
		if c.ok {
			where, args = append(where, c.col), append(args, c.v)
		}
	}
	q := "SELECT id, at, actor, action, object, details FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.WithContext(ctx).Raw(q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []account.AuditEntry
	for rows.Next() {
		var e account.AuditEntry
		if err := rows.Scan(&e.ID, timeScanner{v: &e.At}, &e.Actor, &e.Action, &e.Object, &e.Details); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
