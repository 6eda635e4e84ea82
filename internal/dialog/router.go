package dialog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// Button values that work outside any scenario; broadcasts carry them.
const (
	// UnsubscribeValue is the value of a broadcast's «Отписаться» button:
	// handled as /stop.
	UnsubscribeValue = "cmd:stop"
	// ForgetValue is the value of a button (a scenario's «Удалить мои
	// данные») handled as /forget: it asks to confirm the deletion.
	ForgetValue = "cmd:forget"
	// ManagerValue is the value of a button («Позвать менеджера») handled
	// as /manager: the chat is handed to a manager.
	ManagerValue = "cmd:manager"
	// forgetYes and forgetNo answer the /forget confirmation.
	forgetYes = "cmd:forget:yes"
	forgetNo  = "cmd:forget:no"
	// scenarioValuePrefix + a scenario id starts that scenario.
	scenarioValuePrefix = scenario.ScenarioValuePrefix
)

// ScenarioValue is the value of a button that starts scenario id.
func ScenarioValue(id string) string { return scenarioValuePrefix + id }

// route decides what an update does: block events, global commands, the
// running conversation, keyword and deep-link triggers, or the fallback.
func (h *Handler) route(ctx context.Context, st *State, t *Turn, res *Result) error {
	upd := t.Update
	switch upd.Kind {
	case messenger.KindBlocked:
		res.State, res.Changes.Blocked = *st, true
		return nil
	case messenger.KindUnblocked:
		res.State, res.Changes.Unblocked = *st, true
		return nil
	}
	if st.Handoff != nil {
		h.inHandoff(ctx, st, t, res)
		return nil
	}
	if cmd, arg, ok := ParseCommand(upd.Text); ok && upd.Kind == messenger.KindMessage {
		h.command(ctx, cmd, arg, st, t, res)
		return nil
	}
	if upd.Kind == messenger.KindButton && h.buttonCommand(ctx, upd.Value, st, t, res) {
		return nil
	}
	if v := h.typedCommand(ctx, st, upd); v != "" && h.buttonCommand(ctx, v, st, t, res) {
		return nil
	}
	if h.keywordHandoff(ctx, st, upd) {
		h.startHandoff(st, t, res, handoffReasonKeyword, upd.Text)
		return nil
	}
	if st.Active() {
		if g := h.pinned(ctx, st); g != nil {
			if other := h.interruption(g, st, upd); other != nil {
				h.switchTo(ctx, other, st, t, res)
				return nil
			}
			h.cfg.Engine.Answer(g, st, t, res)
			h.resumePaused(ctx, st.Paused, t, res)
			return nil
		}
	}
	if g := h.trigger(t, res); g != nil {
		h.cfg.Engine.Start(g, t, res)
		return nil
	}
	h.reply(t, res, h.cfg.Engine.Texts().Fallback)
	return nil
}

// interruption returns the scenario a message mid-conversation asks for:
// the whole message is a keyword of another scenario and not an answer the
// current step offers (one of its options or its skip word). See
// docs/SCENARIOS.md, "Keywords during a conversation".
func (h *Handler) interruption(cur *scenario.Graph, st *State, upd *messenger.Update) *scenario.Graph {
	if upd.Kind != messenger.KindMessage {
		return nil
	}
	g, ok := h.cfg.Scenarios.ByKeyword(upd.Text)
	if !ok || g.ID == st.Scenario {
		return nil
	}
	if step := cur.Steps[st.Step]; step != nil {
		if step.Input == scenario.InputChoice && matchOption(step, upd.Text) != nil {
			return nil
		}
		if step.Skip && strings.EqualFold(strings.TrimSpace(upd.Text), cur.SkipWord) {
			return nil
		}
	}
	return g
}

// switchTo starts g over the running conversation, which is paused and
// resumes when g's conversation ends. When a conversation that was itself
// started over a questionnaire is interrupted, the original questionnaire
// stays the one to resume.
func (h *Handler) switchTo(ctx context.Context, g *scenario.Graph, st *State, t *Turn, res *Result) {
	paused := *st
	if st.Paused != nil {
		paused = *st.Paused
	}
	paused.Paused = nil
	h.cfg.Engine.Start(g, t, res)
	if res.State.Active() {
		res.State.Paused = &paused
		return
	}
	h.resumePaused(ctx, &paused, t, res)
}

