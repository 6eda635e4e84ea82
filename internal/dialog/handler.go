package dialog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// Catalog finds scenarios: the current versions, pinned versions of running
// conversations, and trigger lookups (scenario.Registry implements it).
type Catalog interface {
	Get(id string) (*scenario.Graph, bool)
	// All returns the current scenarios sorted by id (for /help).
	All() []*scenario.Graph
	Version(ctx context.Context, id, version string) (*scenario.Graph, error)
	ByCommand(cmd string) (*scenario.Graph, bool)
	ByKeyword(text string) (*scenario.Graph, bool)
	ByPayload(payload string) (*scenario.Graph, bool)
}

// HandlerConfig wires a Handler.
type HandlerConfig struct {
	// Engine runs steps. Default: NewEngine(EngineConfig{}).
	Engine *Engine
	// States, Clients, Scenarios and Sender are required.
	States    StateStore
	Clients   ClientStore
	Scenarios Catalog
	Sender    messenger.Sender
	// Eraser, when set, carries out a confirmed /forget (crm.Changes.Forget):
	// the same erasure as the console's and the API's (erasure.Eraser),
	// which also deletes the chat's state; the turn then saves its farewell
	// reply as a fresh state. Nil: the Forget change goes to
	// Clients.RecordChanges (which deletes the record) and the turn's empty
	// state replaces the conversation.
	Eraser Eraser
	// Handoff configures the hand-off to a manager: the phrases that call
	// one, the wait promised and the team's working hours.
	Handoff HandoffConfig
	// Reminders, when set, schedules the reminders of steps with remind:
	// (see Remind); nil: no reminder is scheduled.
	Reminders ReminderQueue
	// ReminderLog, when set, records reminders sent and the answers that
	// came after them (the funnel).
	ReminderLog ReminderLog
	// DefaultScenario starts on /start without a matching payload and on a new
	// client's first message. Default: the scenario with the "start" command.
	DefaultScenario string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// Trace, when set, is given the moves of every turn whose state was
	// saved (Result.Trace; the Engine must be built with
	// EngineConfig.Trace). The scenario tests' coverage uses it; nil in
	// production.
	Trace func(chat messenger.ChatKey, hops []Hop)
}

func (c *HandlerConfig) validate() error {
	switch {
	case c.States == nil:
		return errors.New("dialog: HandlerConfig.States is required")
	case c.Clients == nil:
		return errors.New("dialog: HandlerConfig.Clients is required")
	case c.Scenarios == nil:
		return errors.New("dialog: HandlerConfig.Scenarios is required")
	case c.Sender == nil:
		return errors.New("dialog: HandlerConfig.Sender is required")
	}
	return nil
}

// Handler handles one update end to end: load state and client, run the
// engine, record CRM changes, save state (compare-and-set), send replies.
// Callers serialise updates of one chat (internal/dispatch does).
type Handler struct {
	cfg     HandlerConfig
	results sync.Pool
	// keywords are cfg.Handoff.Keywords normalized (normalizePhrase),
	// once: every client message is looked up there.
	keywords map[string]struct{}
}

// NewHandler checks cfg and returns a Handler.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Engine == nil {
		cfg.Engine = NewEngine(EngineConfig{})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, keywords: handoffKeywords(cfg.Handoff.Keywords)}
	h.results.New = func() any { return new(Result) }
	return h, nil
}

// Handle processes one update. An error means the update may be retried:
// CRM writes are idempotent per update (crm.Changes.UpdateID: the answer
// history, transcript and other append-only parts are recorded once). A
// redelivered update that was already applied is not run again: its
// recorded replies are sent if their delivery was not confirmed (see
// StoredState.Outbox).
//
// The next state is saved with the update's id and its replies before they
// are sent, unless the turn is replayable (see replayable) and the state
// store holds the chat's turn (TurnStateStore): the state is then written
// with the end of the turn, after the replies went out, in the round trip
// that marks the update handled. A process that dies before that runs the
// update again from the state it had, which decides the same; a send that
// fails hands the turn the state with the replies not yet sent, as the
// record a retry sends them from.
func (h *Handler) Handle(ctx context.Context, upd *messenger.Update) error {
	return h.run(ctx, upd.Chat, upd, func(st *State, t *Turn, res *Result) error {
		return h.route(ctx, st, t, res)
	})
}

