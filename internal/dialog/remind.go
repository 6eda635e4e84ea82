package dialog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// Reminders (a step's `remind:`, docs/SCENARIOS.md "Reminders"): when a
// turn leaves the conversation waiting at a step with remind:, the
// Handler schedules a reminder of the chat in the ReminderQueue, due
// remind.after later, and records it in the state (State.Remind) before
// the turn ends; any later turn of the chat plans it again: a client's
// message moves it (the wait starts over), an answer, another scenario, an
// end, a hand-off, /stop or a block cancels it. The queue holds at most
// one reminder per chat. A reminder worker (internal/remind) hands the
// due ones to Handler.Remind under the chat's turn, which sends one only
// while the state still records it, so a reminder whose conversation
// moved on is dropped whatever became of the cheap cancel.

// Reminder is one scheduled reminder of a chat: the step of the running
// conversation whose question waits for an answer, and when.
type Reminder struct {
	Chat     messenger.ChatKey
	Scenario string
	Version  string
	Step     string
	// N is the number of this reminder for the step, from 1.
	N int
	// Due is when it is due as the conversation's state records it
	// (RemindMark.Due): with N it identifies the reminder.
	Due time.Time
	// Attempts counts the tries that failed for a reason that may pass
	// (the reminder worker bounds them).
	Attempts int
}

// remindUpdatePrefix starts the update id of a reminder's turn.
const remindUpdatePrefix = "remind:"

// UpdateID is the id of the reminder's turn, "remind:<n>:<due ns>": the
// chat's handled mark of it makes a reminder taken over by another
// process (its holder died) a duplicate once it was sent.
func (r Reminder) UpdateID() string {
	return remindUpdatePrefix + strconv.Itoa(r.N) + ":" + strconv.FormatInt(r.Due.UnixNano(), 10)
}

// isReminder reports whether upd is the synthetic update of a reminder.
func isReminder(upd *messenger.Update) bool {
	return upd != nil && strings.HasPrefix(upd.ID, remindUpdatePrefix)
}

// RemindMark is State.Remind: the step whose question has a reminder,
// how many went out and when the next one is due.
type RemindMark struct {
	Step string `json:"st"`
	// Sent is how many reminders of the step went out in this visit.
	Sent int `json:"n,omitempty"`
	// Due is when the next one is due; zero when none is pending (the
	// step's remind.times went out).
	Due time.Time `json:"due,omitzero"`
}

// pending reports whether m records a reminder scheduled in the queue.
func (m *RemindMark) pending() bool { return m != nil && !m.Due.IsZero() }

// ReminderQueue keeps the chats' pending reminders, at most one per chat,
// shared by every process (internal/store/redis implements it).
type ReminderQueue interface {
	// ScheduleReminder sets the chat's reminder to r, due at r.Due,
	// replacing any other of the chat.
	ScheduleReminder(ctx context.Context, r Reminder) error
	// CancelReminder drops the chat's reminder, if any.
	CancelReminder(ctx context.Context, chat messenger.ChatKey) error
}

// ReminderLog records reminders for the funnel, reminded → came back
// (internal/store/postgres implements it).
type ReminderLog interface {
	// RecordReminder records a reminder sent to the chat's client, once
	// per r.Key, with its message in the client's transcript.
	RecordReminder(ctx context.Context, chat messenger.ChatKey, r crm.Reminder) error
	// ReminderAnswered records that the chat's client answered step of
	// scenario at at, after the reminders of it sent since since.
	ReminderAnswered(ctx context.Context, chat messenger.ChatKey, scenario, step string, since, at time.Time) error
}

// RemindOutcome is what became of a reminder given to Handler.Remind.
type RemindOutcome int