// resumePaused returns to the paused questionnaire when the conversation
// of this turn ended; nothing when one still runs or none was paused, or
// when the paused scenario's version is gone.
func (h *Handler) resumePaused(ctx context.Context, paused *State, t *Turn, res *Result) {
	if paused == nil || res.State.Active() {
		return
	}
	g := h.pinned(ctx, paused)
	if g == nil {
		return
	}
	title := g.Title
	if title == "" {
		title = g.ID
	}
	h.reply(t, res, fmt.Sprintf(h.cfg.Engine.Texts().Resumed, title))
	h.cfg.Engine.Resume(g, paused, t, res)
}

// trigger finds a scenario an idle client's message starts: a keyword, a
// deep-link source, or the default scenario on a client's very first message.
func (h *Handler) trigger(t *Turn, res *Result) *scenario.Graph {
	upd := t.Update
	if upd.Kind == messenger.KindMessage {
		if g, ok := h.cfg.Scenarios.ByKeyword(upd.Text); ok {
			return g
		}
	}
	if src := deepLinkPayload(upd.Source); src != "" {
		if g, ok := h.cfg.Scenarios.ByPayload(src); ok {
			return g
		}
	}
	if t.client(res) == nil {
		return h.defaultScenario()
	}
	return nil
}

// command handles /start, /stop, scenario commands, and the built-in
// /profile, /forget, /manager and /help when no scenario claims them. A
// command of another scenario mid-conversation pauses the conversation as
// its keyword does (switchTo); /start restarts and drops it.
func (h *Handler) command(ctx context.Context, cmd, arg string, st *State, t *Turn, res *Result) {
	tx := h.cfg.Engine.Texts()
	var g *scenario.Graph
	switch cmd {
	case "stop":
		h.stop(t, res)
		return
	case "start":
		if arg = deepLinkPayload(arg); arg != "" {
			res.Changes.Source = arg
			g, _ = h.cfg.Scenarios.ByPayload(arg)
		}
		if g == nil {
			g = h.defaultScenario()
		}
	default:
		g, _ = h.cfg.Scenarios.ByCommand(cmd)
	}
	switch {
	case g != nil && cmd != "start" && st.Active() && g.ID != st.Scenario:
		h.switchTo(ctx, g, st, t, res)
	case g != nil:
		h.cfg.Engine.Start(g, t, res)
	case cmd == "manager":
		h.startHandoff(st, t, res, handoffReasonCommand, arg)
	case cmd == "help":
		res.State = *st
		h.reply(t, res, h.helpText())
	case cmd == "profile":
		res.State = *st
		h.reply(t, res, ProfileText(t.client(res), tx))
	case cmd == "forget":
		h.askForget(st, t, res)
	default:
		res.State = *st
		h.reply(t, res, tx.UnknownCommand)
	}
}

// stop unsubscribes a subscribed client; to anyone else it says truthfully
// that they were not subscribed (nothing is recorded). The conversation ends.
func (h *Handler) stop(t *Turn, res *Result) {
	tx := h.cfg.Engine.Texts()
	cl := t.client(res)
	switch {
	case cl != nil && cl.Subscribed:
		res.Changes.Unsubscribe = true
		h.reply(t, res, tx.Unsubscribed)
	case cl != nil && cl.UnsubscribedAt != nil:
		h.reply(t, res, tx.AlreadyUnsubscribed)
	default:
		h.reply(t, res, tx.NotSubscribed)
	}
}

// askForget asks to confirm the deletion of the client's data, keeping the
// conversation's place.
func (h *Handler) askForget(st *State, t *Turn, res *Result) {
	tx := h.cfg.Engine.Texts()
	res.State = *st
	if t.client(res) == nil {
		h.reply(t, res, tx.NothingToForget)
		return
	}
	res.Replies = append(res.Replies, messenger.OutMessage{Chat: t.Chat, Text: tx.ForgetConfirm,
		Keyboard: &messenger.Keyboard{Kind: messenger.Inline, Rows: [][]messenger.Button{{
			{Text: tx.ForgetYes, Value: forgetYes}, {Text: tx.ForgetNo, Value: forgetNo},
		}}}})
}

// forget deletes the client's CRM record (crm.Changes.Forget) and ends the
// conversation, whose state is deleted with the next save.
func (h *Handler) forget(t *Turn, res *Result) {
	res.State = State{}
	res.Changes.Forget = true
	h.reply(t, res, h.cfg.Engine.Texts().Forgotten)
}