// Begin starts scenario id for a chat as if the client had triggered it.
func (h *Handler) Begin(ctx context.Context, key messenger.ChatKey, id string, profile *messenger.Profile) error {
	g, ok := h.cfg.Scenarios.Get(id)
	if !ok {
		return fmt.Errorf("begin %s: unknown scenario %q", key, id)
	}
	return h.run(ctx, key, nil, func(_ *State, t *Turn, res *Result) error {
		res.Changes.Profile = profile
		h.cfg.Engine.Start(g, t, res)
		return nil
	})
}

type decideFunc func(st *State, t *Turn, res *Result) error

// run is the I/O sequence around one decision. The new state is saved with
// the update's id and its replies before they are sent, so a redelivery of
// an update that was applied (the process died before the pipeline finished
// it) sends the recorded replies instead of running the engine again.
func (h *Handler) run(ctx context.Context, key messenger.ChatKey, upd *messenger.Update, decide decideFunc) error {
	_, err := h.turn(ctx, key, upd, decide)
	return err
}

// turnReport tells how a turn went: whether it decided (else it repeated
// the recorded replies of an update applied before), whether a send found
// the client blocked or was refused for good, and the text of its first
// reply.
type turnReport struct {
	decided, blocked, refused bool
	first                     string
}

// turn is run, reporting how the turn went. A reminder's turn (see
// Remind) writes no CRM changes: its message goes into the transcript with
// its funnel record once sent, and a reminder does not count as the
// client being seen.
func (h *Handler) turn(ctx context.Context, key messenger.ChatKey, upd *messenger.Update, decide decideFunc) (turnReport, error) {
	var rep turnReport
	stored, err := h.cfg.States.LoadState(ctx, key)
	if err != nil {
		return rep, err // the store names the operation and the chat
	}
	if id := updateID(upd); id != "" && stored.Update == id {
		return h.resend(ctx, key, upd, stored)
	}
	var st State
	if err := decodeState(stored.Data, &st); err != nil {
		h.cfg.Logger.Warn("discarding unreadable conversation state", "chat", key.String(), "err", err)
	}
	res := h.results.Get().(*Result)
	defer h.results.Put(res)
	t := Turn{Chat: key, Update: upd, ClientUnknown: true, Now: h.cfg.Now()}
	if err := h.decide(ctx, decide, &st, &t, res); err != nil {
		return rep, err
	}
	rep.decided = true
	if key.Platform == messenger.Playground {
		res.Changes.Visits = res.Changes.Visits[:0] // the console's tries are no funnel traffic
	} else {
		markDrops(&st, res)
	}
	h.markHandoff(&t, res)
	h.planReminder(ctx, &t, res)
	reminder := isReminder(upd)
	if !reminder {
		h.transcript(&t, res)
	}
	h.fillProfile(&t, res)
	for _, w := range res.Warnings {
		h.cfg.Logger.Warn("scenario runtime problem", "chat", key.String(), "scenario", st.Scenario, "err", w)
	}
	res.Changes.UpdateID = updateID(upd)
	if !reminder {
		if err := h.record(ctx, key, &res.Changes, &stored); errors.Is(err, crm.ErrRejected) {
			return rep, h.rejected(ctx, key, upd, stored, err)
		} else if err != nil {
			return rep, err // the store names the operation and the chat
		}
	}
	saved, atLeave, err := h.saveState(ctx, key, &st, stored, &t, res)
	if err != nil {
		return rep, err
	}
	if h.cfg.Trace != nil && len(res.Trace) > 0 {
		h.cfg.Trace(key, res.Trace)
	}
	h.applyReminder(ctx, key, &st, &t, res)
	if len(res.Replies) > 0 {
		rep.first = res.Replies[0].Text
	}
	sent, err := h.send(ctx, key, upd, res.Replies, 0, !res.Changes.Forget, &rep)
	switch {
	case err != nil && atLeave:
		h.keepProgress(key, saved, res.Replies, sent)
	case err != nil:
		h.recordProgress(ctx, key, saved, res.Replies, 0, sent)
	}
	return rep, err
}

