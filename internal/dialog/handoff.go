package dialog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// DefaultHandoffWait is the wait the acknowledgment of a hand-off promises
// when HandoffConfig.Wait is not set.
const DefaultHandoffWait = 10 * time.Minute

// returnClockSlack is how much newer than a return's RequestedAt a
// hand-off mark may be and still be the one the return ends: the clocks of
// the console's process and the bot's differ a little.
const returnClockSlack = 2 * time.Second

// Reasons recorded with a hand-off request (crm.Handoff.Reason) besides a
// scenario step's own.
const (
	handoffReasonCommand = "client asked for a manager"
	handoffReasonButton  = "client pressed the manager button"
	handoffReasonKeyword = "client asked for a manager in words"
	handoffReasonStep    = "scenario step"
)

// HandoffHours are the team's working hours (internal/handoff implements
// them from configuration).
type HandoffHours interface {
	// Open reports whether managers work at t.
	Open(t time.Time) bool
	// NextOpen is the next moment after t when managers work, in the
	// team's time zone.
	NextOpen(t time.Time) time.Time
}

// HandoffConfig configures the hand-off to a manager.
type HandoffConfig struct {
	// Keywords are phrases that call a manager when they are the whole
	// message (any case, extra spaces and end punctuation ignored):
	// «позовите менеджера», «оператор». Mid-questionnaire they follow the
	// rule of scenario keywords: an option of the current step wins.
	Keywords []string
	// Wait is the reply time the acknowledgment promises. Default
	// DefaultHandoffWait.
	Wait time.Duration
	// Hours are the team's working hours; nil means always open.
	Hours HandoffHours
}

// HandoffMark is set in a chat's State while the chat is with a manager:
// the bot stays silent, every client message goes to the manager.
type HandoffMark struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason,omitempty"`
}

// ReturnRequest ends a hand-off (HandoffID) from the console, the team
// chat or the idle timer.
type ReturnRequest struct {
	HandoffID int64
	// RequestedAt is when the manager (or the timer) asked; a mark set
	// after it (a new request) is kept.
	RequestedAt time.Time
	// StartScenario, when set, starts that scenario instead of re-asking
	// the paused step.
	StartScenario string
	// Note is written into the transcript as a note of the hub (never sent
	// to the client), when not empty.
	Note string
}

// returnUpdatePrefix starts the update id of a return to the bot.
const returnUpdatePrefix = "handoff-return:"

// ReturnUpdateID is the update id a return of hand-off handoffID runs
// under (the caller holds the chat's turn with it); a redelivered return
// only resends the replies it recorded.
func ReturnUpdateID(handoffID int64) string {
	return returnUpdatePrefix + fmt.Sprint(handoffID)
}

// isReturn reports whether upd is the synthetic update of a return.
func isReturn(upd *messenger.Update) bool {
	return upd != nil && strings.HasPrefix(upd.ID, returnUpdatePrefix)
}

// ReturnToBot ends the chat's hand-off and gives the conversation back to
// the bot: the mark is cleared (unless it is newer than r.RequestedAt, a
// later request), r.Note goes into the transcript, and the paused step is
// asked again with its buttons, or r.StartScenario starts. An unknown
// StartScenario is an error and changes nothing. The caller holds the
// chat's turn under ReturnUpdateID(r.HandoffID).
func (h *Handler) ReturnToBot(ctx context.Context, key messenger.ChatKey, r ReturnRequest) error {
	var start *scenario.Graph
	if r.StartScenario != "" {
		g, ok := h.cfg.Scenarios.Get(r.StartScenario)
		if !ok {
			return fmt.Errorf("return %s to the bot: %w %q", key, ErrUnknownScenario, r.StartScenario)
		}
		start = g
	}
	upd := &messenger.Update{ID: ReturnUpdateID(r.HandoffID), Chat: key, Time: r.RequestedAt}
	return h.run(ctx, key, upd, func(st *State, t *Turn, res *Result) error {
		h.returnToBot(ctx, st, t, res, r, start)
		return nil
	})
}

