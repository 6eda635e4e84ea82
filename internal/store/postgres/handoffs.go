package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// The Store keeps the live hand-off's requests, replies and transcript.
var (
	_ handoff.Store              = (*Store)(nil)
	_ handoff.AnnouncingReporter = (*Store)(nil)
)

// Request statuses as SQL conditions (alias h): live is every status but
// closed, and a request a manager may still answer is open or assigned.
const (
	sqlLive       = "h.status <> 'closed'"
	sqlAnswerable = "h.status IN ('open', 'assigned')"
)

// Page sizes of the inbox, the transcript and the claims.
const (
	defaultPage = 50
	maxPage     = 200
)

// pageLimit returns n within (0, maxPage], defaultPage when n <= 0.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return defaultPage
	case n > maxPage:
		return maxPage
	}
	return n
}

// skipLocked is the claim subqueries' row lock on PostgreSQL: concurrent
// claimers skip each other's rows instead of queueing behind them (SQLite
// has one writer at a time and no row locks).
func (s *Store) skipLocked() string {
	if s.pg() {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// ListHandoffs implements handoff.RequestStore: one query for the page,
// the client summaries and the last messages.
func (s *Store) ListHandoffs(ctx context.Context, f handoff.Filter) ([]handoff.Request, error) {
	where, order, args, err := inboxQuery(f)
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	q := s.handoffSelect() + " WHERE " + where + " ORDER BY " + order + " LIMIT ?"
	rows, err := s.db.WithContext(ctx).Raw(q, append(args, pageLimit(f.Limit))...).Rows()
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	out, err := scanRequests(rows)
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	return out, nil
}

// liveOrder is the live tabs' order: the longest-waiting first, the
// answered (waiting_since NULL) last, then by id; inboxQuery's cursor
// follows it.
const liveOrder = "CASE WHEN h.waiting_since IS NULL THEN 1 ELSE 0 END, h.waiting_since, h.id"

// inboxQuery returns the WHERE condition, ORDER BY and arguments of a tab's
// page.
func inboxQuery(f handoff.Filter) (where, order string, args []any, err error) {
	var conds []string
	switch f.Tab {
	case handoff.TabWaiting:
		conds = append(conds, "h.status = 'open'")
	case handoff.TabMine:
		if f.Manager == "" {
			return "", "", nil, fmt.Errorf("the %q tab needs a manager", f.Tab)
		}
		conds = append(conds, sqlLive, "h.manager = ?")
		args = append(args, f.Manager)
	case handoff.TabAll, "":
		conds = append(conds, sqlLive)
	case handoff.TabClosed:
		conds = append(conds, "h.status = 'closed'")
		if f.BeforeID > 0 {
			conds = append(conds, "h.id < ?")
			args = append(args, f.BeforeID)
		}
		return strings.Join(conds, " AND "), "h.id DESC", args, nil
	default:
		return "", "", nil, fmt.Errorf("unknown inbox tab %q", f.Tab)
	}
	if f.AfterID > 0 {
		if f.AfterWaiting == nil {
			conds = append(conds, "h.waiting_since IS NULL AND h.id > ?")
			args = append(args, f.AfterID)
		} else {
			w := stampTime(*f.AfterWaiting)
			conds = append(conds, "(h.waiting_since IS NULL OR h.waiting_since > ? OR (h.waiting_since = ? AND h.id > ?))")
			args = append(args, w, w, f.AfterID)
		}
	}
	return strings.Join(conds, " AND "), liveOrder, args, nil
}

// CountHandoffs implements handoff.RequestStore.
func (s *Store) CountHandoffs(ctx context.Context, manager string, now time.Time, sla time.Duration) (handoff.Counts, error) {
	var c handoff.Counts
	_, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*), "+
		"COALESCE(SUM(CASE WHEN h.status = 'open' THEN 1 ELSE 0 END), 0), "+
		"COALESCE(SUM(CASE WHEN h.manager = ? THEN 1 ELSE 0 END), 0), "+
		"COALESCE(SUM(CASE WHEN h.waiting_since < ? THEN 1 ELSE 0 END), 0) "+
		"FROM handoffs AS h WHERE "+sqlLive, []any{manager, stampTime(now.Add(-sla))},
		&c.All, &c.Waiting, &c.Mine, &c.OverSLA)
	if err != nil {
		return handoff.Counts{}, fmt.Errorf("count handoffs: %w", err)
	}
	if manager == "" {
		c.Mine = 0
	}
	return c, nil
}