// Outcomes of Handler.Remind.
const (
	// RemindSent: the reminder went out (or its recorded send was
	// repeated: the process that sent it died before confirming it).
	RemindSent RemindOutcome = iota
	// RemindStale: the conversation is no longer where the reminder was
	// scheduled (answered, moved on, ended, with a manager, another
	// reminder since) or the step no longer reminds: dropped.
	RemindStale
	// RemindBlocked: the client blocked the bot (recorded): dropped.
	RemindBlocked
	// RemindRefused: the platform refused the message for good: dropped.
	RemindRefused
	// RemindRepeated: the reminder's turn was carried out before (by a
	// process that died before finishing the reminder): nothing to do.
	RemindRepeated
)

// String names the outcome for logs.
func (o RemindOutcome) String() string {
	switch o {
	case RemindSent:
		return "sent"
	case RemindStale:
		return "stale"
	case RemindBlocked:
		return "blocked"
	case RemindRefused:
		return "refused"
	case RemindRepeated:
		return "repeated"
	}
	return "unknown"
}

// errReminderStale ends a reminder's turn that has nothing to send,
// before anything is written.
var errReminderStale = errors.New("reminder no longer applies")

// Remind sends reminder r under the chat's turn (the caller holds it with
// r.UpdateID()): when the conversation still waits at r's step with r
// pending (State.Remind), the step's remind.text goes out with the step's
// buttons, the transcript and the funnel record it (ReminderLog), and the
// next reminder is scheduled while the step's remind.times allow. A
// failed send that may pass is returned as an error: the reminder was
// recorded in the state, so a retry with the same r repeats that send.
func (h *Handler) Remind(ctx context.Context, r Reminder) (RemindOutcome, error) {
	upd := &messenger.Update{ID: r.UpdateID(), Chat: r.Chat, Time: h.cfg.Now()}
	var run int64
	rep, err := h.turn(ctx, r.Chat, upd, func(st *State, t *Turn, res *Result) error {
		g, tx := h.reminderOf(ctx, st, r)
		if g == nil {
			return errReminderStale
		}
		if !st.StartedAt.IsZero() {
			run = st.Run()
		}
		h.cfg.Engine.Remind(g, st, tx, t, res)
		res.State.Remind = &RemindMark{Step: st.Step, Sent: st.Remind.Sent + 1}
		return nil
	})
	switch {
	case errors.Is(err, errReminderStale):
		return RemindStale, nil
	case err != nil:
		return RemindSent, err
	case rep.blocked:
		return RemindBlocked, nil
	case rep.refused:
		return RemindRefused, nil
	}
	h.recordReminder(ctx, r, run, rep.first)
	return RemindSent, nil
}

// reminderOf returns the graph of st's conversation and the text of
// reminder r when r still applies to st: the conversation waits at r's
// step with r pending, no manager has the chat, and the scenario's current
// version still reminds at that step (an operator who removed remind:
// stops the pending ones). The text is the conversation's version's.
func (h *Handler) reminderOf(ctx context.Context, st *State, r Reminder) (*scenario.Graph, *scenario.Text) {
	m := st.Remind
	if !st.Active() || st.Handoff != nil || st.Scenario != r.Scenario || st.Step != r.Step ||
		m == nil || m.Step != r.Step || m.Sent+1 != r.N || !m.Due.Equal(r.Due) {
		return nil, nil
	}
	cur, ok := h.cfg.Scenarios.Get(st.Scenario)
	if !ok || cur.Steps[st.Step] == nil || cur.Steps[st.Step].Remind == nil {
		return nil, nil
	}
	g, err := h.cfg.Scenarios.Version(ctx, st.Scenario, st.Version)
	if err != nil || g.Steps[st.Step] == nil {
		return cur, cur.Steps[st.Step].Remind.Text
	}
	if rm := g.Steps[st.Step].Remind; rm != nil {
		return g, rm.Text
	}
	return g, cur.Steps[st.Step].Remind.Text
}

// Remind says text, a reminder of st's step of g, with the step's buttons
// (and a multi-select's selection so far): the question waits on.
func (e *Engine) Remind(g *scenario.Graph, st *State, text *scenario.Text, t *Turn, res *Result) {
	res.State = *st
	step := g.Steps[st.Step]
	if step == nil {
		return
	}
	c := call{e: e, g: g, t: t, res: res}
	c.say(c.render(text, answer{}), e.keyboard(step, st.Selected, g.SkipWord))
}

