package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// DefaultListLimit is the page size of ListClients and Answers when the
// caller passes no positive limit.
const DefaultListLimit = 100

// GetClient returns the client with chat key key, with its tags, attributes
// and confirmation stamps, or (nil, nil) when there is none.
func (s *Store) GetClient(ctx context.Context, key messenger.ChatKey) (*crm.Client, error) {
	q := s.newStmt()
	q.WriteString("SELECT " + clientColumns + ", " + s.tagsExpr("clients.id"))
	q.sql(" FROM clients WHERE platform = ? AND bot = ? AND platform_user_id = ?")
	var r clientRow
	found, err := s.readRow(ctx, q.String(), []any{string(key.Platform), key.Bot, key.ID}, r.targets()...)
	if err != nil {
		return nil, fmt.Errorf("get client %s: %w", key, err)
	}
	if !found {
		return nil, nil
	}
	return r.client(), nil
}

// DeleteClient deletes the client with chat key key and, by the foreign
// keys' ON DELETE CASCADE, its tags, answers, notes, hand-offs, completions
// and campaign deliveries (the delivery ledger's rows, with the client's
// platform id and message ids): the PostgreSQL part of erasing a client
// (152-FZ). erasure.Eraser calls it for the client's own /forget, the
// console and the API, and deletes the chat's conversation state around
// it; RecordChanges with Forget calls it for a dialog wired without one. It reports whether there was a client; deleting a missing one is
// not an error, so a retried request succeeds.
func (s *Store) DeleteClient(ctx context.Context, key messenger.ChatKey) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, fmt.Errorf("delete client %s: %w", key, err)
	}
	res := s.db.WithContext(ctx).Exec("DELETE FROM clients WHERE platform = ? AND bot = ? AND platform_user_id = ?",
		string(key.Platform), key.Bot, key.ID)
	if res.Error != nil {
		return false, fmt.Errorf("delete client %s: %w", key, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ListOptions selects a page of clients. The filters combine with AND.
type ListOptions struct {
	// Platform keeps only that platform's clients; empty lists all.
	Platform messenger.Platform
	// Bot, when set, keeps only that bot's clients (a config file's bot name).
	Bot string
	// ID, when positive, keeps only the client with that id.
	ID int64
	// Segment, when set, keeps only the clients it selects (compiled by
	// CompileSegment, as the API's count and sample do).
	Segment *segment.Segment
	// Search, when set, keeps the clients it finds. It is read as:
	//   - a phone number: only digits and + ( ) - spaces, 10 to 15 digits
	//     ("+7 912 345-67-89", "89123456789" and "9123456789" are
	//     +79123456789): the phone, exactly;
	//   - "@name": the username, exactly, ignoring case;
	//   - words: each word begins the first name, the last name or the
	//     username, ignoring case ("анна", "Анна Пет", "anna_p").
	// Values are bound parameters and LIKE wildcards match literally. There
	// is no index on names: a search is one pass over the clients, newest
	// first, that stops when the page is full, so a query that matches many
	// clients returns at once and one that matches few reads the table once.
	Search string
	// BeforeID, when positive, is a keyset cursor: only clients with an id
	// below it (the page after the one whose last client had that id). The
	// console pages with it; it reads no row it skips, unlike Offset.
	BeforeID int64
	// Limit is the page size; 0 or less means DefaultListLimit.
	Limit int
	// Offset skips that many clients (newest first); `chathub clients`
	// pages with it.
	Offset int
}

// ListClients returns a page of clients, newest first (by id, which grows
// with creation), with their tags. A Search longer than MaxSearchLength or
// without a letter or digit is an error wrapping ErrBadSearch.
func (s *Store) ListClients(ctx context.Context, opt ListOptions) ([]crm.Client, error) {
	where, args, err := s.listWhere(opt, s.segmentWhere)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	q := "SELECT " + clientColumns + ", " + s.tagsExpr("clients.id") + " FROM clients" + where +
		" ORDER BY id DESC LIMIT ? OFFSET ?"
	args = append(args, limitOr(opt.Limit), max(opt.Offset, 0))
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	clients, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return clients, nil
}

// listWhere is the WHERE clause (with its leading space, "" for none) and
// arguments of opt's filters, the segment rendered by render
// (segmentWhere, or segmentCountWhere for a count); Limit and Offset are
// the caller's.
func (s *Store) listWhere(opt ListOptions, render func(*segment.Segment) (segment.Where, error)) (string, []any, error) {
	var args []any
	var where []string
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if opt.Platform != "" {
		add("platform = ?", string(opt.Platform))
	}
	if opt.Bot != "" {
		add("bot = ?", opt.Bot)
	}
	if opt.ID > 0 {
		add("id = ?", opt.ID)
	}
	if opt.BeforeID > 0 {
		add("id < ?", opt.BeforeID)
	}
	if opt.Segment != nil {
		w, err := render(opt.Segment)
		if err != nil {
			return "", nil, err
		}
		add("("+w.SQL+")", w.Args...)
	}
	if opt.Search != "" {
		cond, a, err := s.searchWhere(opt.Search)
		if err != nil {
			return "", nil, err
		}
		add(cond, a...)
	}
	if len(where) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(where, " AND "), args, nil
}

// Answers returns up to limit (0 or less: DefaultListLimit) of the client's
// answers, most recent first.
func (s *Store) Answers(ctx context.Context, clientID int64, limit int) ([]crm.Answer, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT client_id, scenario, version, step, field, value, created_at "+
		"FROM answers WHERE client_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", clientID, limitOr(limit)).Rows()
	if err != nil {
		return nil, fmt.Errorf("answers of client %d: %w", clientID, err)
	}
	defer rows.Close()
	var out []crm.Answer
	for rows.Next() {
		var a crm.Answer
		if err := rows.Scan(&a.ClientID, &a.Scenario, &a.Version, &a.Step, &a.Field, &a.Value,
			timeScanner{v: &a.CreatedAt}); err != nil {
			return nil, fmt.Errorf("answers of client %d: %w", clientID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("answers of client %d: %w", clientID, err)
	}
	return out, nil
}

// limitOr returns limit, or DefaultListLimit when it is not positive.
func limitOr(limit int) int {
	if limit <= 0 {
		return DefaultListLimit
	}
	return limit
}