// replayable reports whether running the turn again, from the same stored
// state and update, would decide the same: the update has an id (it is
// redelivered, not started anew), it is no reminder, and the decision read
// nothing a first run could have changed or that changes by itself: not
// the client card (which the turn's own CRM write updates: a new client's
// first message found no client), not the clock (UsedClock, working hours
// of a hand-off), no erasure (it deletes the state) and no hand-off. Runtime
// warnings of the scenario also make a turn not replayable (a cautious
// choice: they are rare). The CRM write of a rerun records the append-only
// parts once (crm.Changes.UpdateID) and writes the same fields again.
func replayable(old *State, t *Turn, res *Result) bool {
	ch := &res.Changes
	return updateID(t.Update) != "" && !isReminder(t.Update) && t.ClientUnknown && !res.UsedClock &&
		!ch.Forget && ch.Handoff == nil && ch.HandoffActivity == nil && old.Handoff == nil &&
		res.State.Handoff == nil && len(res.Warnings) == 0
}

// record writes the turn's CRM changes. A /forget goes to the Eraser when
// there is one; it deletes the chat's state too, so stored becomes the
// empty state this turn saves over (the turn holds the chat, so nothing
// else writes it meanwhile).
func (h *Handler) record(ctx context.Context, key messenger.ChatKey, ch *crm.Changes, stored *StoredState) error {
	if ch.Forget && h.cfg.Eraser != nil {
		if _, err := h.cfg.Eraser.Erase(ctx, key); err != nil {
			return err // the eraser names the operation and the chat
		}
		*stored = StoredState{}
		return nil
	}
	return h.cfg.Clients.RecordChanges(ctx, key, ch)
}

// rejected finishes an update whose CRM changes the store refused for good
// (crm.ErrRejected): retrying would fail the same way. The conversation
// stays where it was; the client is told (Texts.Rejected) that the answer
// was not saved, that reply recorded with the update's id like any other,
// so a redelivery only resends it. The error returned wraps
// messenger.ErrPermanent: the pipeline logs it once with the chat id,
// counts it and acknowledges the update. An update-less turn (a scenario
// started from a campaign button or the terminal) has nothing to answer.
func (h *Handler) rejected(ctx context.Context, key messenger.ChatKey, upd *messenger.Update, stored StoredState, cause error) error {
	perm := fmt.Errorf("%w: record changes %s: %w", messenger.ErrPermanent, key, cause)
	id := updateID(upd)
	if id == "" {
		return perm
	}
	replies := []messenger.OutMessage{{Chat: key, Text: h.cfg.Engine.Texts().Rejected}}
	h.recordRejectedTranscript(ctx, key, upd, replies)
	next := StoredState{Data: stored.Data, Rev: stored.Rev, Update: id}
	var err error
	if next.Outbox, err = encodeOutbox(0, replies); err != nil {
		return fmt.Errorf("encode replies %s: %w", key, err)
	}
	if next.Rev, err = h.cfg.States.SaveState(ctx, key, next); err != nil {
		return err // the store names the operation and the chat
	}
	if sent, err := h.send(ctx, key, upd, replies, 0, true, nil); err != nil {
		h.recordProgress(ctx, key, next, replies, 0, sent)
		return err
	}
	return perm
}

// recordRejectedTranscript keeps the client's message and the Rejected
// reply of a refused turn in the transcript, with nothing else of the
// turn. It is best effort: a failure is logged and the turn goes on.
func (h *Handler) recordRejectedTranscript(ctx context.Context, key messenger.ChatKey, upd *messenger.Update, replies []messenger.OutMessage) {
	now := h.cfg.Now()
	m, ok := inboundMessage(upd, now)
	if !ok {
		return
	}
	ch := crm.Changes{Now: now, UpdateID: updateID(upd), Messages: appendReplies([]crm.Message{m}, replies, now)}
	if err := h.cfg.Clients.RecordChanges(ctx, key, &ch); err != nil {
		h.cfg.Logger.Warn("record the transcript of a refused answer failed", "chat", key.String(), "err", err)
	}
}