func (h *Handler) returnToBot(ctx context.Context, st *State, t *Turn, res *Result, r ReturnRequest, start *scenario.Graph) {
	res.State = *st
	if st.Handoff != nil && st.Handoff.Since.After(r.RequestedAt.Add(returnClockSlack)) {
		return // a request made after the manager let go: it stands
	}
	res.State.Handoff = nil
	if note := strings.TrimSpace(r.Note); note != "" {
		res.Changes.Messages = append(res.Changes.Messages, crm.Message{
			Direction: crm.DirectionOut, AuthorKind: crm.AuthorSystem, Text: capText(note), CreatedAt: t.Now,
		})
	}
	if start != nil {
		h.cfg.Engine.Start(start, t, res)
		return
	}
	if !st.Active() {
		return
	}
	g := h.pinned(ctx, &res.State)
	if g == nil {
		res.State = State{}
		return
	}
	paused := st.Paused
	h.cfg.Engine.Resume(g, &res.State, t, res)
	if res.State.Active() && res.State.Scenario == st.Scenario {
		res.State.Paused = paused
	}
}

// ReleaseHandoff clears the hand-off mark of the chat's stored state
// without a bot (no note, no step re-asked), unless the mark is newer than
// requestedAt (a later request): what is left to do when a return to the
// bot is given up, so the client's next message reaches the bot, which
// goes on from the paused step. The rest of the state (the scenario, the
// last update's record) stays as it is. An unreadable state, which the
// next turn discards anyway, is left alone. It reports whether a mark was
// cleared. The caller holds the chat's turn.
func ReleaseHandoff(ctx context.Context, states StateStore, key messenger.ChatKey, requestedAt time.Time) (bool, error) {
	stored, err := states.LoadState(ctx, key)
	if err != nil {
		return false, err // the store names the operation and the chat
	}
	var st State
	if decodeState(stored.Data, &st) != nil || st.Handoff == nil || st.Handoff.Since.After(requestedAt.Add(returnClockSlack)) {
		return false, nil
	}
	st.Handoff = nil
	next := stored
	if next.Data, err = encodeState(&st); err != nil {
		return false, err
	}
	if _, err := states.SaveState(ctx, key, next); err != nil {
		return false, err // the store names the operation and the chat
	}
	return true, nil
}

// startHandoff requests a manager: the request is recorded with the place
// of the conversation (crm.Changes.Handoff); the mark and the
// acknowledgment follow in markHandoff. A chat already with a manager
// gets nothing new: the text goes to the manager.
func (h *Handler) startHandoff(st *State, t *Turn, res *Result, reason, question string) {
	res.State = *st
	if st.Handoff != nil {
		h.handoffActivity(t, res, question)
		return
	}
	res.Changes.Handoff = &crm.Handoff{Scenario: st.Scenario, Step: st.Step, Reason: reason,
		Question: capText(strings.TrimSpace(question)), CreatedAt: t.Now}
}

// markHandoff finishes a turn that requested a manager (a command, a
// button, a keyword or a `handoff:` step): the chat is marked, so the bot
// stays silent, and the client is told once how long the wait is.
func (h *Handler) markHandoff(t *Turn, res *Result) {
	ho := res.Changes.Handoff
	if ho == nil || res.State.Handoff != nil || res.Changes.Forget {
		return
	}
	reason := ho.Reason
	if reason == "" {
		reason = handoffReasonStep
		ho.Reason = reason
	}
	res.State.Handoff = &HandoffMark{Since: t.Now, Reason: reason}
	h.reply(t, res, h.handoffAck(t.Now))
}

// handoffAck is the acknowledgment of a request: the wait in working
// hours, else when managers are back.
func (h *Handler) handoffAck(now time.Time) string {
	tx := h.cfg.Engine.Texts()
	hours := h.cfg.Handoff.Hours
	if hours == nil || hours.Open(now) {
		wait := h.cfg.Handoff.Wait
		if wait <= 0 {
			wait = DefaultHandoffWait
		}
		return fmt.Sprintf(tx.HandoffAccepted, WaitText(wait, tx))
	}
	next := hours.NextOpen(now)
	if next.IsZero() {
		return fmt.Sprintf(tx.HandoffAfterHours, tx.BackLater) // hours with no opening configured
	}
	return fmt.Sprintf(tx.HandoffAfterHours, BackText(now, next, tx))
}

// handoffActivity passes a client's message to the manager: the live
// request's activity (and question) is stamped; the bot says nothing.
func (h *Handler) handoffActivity(t *Turn, res *Result, text string) {
	res.Changes.HandoffActivity = &crm.HandoffActivity{Question: capText(strings.TrimSpace(text)), At: t.Now}
}

