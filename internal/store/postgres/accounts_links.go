package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/account"
)

// linksSchema (migration 22, account_links) keeps the console users' links
// to their messenger accounts (one platform account links to one user, a
// user has one account per platform) and the pending one-time link codes,
// by the SHA-256 of the code as 64 hex characters (a user has at most one
// code per platform). Both go with their user. id and ts are the dialect's
// key reference and timestamp types.
func linksSchema(ref, ts string) []string {
	return []string{
		`CREATE TABLE account_links (
			platform TEXT NOT NULL,
			platform_user_id TEXT NOT NULL,
			user_id ` + ref + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			display_name TEXT NOT NULL DEFAULT '',
			linked_at ` + ts + ` NOT NULL,
			PRIMARY KEY (platform, platform_user_id),
			UNIQUE (user_id, platform))`,
		`CREATE TABLE link_codes (
			code_hash TEXT PRIMARY KEY,
			user_id ` + ref + ` NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			platform TEXT NOT NULL,
			created_at ` + ts + ` NOT NULL,
			expires_at ` + ts + ` NOT NULL,
			UNIQUE (user_id, platform))`,
		`CREATE INDEX link_codes_expires_idx ON link_codes (expires_at)`,
	}
}

// PutLinkCode implements account.LinkStore.
func (s *Store) PutLinkCode(ctx context.Context, codeHash []byte, user, platform string, now, expires time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var id int64
		found, err := queryOne(tx, "SELECT id FROM users WHERE name = ?", []any{user}, &id)
		if err != nil {
			return err
		}
		if !found {
			return account.ErrNoUser
		}
		if err := tx.Exec("DELETE FROM link_codes WHERE expires_at < ? OR (user_id = ? AND platform = ?)",
			stampTime(now), id, platform).Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO link_codes (code_hash, user_id, platform, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			hex.EncodeToString(codeHash), id, platform, stampTime(now), stampTime(expires)).Error
	})
	if err != nil {
		return fmt.Errorf("make a %s link code for %q: %w", platform, user, err)
	}
	return nil
}

// RedeemLinkCode implements account.LinkStore: the code's row is deleted
// first (of two redeems of one code, one gets it), then the link replaces
// the account's and the user's earlier ones, in one transaction.
func (s *Store) RedeemLinkCode(ctx context.Context, codeHash []byte, l account.Link) (account.Link, error) {
	l.LinkedAt = stampTime(l.LinkedAt)
	var expired bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var userID int64
		var expires time.Time
		found, err := queryOne(tx, "DELETE FROM link_codes WHERE code_hash = ? AND platform = ? RETURNING user_id, expires_at",
			[]any{hex.EncodeToString(codeHash), l.Platform}, &userID, timeScanner{v: &expires})
		if err != nil {
			return err
		}
		if !found {
			return account.ErrLinkCodeUnknown
		}
		if !l.LinkedAt.Before(expires) {
			expired = true
			return nil // commit: the expired code is used up
		}
		if err := tx.Exec("DELETE FROM account_links WHERE platform = ? AND (platform_user_id = ? OR user_id = ?)",
			l.Platform, l.PlatformUserID, userID).Error; err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO account_links (platform, platform_user_id, user_id, display_name, linked_at) VALUES (?, ?, ?, ?, ?)",
			l.Platform, l.PlatformUserID, userID, l.DisplayName, l.LinkedAt).Error; err != nil {
			return err
		}
		_, err = queryOne(tx, "SELECT name FROM users WHERE id = ?", []any{userID}, &l.User)
		return err
	})
	if err == nil && expired {
		err = account.ErrLinkCodeExpired
	}
	if err != nil {
		return account.Link{}, fmt.Errorf("link a %s account: %w", l.Platform, err)
	}
	return l, nil
}

// LinkedUser implements account.LinkStore (the primary key's lookup).
func (s *Store) LinkedUser(ctx context.Context, platform, platformUserID string) (string, bool, error) {
	var name string
	found, err := queryOne(s.db.WithContext(ctx), "SELECT u.name FROM account_links l JOIN users u ON u.id = l.user_id "+
		"WHERE l.platform = ? AND l.platform_user_id = ?", []any{platform, platformUserID}, &name)
	if err != nil {
		return "", false, fmt.Errorf("user of the %s account: %w", platform, err)
	}
	return name, found, nil
}

// Links implements account.LinkStore.
func (s *Store) Links(ctx context.Context, user string) ([]account.Link, error) {
	q := "SELECT u.name, l.platform, l.platform_user_id, l.display_name, l.linked_at FROM account_links l JOIN users u ON u.id = l.user_id"
	var args []any
	if user != "" {
		q, args = q+" WHERE u.name = ?", []any{user}
	}
	rows, err := s.db.WithContext(ctx).Raw(q+" ORDER BY u.name, l.platform", args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("list account links: %w", err)
	}
	defer rows.Close()
	var out []account.Link
	for rows.Next() {
		var l account.Link
		if err := rows.Scan(&l.User, &l.Platform, &l.PlatformUserID, &l.DisplayName, timeScanner{v: &l.LinkedAt}); err != nil {
			return nil, fmt.Errorf("list account links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list account links: %w", err)
	}
	return out, nil
}

// DeleteLink implements account.LinkStore.
func (s *Store) DeleteLink(ctx context.Context, user, platform string) (account.Link, error) {
	l := account.Link{User: user, Platform: platform}
	found, err := queryOne(s.db.WithContext(ctx), "DELETE FROM account_links WHERE platform = ? AND user_id = "+
		"(SELECT id FROM users WHERE name = ?) RETURNING platform_user_id, display_name, linked_at",
		[]any{platform, user}, &l.PlatformUserID, &l.DisplayName, timeScanner{v: &l.LinkedAt})
	if err == nil && !found {
		err = account.ErrNoLink
	}
	if err != nil {
		return account.Link{}, fmt.Errorf("unlink the %s account of %q: %w", platform, user, err)
	}
	return l, nil
}