// buttonCommand handles the button values of UnsubscribeValue, ForgetValue
// (and its confirmation), ManagerValue and ScenarioValue; it reports
// whether value was one.
func (h *Handler) buttonCommand(ctx context.Context, value string, st *State, t *Turn, res *Result) bool {
	switch value {
	case UnsubscribeValue:
		h.command(ctx, "stop", "", st, t, res)
		return true
	case ForgetValue:
		h.askForget(st, t, res)
		return true
	case ManagerValue:
		h.startHandoff(st, t, res, handoffReasonButton, "")
		return true
	case forgetYes:
		h.forget(t, res)
		return true
	case forgetNo:
		res.State = *st
		h.reply(t, res, h.cfg.Engine.Texts().ForgetCancelled)
		return true
	}
	id, ok := strings.CutPrefix(value, scenarioValuePrefix)
	if !ok {
		return false
	}
	if g, found := h.cfg.Scenarios.Get(id); found {
		h.cfg.Engine.Start(g, t, res)
	} else {
		res.State = *st
		h.reply(t, res, h.cfg.Engine.Texts().Fallback)
	}
	return true
}

// typedCommand is the command value of the running step's option whose
// caption (or number) the client typed instead of pressing it: «Позвать
// менеджера» typed is the cmd:manager button. "" when there is none.
func (h *Handler) typedCommand(ctx context.Context, st *State, upd *messenger.Update) string {
	if upd.Kind != messenger.KindMessage || !st.Active() {
		return ""
	}
	g := h.pinned(ctx, st)
	if g == nil {
		return ""
	}
	step := g.Steps[st.Step]
	if step == nil || step.Input != scenario.InputChoice || step.Multiple {
		return ""
	}
	if o := matchOption(step, upd.Text); o != nil && strings.HasPrefix(o.Value, scenario.CommandValuePrefix) {
		return o.Value
	}
	return ""
}

// builtinCommands are the commands the engine's own help line lists.
var builtinCommands = []string{"start", "stop", "profile", "forget", "manager", "help"}

// helpText is Texts.Help followed by the loaded scenarios' other commands
// and keywords with their titles: "/feedback или «отзыв» — Оценка обслуживания".
func (h *Handler) helpText() string {
	tx := h.cfg.Engine.Texts()
	var lines []string
	for _, g := range h.cfg.Scenarios.All() {
		var ways []string
		for _, c := range g.Triggers.Commands {
			if !slices.Contains(builtinCommands, c) {
				ways = append(ways, "/"+c)
			}
		}
		for _, k := range g.Triggers.Keywords {
			ways = append(ways, "«"+k+"»")
		}
		if len(ways) == 0 {
			continue
		}
		line := strings.Join(ways, " или ")
		if g.Title != "" {
			line += " — " + g.Title
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return tx.Help
	}
	return tx.Help + "\n\n" + tx.HelpScenarios + "\n" + strings.Join(lines, "\n")
}

func (h *Handler) defaultScenario() *scenario.Graph {
	if h.cfg.DefaultScenario != "" {
		g, _ := h.cfg.Scenarios.Get(h.cfg.DefaultScenario)
		return g
	}
	g, _ := h.cfg.Scenarios.ByCommand("start")
	return g
}

// pinned returns the graph version a conversation started on; when that
// version is gone it falls back to the current one if the step still exists.
func (h *Handler) pinned(ctx context.Context, st *State) *scenario.Graph {
	g, err := h.cfg.Scenarios.Version(ctx, st.Scenario, st.Version)
	if err == nil {
		return g
	}
	h.cfg.Logger.Warn("conversation version unavailable, using current", "scenario", st.Scenario, "version", st.Version, "err", err)
	if cur, ok := h.cfg.Scenarios.Get(st.Scenario); ok && cur.Steps[st.Step] != nil {
		st.Version = cur.Version
		return cur
	}
	return nil
}

func (h *Handler) reply(t *Turn, res *Result, text string) {
	res.Replies = append(res.Replies, messenger.OutMessage{Chat: t.Chat, Text: text})
}

// ParseCommand splits "/start@MyBot payload" into ("start", "payload").
func ParseCommand(text string) (cmd, arg string, ok bool) {
	text = strings.TrimSpace(text)
	if len(text) < 2 || text[0] != '/' {
		return "", "", false
	}
	cmd, arg, _ = strings.Cut(text[1:], " ")
	cmd, _, _ = strings.Cut(cmd, "@")
	if cmd == "" {
		return "", "", false
	}
	return strings.ToLower(cmd), strings.TrimSpace(arg), true
}