// inHandoff handles a client's update while the chat is with a manager:
// /stop and /forget (with their buttons) work as always, anything else
// goes to the manager without a reply; a repeated request (/manager, the
// manager button) adds no second request or acknowledgment.
func (h *Handler) inHandoff(ctx context.Context, st *State, t *Turn, res *Result) {
	upd := t.Update
	if cmd, arg, ok := ParseCommand(upd.Text); ok && upd.Kind == messenger.KindMessage {
		switch cmd {
		case "stop":
			h.stop(t, res)
			res.State = *st
			return
		case "forget":
			h.askForget(st, t, res)
			return
		case "manager":
			h.startHandoff(st, t, res, handoffReasonCommand, arg)
			return
		}
	}
	if upd.Kind == messenger.KindButton {
		switch upd.Value {
		case ManagerValue:
			h.startHandoff(st, t, res, handoffReasonButton, "")
			return
		case UnsubscribeValue, ForgetValue, forgetYes, forgetNo:
			h.buttonCommand(ctx, upd.Value, st, t, res)
			if upd.Value != forgetYes {
				res.State = *st
			}
			return
		}
	}
	res.State = *st
	h.handoffActivity(t, res, inboundText(upd))
}

// isHandoffKeyword reports whether text, the whole message, is one of the
// configured hand-off phrases.
func (h *Handler) isHandoffKeyword(text string) bool {
	if len(h.keywords) == 0 {
		return false
	}
	_, ok := h.keywords[normalizePhrase(text)]
	return ok
}

// handoffKeywords returns the set of keywords normalized (normalizePhrase);
// one that normalizes to nothing is left out (an empty message is no
// request). Nil when there are none.
func handoffKeywords(keywords []string) map[string]struct{} {
	var set map[string]struct{}
	for _, k := range keywords {
		if k = normalizePhrase(k); k != "" {
			if set == nil {
				set = make(map[string]struct{}, len(keywords))
			}
			set[k] = struct{}{}
		}
	}
	return set
}

// keywordHandoff reports whether upd asks for a manager by a configured
// phrase that is not an answer the current step offers (one of its
// options or its skip word), the rule of scenario keywords mid-conversation.
func (h *Handler) keywordHandoff(ctx context.Context, st *State, upd *messenger.Update) bool {
	if upd.Kind != messenger.KindMessage || !h.isHandoffKeyword(upd.Text) {
		return false
	}
	if !st.Active() {
		return true
	}
	g := h.pinned(ctx, st)
	if g == nil {
		return true
	}
	step := g.Steps[st.Step]
	if step == nil {
		return true
	}
	if step.Input == scenario.InputChoice && matchOption(step, upd.Text) != nil {
		return false
	}
	return !(step.Skip && strings.EqualFold(strings.TrimSpace(upd.Text), g.SkipWord))
}

// normalizePhrase lower-cases s, collapses its spaces and drops the
// punctuation around it: «  Позовите   МЕНЕДЖЕРА! » → «позовите менеджера».
func normalizePhrase(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// WaitText writes a wait in Russian for «за %s»: «10 минут», «1 час»,
// «1 час 30 минут», «2 дня».
func WaitText(d time.Duration, tx *Texts) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		d = time.Minute
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, CountWord(days, tx.DayForms))
	}
	if hours > 0 {
		parts = append(parts, CountWord(hours, tx.HourForms))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, CountWord(mins, tx.MinuteForms))
	}
	return strings.Join(parts, " ")
}

// BackText says when managers are back, for «вернутся %s»: «сегодня в
// 09:00», «завтра в 09:00», «в понедельник в 09:00» within a week, else
// «15 января в 09:00». Days are counted in next's time zone.
func BackText(now, next time.Time, tx *Texts) string {
	now = now.In(next.Location())
	at := next.Format("15:04")
	y1, m1, d1 := now.Date()
	y2, m2, d2 := next.Date()
	days := int(time.Date(y2, m2, d2, 12, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 12, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	switch {
	case days <= 0:
		return fmt.Sprintf(tx.BackToday, at)
	case days == 1:
		return fmt.Sprintf(tx.BackTomorrow, at)
	case days < 7:
		return fmt.Sprintf(tx.BackWeekday, tx.Weekdays[next.Weekday()], at)
	}
	return fmt.Sprintf(tx.BackDate, next.Day(), tx.Months[next.Month()-1], at)
}

// ErrUnknownScenario: ReturnToBot was asked to start a scenario this bot
// does not have (removed since the manager chose it).
var ErrUnknownScenario = errors.New("unknown scenario")