// updateID is the update's platform id, "" when there is none.
func updateID(upd *messenger.Update) string {
	if upd == nil {
		return ""
	}
	return upd.ID
}

// resend delivers the recorded replies of an update that was applied but
// whose delivery was never confirmed; with no record left there is nothing
// to do. Each reply keeps its idempotency key, so platforms that dedupe
// sends (VK) deliver it once; Telegram may show a reply twice if it had gone
// out just before the crash.
func (h *Handler) resend(ctx context.Context, key messenger.ChatKey, upd *messenger.Update, stored StoredState) (turnReport, error) {
	var rep turnReport
	if len(stored.Outbox) == 0 {
		return rep, nil
	}
	o, err := decodeOutbox(stored.Outbox)
	if err != nil {
		h.cfg.Logger.Warn("discarding unreadable reply record", "chat", key.String(), "update", upd.ID, "err", err)
		return rep, nil
	}
	h.cfg.Logger.Info("update was applied before; sending its recorded replies", "chat", key.String(), "update", upd.ID,
		"replies", len(o.Replies), "from", o.From)
	if len(o.Replies) > 0 && o.From == 0 {
		rep.first = o.Replies[0].Text
	}
	sent, err := h.send(ctx, key, upd, o.Replies, o.From, true, &rep)
	if err != nil {
		h.recordProgress(ctx, key, stored, o.Replies, o.From, sent)
	}
	return rep, err
}

// recordProgress narrows the update's reply record to the replies after
// the sent ones that went out before a send failed, so the retry does not
// repeat them (Telegram cannot deduplicate). It is best effort: when the
// write fails, the retry sends every recorded reply, as before.
func (h *Handler) recordProgress(ctx context.Context, key messenger.ChatKey, saved StoredState, replies []messenger.OutMessage, from, sent int) {
	if sent == 0 || saved.Update == "" || sent > len(replies) {
		return
	}
	out, err := encodeOutbox(from+sent, replies[sent:])
	if err == nil {
		next := saved
		next.Outbox = out
		_, err = h.cfg.States.SaveState(ctx, key, next)
	}
	if err != nil {
		h.cfg.Logger.Warn("record the replies already sent failed; the retry sends them all", "chat", key.String(),
			"update", saved.Update, "sent", sent, "err", err)
	}
}

// decide runs the decision without the client card first and again with it
// when the engine reports it needed the card.
func (h *Handler) decide(ctx context.Context, decide decideFunc, st *State, t *Turn, res *Result) error {
	for {
		res.Reset()
		res.Changes.Now = t.Now
		if err := decide(st, t, res); err != nil {
			return err
		}
		if !res.NeedClient {
			return nil
		}
		client, err := h.cfg.Clients.GetClient(ctx, t.Chat)
		if err != nil {
			return err // the store names the operation and the chat
		}
		t.Client, t.ClientUnknown = client, false
	}
}

// fillProfile passes the platform profile and deep-link source to the CRM.
func (h *Handler) fillProfile(t *Turn, res *Result) {
	if t.Update == nil {
		return
	}
	// The store fills profile fields only where the client has none yet.
	if p := t.Update.Profile; p != nil && res.Changes.Profile == nil {
		res.Changes.Profile = p
	}
	if src := deepLinkPayload(t.Update.Source); src != "" && res.Changes.Source == "" {
		res.Changes.Source = src
	}
}