// OpenHandoffs implements handoff.ReturnStore.
func (s *Store) OpenHandoffs(ctx context.Context, now time.Time, sla time.Duration) (open, waiting, overSLA int, err error) {
	c, err := s.CountHandoffs(ctx, "", now, sla)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("open handoffs: %w", err)
	}
	return c.All, c.Waiting, c.OverSLA, nil
}

// GetHandoff implements handoff.RequestStore.
func (s *Store) GetHandoff(ctx context.Context, id int64) (handoff.Request, error) {
	r, err := s.oneHandoff(s.db.WithContext(ctx), "h.id = ?", id)
	if err != nil {
		return handoff.Request{}, fmt.Errorf("get handoff %d: %w", id, err)
	}
	return r, nil
}

// LiveHandoffOf implements handoff.RequestStore.
func (s *Store) LiveHandoffOf(ctx context.Context, clientID int64) (handoff.Request, error) {
	r, err := s.oneHandoff(s.db.WithContext(ctx), "h.client_id = ? AND "+sqlLive, clientID)
	if err != nil {
		return handoff.Request{}, fmt.Errorf("live handoff of client %d: %w", clientID, err)
	}
	return r, nil
}

// oneHandoff reads the request matching where; handoff.ErrNotFound when
// none.
func (s *Store) oneHandoff(db *gorm.DB, where string, args ...any) (handoff.Request, error) {
	rs, err := s.readHandoffs(db, where+" LIMIT 1", args...)
	if err != nil {
		return handoff.Request{}, err
	}
	if len(rs) == 0 {
		return handoff.Request{}, handoff.ErrNotFound
	}
	return rs[0], nil
}

// readHandoffs reads the requests matching where (and whatever follows it).
func (s *Store) readHandoffs(db *gorm.DB, where string, args ...any) ([]handoff.Request, error) {
	rows, err := db.Raw(s.handoffSelect()+" WHERE "+where, args...).Rows()
	if err != nil {
		return nil, err
	}
	return scanRequests(rows)
}

// handoffsByID reads requests ids, by id.
func (s *Store) handoffsByID(db *gorm.DB, ids []int64) ([]handoff.Request, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.readHandoffs(db, "h.id IN "+values(1, len(ids))+" ORDER BY h.id", idArgs(ids)...)
}

// claimHandoffs claims up to limit requests matching cond (alias h, its
// parameters condArgs), the oldest first, by setting set (its parameters
// setArgs), and reads them: one UPDATE whose WHERE checks cond again over
// the rows its subquery picked (FOR UPDATE SKIP LOCKED on PostgreSQL), so
// that of several processes exactly one claims a row, in one transaction
// with the read.
func (s *Store) claimHandoffs(ctx context.Context, set string, setArgs []any, cond string, condArgs []any, limit int) ([]handoff.Request, error) {
	q := "UPDATE handoffs AS h SET " + set + " WHERE h.id IN (SELECT h.id FROM handoffs AS h WHERE " + cond +
		" ORDER BY h.id LIMIT ?" + s.skipLocked() + ") AND " + cond + " RETURNING id"
	args := append(append(append(append([]any{}, setArgs...), condArgs...), pageLimit(limit)), condArgs...)
	var out []handoff.Request
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rows, err := tx.Raw(q, args...).Rows()
		if err != nil {
			return err
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return err
		}
		out, err = s.handoffsByID(tx, ids)
		return err
	})
	return out, err
}

