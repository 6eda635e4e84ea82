package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// The Store records the reminders the bot sent (the funnel: reminded →
// came back).
var _ dialog.ReminderLog = (*Store)(nil)

// remindersSchema is the reminders table (crm.Reminder): one row per
// reminder sent, unique per client and reminder key (the id of the
// reminder's turn), with answered_at set when the client answered the
// question afterwards in the same conversation. Rows go with their client
// (ON DELETE CASCADE: /forget). The funnel groups by scenario, step and n
// (reminders_funnel_idx).
func remindersSchema(id, ref, ts string) []string {
	return []string{
		`CREATE TABLE reminders (
			id ` + id + `,
			client_id ` + ref + ` NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
			scenario TEXT NOT NULL,
			version TEXT NOT NULL,
			step TEXT NOT NULL,
			n INTEGER NOT NULL,
			reminder_key TEXT NOT NULL,
			sent_at ` + ts + ` NOT NULL,
			answered_at ` + ts + `,
			UNIQUE (client_id, reminder_key))`,
		`CREATE INDEX reminders_funnel_idx ON reminders (scenario, step, n)`,
	}
}

// remindersRun adds the conversation (run) to each reminder row, so that
// the funnel counts the reminders of the conversations started in its
// period without matching each reminder to its visits; the rows written
// before are matched once here to the visit of their step that was open
// when they were sent. NULL stays for a reminder with no such visit.
var remindersRun = []string{
	`ALTER TABLE reminders ADD COLUMN run BIGINT`,
	`UPDATE reminders SET run = (SELECT MAX(v.run) FROM step_visits AS v WHERE v.client_id = reminders.client_id
		AND v.scenario = reminders.scenario AND v.step = reminders.step AND v.entered_at <= reminders.sent_at
		AND (v.left_at IS NULL OR v.left_at >= reminders.sent_at))`,
}

// clientIDOf is the subquery of the id of the client with a chat key
// (three parameters: platform, bot, platform_user_id).
const clientIDOf = "(SELECT id FROM clients WHERE platform = ? AND bot = ? AND platform_user_id = ?)"

// RecordReminder implements dialog.ReminderLog: the reminder's row and its
// message in the transcript (author_kind reminder), in one transaction,
// once per r.Key; a client not stored (erased meanwhile) records nothing.
func (s *Store) RecordReminder(ctx context.Context, chat messenger.ChatKey, r crm.Reminder) error {
	if err := checkKey(chat); err != nil {
		return fmt.Errorf("record reminder %s: %w", chat, err)
	}
	at := stampTime(r.SentAt)
	text := crm.CutMessageText(r.Text)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var clientID int64
		var run any // NULL: the conversation is not known
		if r.Run != 0 {
			run = r.Run
		}
		found, err := scanOne(tx, "INSERT INTO reminders (client_id, scenario, version, step, run, n, reminder_key, sent_at) "+
			"SELECT id, ?, ?, ?, ?, ?, ?, ? FROM clients WHERE platform = ? AND bot = ? AND platform_user_id = ? "+
			"ON CONFLICT (client_id, reminder_key) DO NOTHING RETURNING client_id",
			[]any{r.Scenario, r.Version, r.Step, run, r.N, r.Key, at, string(chat.Platform), chat.Bot, chat.ID}, &clientID)
		if err != nil || !found || text == "" {
			return err // !found: recorded before, or no such client
		}
		return tx.Exec("INSERT INTO messages (client_id, direction, author_kind, text, created_at) VALUES (?, ?, ?, ?, ?)",
			clientID, crm.DirectionOut, crm.AuthorReminder, text, at).Error
	})
	if err != nil {
		return fmt.Errorf("record reminder %s: %w", chat, classify(err))
	}
	return nil
}

// ReminderAnswered implements dialog.ReminderLog: every reminder of that
// question sent to the client since since (the conversation's start) and
// not answered yet is stamped answered at at.
func (s *Store) ReminderAnswered(ctx context.Context, chat messenger.ChatKey, scenario, step string, since, at time.Time) error {
	if since.IsZero() {
		since = time.Unix(0, 0) // a conversation of a state that does not know its start
	}
	err := s.db.WithContext(ctx).Exec("UPDATE reminders SET answered_at = ? WHERE client_id = "+clientIDOf+
		" AND scenario = ? AND step = ? AND sent_at >= ? AND answered_at IS NULL",
		stampTime(at), string(chat.Platform), chat.Bot, chat.ID, scenario, step, stampTime(since)).Error
	if err != nil {
		return fmt.Errorf("record an answer after a reminder %s: %w", chat, classify(err))
	}
	return nil
}

// ClientReminders returns the reminders sent to a client, newest first
// (at most 200).
func (s *Store) ClientReminders(ctx context.Context, clientID int64) ([]crm.Reminder, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT id, client_id, scenario, version, step, COALESCE(run, 0), n, reminder_key, sent_at, answered_at "+
		"FROM reminders WHERE client_id = ? ORDER BY id DESC LIMIT ?", clientID, maxPage).Rows()
	if err != nil {
		return nil, fmt.Errorf("reminders of client %d: %w", clientID, err)
	}
	defer rows.Close()
	var out []crm.Reminder
	for rows.Next() {
		var r crm.Reminder
		if err := rows.Scan(&r.ID, &r.ClientID, &r.Scenario, &r.Version, &r.Step, &r.Run, &r.N, &r.Key,
			timeScanner{v: &r.SentAt}, timeScanner{p: &r.AnsweredAt}); err != nil {
			return nil, fmt.Errorf("reminders of client %d: %w", clientID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reminders of client %d: %w", clientID, err)
	}
	return out, nil
}

// ReminderFunnel counts, per question and reminder number, the reminders
// of scenario sent since since and how many of them the client answered
// afterwards, ordered by step and n. An empty scenario counts every
// scenario's.
func (s *Store) ReminderFunnel(ctx context.Context, scenario string, since time.Time) ([]crm.ReminderStat, error) {
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	q := "SELECT scenario, step, n, COUNT(*), COUNT(answered_at) FROM reminders WHERE sent_at >= ?"
	args := []any{stampTime(since)}
	if scenario != "" {
		q += " AND scenario = ?"
		args = append(args, scenario)
	}
	rows, err := s.db.WithContext(ctx).Raw(q+" GROUP BY scenario, step, n ORDER BY scenario, step, n", args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("reminder funnel: %w", err)
	}
	defer rows.Close()
	var out []crm.ReminderStat
	for rows.Next() {
		var r crm.ReminderStat
		if err := rows.Scan(&r.Scenario, &r.Step, &r.N, &r.Sent, &r.Answered); err != nil {
			return nil, fmt.Errorf("reminder funnel: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reminder funnel: %w", err)
	}
	return out, nil
}

// scanOne runs q on tx and scans its first row into dest; false when it
// returned none.
func scanOne(tx *gorm.DB, q string, args []any, dest ...any) (bool, error) {
	rows, err := tx.Raw(q, args...).Rows()
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	for rows.Next() {
	}
	return true, errors.Join(rows.Err(), rows.Close())
}