// saveState writes the next state with the update's id and replies (when
// the update has an id), compare-and-set on the loaded revision, and
// returns it as stored. Nothing is written for an update-less turn that
// neither had nor starts a conversation. A replayable turn hands the state,
// without the replies, to the chat's turn (TurnStateStore.SaveAtLeave)
// when the store holds it: atLeave is then true and the returned state is
// the one handed over, at the loaded revision.
func (h *Handler) saveState(ctx context.Context, key messenger.ChatKey, old *State, stored StoredState, t *Turn, res *Result) (saved StoredState, atLeave bool, err error) {
	id := updateID(t.Update)
	if id == "" && old.empty() && res.State.empty() && stored.Rev == 0 {
		return StoredState{}, false, nil
	}
	data, err := encodeState(&res.State)
	if err != nil {
		return StoredState{}, false, err
	}
	next := StoredState{Data: data, Rev: stored.Rev, Update: id}
	if ts, ok := h.cfg.States.(TurnStateStore); ok && replayable(old, t, res) && ts.SaveAtLeave(key, next) {
		return next, true, nil
	}
	if id != "" && len(res.Replies) > 0 {
		if next.Outbox, err = encodeOutbox(0, res.Replies); err != nil {
			return StoredState{}, false, fmt.Errorf("encode replies %s: %w", key, err)
		}
	}
	if next.Rev, err = h.cfg.States.SaveState(ctx, key, next); err != nil {
		return StoredState{}, false, err // the store names the operation and the chat
	}
	return next, false, nil
}

// keepProgress is recordProgress for a state handed to the chat's turn
// (saveState's atLeave): the turn is handed the state again with the
// replies from the first one not sent on as its record, written when the
// pipeline leaves the turn (in failure), so the retry sends only those.
func (h *Handler) keepProgress(key messenger.ChatKey, saved StoredState, replies []messenger.OutMessage, sent int) {
	if sent >= len(replies) {
		return
	}
	out, err := encodeOutbox(sent, replies[sent:])
	if err == nil {
		next := saved
		next.Outbox = out
		if !h.cfg.States.(TurnStateStore).SaveAtLeave(key, next) {
			err = errors.New("the chat's turn is no longer held")
		}
	}
	if err != nil {
		h.cfg.Logger.Warn("record the replies not sent failed; the retry runs the update again", "chat", key.String(),
			"update", saved.Update, "sent", sent, "err", err)
	}
}

// send delivers replies, the update's replies from index from on, in
// order, each with an idempotency key of the update and its index, and
// returns how many it handled before a failure. A blocked client is
// recorded; a refused message (bad request) is logged and skipped. Any
// other failure (network, rate limit, deadline) stops the sending and is
// returned when the update has an id: the state already recorded the
// replies, so the pipeline retries the update and the retry sends the ones
// not sent yet (see resend, recordProgress). Without an id it is logged.
// recordBlock is false when the turn deleted the client (/forget): a
// block then must not write a client row again. rep, when not nil, notes
// a block or a refused reply.
func (h *Handler) send(ctx context.Context, key messenger.ChatKey, upd *messenger.Update, replies []messenger.OutMessage, from int, recordBlock bool, rep *turnReport) (int, error) {
	if rep == nil {
		rep = &turnReport{}
	}
	for i, msg := range replies {
		sendCtx := ctx
		if upd != nil && upd.ID != "" {
			// A retried send of the same reply to the same update is delivered
			// once where the platform can deduplicate (VK random_id).
			sendCtx = messenger.WithIdempotencyKey(ctx, upd.ID+"/"+strconv.Itoa(from+i))
		}
		_, err := h.cfg.Sender.Send(sendCtx, msg)
		if err == nil {
			continue
		}
		h.cfg.Logger.Warn("send reply failed", "chat", key.String(), "err", err)
		switch {
		case errors.Is(err, messenger.ErrBlocked) && !recordBlock:
			rep.blocked = true
			return len(replies), nil
		case errors.Is(err, messenger.ErrBlocked):
			rep.blocked = true
			ch := crm.Changes{Now: h.cfg.Now(), Blocked: true}
			if err := h.cfg.Clients.RecordChanges(ctx, key, &ch); err != nil {
				h.cfg.Logger.Error("record blocked client failed", "chat", key.String(), "err", err)
			}
			return len(replies), nil
		case errors.Is(err, messenger.ErrBadRequest):
			rep.refused = true
			continue
		case updateID(upd) != "":
			return i, fmt.Errorf("send reply %d of %d to %s: %w", from+i+1, from+len(replies), key, err)
		}
	}
	return len(replies), nil
}