// recordReminder writes a sent reminder to the funnel and, with its
// text, to the transcript (best effort: a failure is logged). A turn that
// found its reminder recorded and confirmed before has no text: the log
// keeps what it has, once per key. run is the conversation's (0 unknown).
func (h *Handler) recordReminder(ctx context.Context, r Reminder, run int64, text string) {
	if h.cfg.ReminderLog == nil {
		return
	}
	rec := crm.Reminder{Scenario: r.Scenario, Version: r.Version, Step: r.Step, Run: run, N: r.N, Key: r.UpdateID(),
		Text: capText(text), SentAt: h.cfg.Now()}
	if err := h.cfg.ReminderLog.RecordReminder(context.WithoutCancel(ctx), r.Chat, rec); err != nil {
		h.cfg.Logger.Warn("record a sent reminder failed", "chat", r.Chat.String(), "scenario", r.Scenario, "step", r.Step, "err", err)
	}
}

// planReminder sets the reminder the turn leaves (res.State.Remind):
// pending, due remind.after from now, when the conversation waits at a
// step with remind: and the step's reminders are not used up; none when
// it ended, waits at a step without one, is with a manager, or the turn
// unsubscribed, blocked or erased the client. The count of reminders sent
// carries over while the conversation stays at the same step.
func (h *Handler) planReminder(ctx context.Context, t *Turn, res *Result) {
	next := &res.State
	mark := next.Remind
	next.Remind = nil
	ch := &res.Changes
	if h.cfg.Reminders == nil || !next.Active() || next.Handoff != nil || ch.Forget || ch.Unsubscribe || ch.Blocked {
		return
	}
	g, err := h.cfg.Scenarios.Version(ctx, next.Scenario, next.Version)
	if err != nil {
		return // the turn goes on; pinned() logged what is missing when it mattered
	}
	step := g.Steps[next.Step]
	if step == nil || step.Remind == nil {
		return
	}
	m := &RemindMark{Step: next.Step}
	if mark != nil && mark.Step == next.Step {
		m.Sent = mark.Sent
	}
	if m.Sent < step.Remind.Times {
		m.Due = t.Now.Add(step.Remind.After)
	}
	next.Remind = m
}

// applyReminder makes the queue agree with the state the turn saved:
// the reminder it plans is scheduled, one the previous state had pending
// is cancelled. It also records, for the funnel, a client who answered a
// step they were reminded of. Both are best effort: the queue's reminder
// is checked against the state when due, and a failure is logged.
func (h *Handler) applyReminder(ctx context.Context, key messenger.ChatKey, old *State, t *Turn, res *Result) {
	if h.cfg.Reminders == nil {
		return
	}
	next := &res.State
	var err error
	switch {
	case next.Remind.pending():
		err = h.cfg.Reminders.ScheduleReminder(ctx, Reminder{Chat: key, Scenario: next.Scenario, Version: next.Version,
			Step: next.Step, N: next.Remind.Sent + 1, Due: next.Remind.Due})
	case old.Remind.pending():
		err = h.cfg.Reminders.CancelReminder(ctx, key)
	}
	if err != nil {
		h.cfg.Logger.Warn("update the chat's reminder failed", "chat", key.String(), "err", err)
	}
	if old.Remind != nil && old.Remind.Sent > 0 && res.Answered && h.cfg.ReminderLog != nil {
		err := h.cfg.ReminderLog.ReminderAnswered(ctx, key, old.Scenario, old.Step, old.StartedAt, t.Now)
		if err != nil {
			h.cfg.Logger.Warn("record an answer after a reminder failed", "chat", key.String(), "scenario", old.Scenario,
				"step", old.Step, "err", err)
		}
	}
}

// String names the reminder for logs (no personal data).
func (r Reminder) String() string {
	return fmt.Sprintf("%s %s/%s #%d", r.Chat, r.Scenario, r.Step, r.N)
}