// idArgs returns ids as query arguments.
func idArgs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// LiveHandoff implements handoff.RequestStore.
func (s *Store) LiveHandoff(ctx context.Context, key messenger.ChatKey) (bool, error) {
	var n int64
	_, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM handoffs AS h JOIN clients AS c ON c.id = h.client_id "+
		"WHERE c.platform = ? AND c.bot = ? AND c.platform_user_id = ? AND "+sqlLive,
		[]any{string(key.Platform), key.Bot, key.ID}, &n)
	if err != nil {
		return false, fmt.Errorf("live handoff of %s: %w", key, err)
	}
	return n > 0, nil
}

// TakeHandoff implements handoff.RequestStore. The take is one conditional
// UPDATE (the request must still be open), so of several managers (in any
// number of processes) exactly one wins; the same transaction makes the
// winner the client's responsible manager.
func (s *Store) TakeHandoff(ctx context.Context, id int64, manager string, now time.Time) (handoff.Request, error) {
	if manager == "" {
		return handoff.Request{}, fmt.Errorf("take handoff %d: no manager", id)
	}
	now = stampTime(now)
	var r handoff.Request
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var clientID int64
		won, err := queryOne(tx, "UPDATE handoffs SET status = 'assigned', manager = ?, taken_at = ? "+
			"WHERE id = ? AND status = 'open' RETURNING client_id", []any{manager, now, id}, &clientID)
		if err != nil {
			return err
		}
		if won {
			if err := tx.Exec("UPDATE clients SET assigned_manager = ?, updated_at = ? WHERE id = ?",
				manager, now, clientID).Error; err != nil {
				return fmt.Errorf("assign the client: %w", err)
			}
		}
		if r, err = s.oneHandoff(tx, "h.id = ?", id); err != nil {
			return err
		}
		if won {
			return nil
		}
		switch {
		case r.Status != handoff.StatusAssigned:
			return handoff.ErrClosed
		case r.Manager != manager:
			return &handoff.TakenError{By: r.Manager}
		}
		return nil // taken by manager already: no change
	})
	if err != nil {
		return handoff.Request{}, fmt.Errorf("take handoff %d: %w", id, err)
	}
	return r, nil
}

// FirstReplyTimes implements handoff.RequestStore: the time from each
// request's creation to its first reply that reached the client.
func (s *Store) FirstReplyTimes(ctx context.Context, since time.Time) ([]handoff.ReplyTime, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT manager, created_at, first_reply_at FROM handoffs "+
		"WHERE first_reply_at IS NOT NULL AND first_reply_at >= ? ORDER BY first_reply_at", stampTime(since)).Rows()
	if err != nil {
		return nil, fmt.Errorf("first reply times: %w", err)
	}
	defer rows.Close()
	var out []handoff.ReplyTime
	for rows.Next() {
		var rt handoff.ReplyTime
		var created, replied time.Time
		if err := rows.Scan(&rt.Manager, timeScanner{v: &created}, timeScanner{v: &replied}); err != nil {
			return nil, fmt.Errorf("first reply times: %w", err)
		}
		rt.Wait = max(replied.Sub(created), 0)
		out = append(out, rt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("first reply times: %w", err)
	}
	return out, nil
}

// handoffState returns request id's status (ErrNotFound when none): what a
// conditional update that changed nothing ran into.
func handoffState(db *gorm.DB, id int64) (handoff.Status, error) {
	var status string
	found, err := queryOne(db, "SELECT status FROM handoffs WHERE id = ?", []any{id}, &status)
	if err != nil {
		return "", err
	}
	if !found {
		return "", handoff.ErrNotFound
	}
	return handoff.Status(status), nil
}

// updateLive runs update, a change of request id whose WHERE asks for the
// live status it needs, and tells why it changed nothing: ErrNotFound or
// ErrClosed (errNotLive).
func updateLive(db *gorm.DB, id int64, update string, args ...any) error {
	res := db.Exec(update, args...)
	if res.Error == nil && res.RowsAffected == 0 {
		return errNotLive(db, id)
	}
	return res.Error
}

// errNotLive is the error of a change to request id that needs it in a
// live status (open or assigned; returning) but changed nothing:
// ErrNotFound or ErrClosed.
func errNotLive(db *gorm.DB, id int64) error {
	if _, err := handoffState(db, id); err != nil {
		return err
	}
	return handoff.ErrClosed
}
