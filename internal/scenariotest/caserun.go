package scenariotest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// caseRun is one case being run: its client's chat and what the client
// sees of it. It is the handler's Sender: replies land on its screen.
type caseRun struct {
	r    *Runner
	h    *dialog.Handler
	file string
	c    *Case
	chat messenger.ChatKey
	// screen is what the client sees: the messages and the live buttons.
	screen localchat.Screen
	// replies are the bot's messages since the client's last action.
	replies []messenger.OutMessage
}

// Send implements messenger.Sender.
func (cr *caseRun) Send(_ context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	m := cr.screen.Show(msg)
	cr.replies = append(cr.replies, msg)
	return messenger.Sent{MessageID: m.ID}, nil
}

// failAt is a failure at p of step n (0: the case's start).
func (cr *caseRun) failAt(p scenario.Pos, n int, format string, args ...any) Failure {
	return Failure{File: cr.file, Line: p.Line, Col: p.Col, Case: cr.c.Name, Step: n, Msg: fmt.Sprintf(format, args...)}
}

// run begins the case and runs its steps until the first step that fails.
func (cr *caseRun) run(ctx context.Context) []Failure {
	if cr.c.Begin {
		if err := cr.h.Begin(ctx, cr.chat, cr.c.Scenario, cr.c.Profile); err != nil {
			return []Failure{cr.failAt(cr.c.Pos, 0, "the scenario did not start: %v", err)}
		}
	}
	for _, s := range cr.c.Steps {
		if s.Action != ActionNone {
			if f := cr.act(ctx, s); f != nil {
				return []Failure{*f}
			}
		}
		if fs := cr.check(ctx, s); len(fs) > 0 {
			return fs
		}
	}
	return nil
}

// act does what the client does in step s.
func (cr *caseRun) act(ctx context.Context, s *Step) *Failure {
	cr.replies = cr.replies[:0]
	in := localchat.Input{Text: s.Text}
	switch s.Action {
	case ActionPress:
		n := pressable(cr.screen.Live, s.Text)
		if n == 0 {
			f := cr.failAt(s.TextPos, s.N, "no button %q to press; %s", s.Text, offered(cr.screen.Live))
			return &f
		}
		if cr.screen.Live[n-1].RequestContact {
			f := cr.failAt(s.TextPos, s.N, "%q is the contact button: share the number with contact: +7…", s.Text)
			return &f
		}
		in = localchat.Input{Button: n, Message: cr.screen.LiveMessage}
	case ActionContact:
		in.Contact = true
	}
	upd, ok := cr.screen.Update(cr.chat, in)
	if !ok {
		f := cr.failAt(s.TextPos, s.N, "the client could not do that: no such button is live")
		return &f
	}
	upd.Profile = cr.c.Profile
	if err := cr.h.Handle(ctx, &upd); err != nil {
		f := cr.failAt(s.TextPos, s.N, "the bot failed to handle the message: %v", err)
		return &f
	}
	return nil
}

// pressable finds the live button with caption text (a chosen option's
// "✓ " mark ignored, any case): its number, 0 for none.
func pressable(live []messenger.Button, text string) int {
	t := strings.TrimSpace(text)
	for i, b := range live {
		if b.Text == t {
			return i + 1
		}
	}
	for i, b := range live {
		if strings.EqualFold(strings.TrimPrefix(b.Text, "✓ "), strings.TrimPrefix(t, "✓ ")) {
			return i + 1
		}
	}
	return 0
}

// offered describes the live buttons for a failure.
func offered(live []messenger.Button) string {
	if len(live) == 0 {
		return "the bot offers no buttons"
	}
	return "the bot offers " + quoteList(captions(live))
}

func captions(live []messenger.Button) []string {
	out := make([]string, 0, len(live))
	for _, b := range live {
		out = append(out, b.Text)
	}
	return out
}

// quoteList formats a list of texts as ["a", "b"].
func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// buttonList formats the buttons shown for a failure.
func buttonList(l []string) string {
	if len(l) == 0 {
		return "no buttons"
	}
	return quoteList(l)
}

// said is everything the bot said since the client's last action.
func (cr *caseRun) said() string {
	texts := make([]string, 0, len(cr.replies))
	for _, m := range cr.replies {
		texts = append(texts, m.Text)
	}
	return strings.Join(texts, "\n")
}

// gotText describes what the bot said for a failure.
func (cr *caseRun) gotText() string {
	if len(cr.replies) == 0 {
		return "nothing"
	}
	return strconv.Quote(cr.said())
}

// check evaluates step s's expectations; one failure per check that fails.
func (cr *caseRun) check(ctx context.Context, s *Step) []Failure {
	var out []Failure
	w := world{cr: cr}
	for _, chk := range s.Checks {
		msg, err := w.verify(ctx, chk)
		if err != nil {
			return append(out, cr.failAt(chk.Pos, s.N, "cannot check: %v", err))
		}
		if msg != "" {
			out = append(out, cr.failAt(chk.Pos, s.N, "%s", msg))
		}
	}
	slices.SortStableFunc(out, func(a, b Failure) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) })
	return out
}

// world is what a step's checks look at, each part read once when first
// needed: the conversation state and the client's card.
type world struct {
	cr    *caseRun
	state *dialog.State
	card  map[string]any
}

// verify returns "" when chk holds, else what was expected and got.
func (w *world) verify(ctx context.Context, chk Check) (string, error) {
	cr := w.cr
	switch chk.Kind {
	case CheckBot:
		if strings.Contains(cr.said(), chk.Text) {
			return "", nil
		}
		return fmt.Sprintf("expected bot text containing %q, got %s", chk.Text, cr.gotText()), nil
	case CheckNotBot:
		if !strings.Contains(cr.said(), chk.Text) {
			return "", nil
		}
		return fmt.Sprintf("expected bot text without %q, got %s", chk.Text, cr.gotText()), nil
	case CheckButtons:
		if got := captions(cr.screen.Live); !slices.Equal(got, chk.List) {
			return fmt.Sprintf("expected buttons %s, got %s", quoteList(chk.List), buttonList(got)), nil
		}
		return "", nil
	case CheckNoReply:
		if len(cr.replies) == 0 {
			return "", nil
		}
		return fmt.Sprintf("expected no reply, got %s", cr.gotText()), nil
	case CheckTag, CheckNoTag, CheckField:
		return w.verifyClient(ctx, chk)
	}
	return w.verifyState(ctx, chk)
}

// verifyState checks where the conversation is.
func (w *world) verifyState(ctx context.Context, chk Check) (string, error) {
	st, err := w.loadState(ctx)
	if err != nil {
		return "", err
	}
	switch chk.Kind {
	case CheckScenario:
		if st.Active() && st.Scenario == chk.Text {
			return "", nil
		}
		return fmt.Sprintf("expected scenario %q to run, but %s", chk.Text, where(st)), nil
	case CheckStep:
		if st.Active() && st.Scenario == chk.Scenario && st.Step == chk.Text {
			return "", nil
		}
		return fmt.Sprintf("expected the conversation to wait at step %q of %q, but %s", chk.Text, chk.Scenario, where(st)), nil
	case CheckEnded:
		if !st.Active() == chk.Bool {
			return "", nil
		}
		if chk.Bool {
			return "expected the conversation to have ended, but " + where(st), nil
		}
		return "expected a conversation to run, but none does", nil
	case CheckHandoff:
		if (st.Handoff != nil) == chk.Bool {
			return "", nil
		}
		if chk.Bool {
			return "expected the chat to be with a manager, but it is with the bot", nil
		}
		return "expected the chat to be with the bot, but it is with a manager", nil
	}
	return "", fmt.Errorf("unknown check %d", chk.Kind)
}

// where describes the conversation's place for a failure.
func where(st *dialog.State) string {
	if !st.Active() {
		return "no conversation runs (it ended)"
	}
	s := fmt.Sprintf("it waits at step %q of %q", st.Step, st.Scenario)
	if st.Handoff != nil {
		s += " (the chat is with a manager)"
	}
	return s
}

// loadState reads the chat's conversation state.
func (w *world) loadState(ctx context.Context) (*dialog.State, error) {
	if w.state != nil {
		return w.state, nil
	}
	stored, err := w.cr.r.states.LoadState(ctx, w.cr.chat)
	if err != nil {
		return nil, err
	}
	st := &dialog.State{}
	if len(stored.Data) > 0 {
		if err := json.Unmarshal(stored.Data, st); err != nil {
			return nil, fmt.Errorf("read the conversation state: %w", err)
		}
	}
	w.state = st
	return st, nil
}

// loadCard reads the client's card (empty for a client not stored).
func (w *world) loadCard(ctx context.Context) (map[string]any, error) {
	if w.card != nil {
		return w.card, nil
	}
	cl, err := w.cr.r.crm.GetClient(ctx, w.cr.chat)
	if err != nil {
		return nil, err
	}
	if cl == nil {
		cl = &crm.Client{}
	}
	w.card = dialog.ClientCard(cl)
	return w.card, nil
}

// verifyClient checks the client's fields and tags.
func (w *world) verifyClient(ctx context.Context, chk Check) (string, error) {
	card, err := w.loadCard(ctx)
	if err != nil {
		return "", err
	}
	tags, _ := card["tags"].([]string)
	switch chk.Kind {
	case CheckTag:
		if slices.Contains(tags, chk.Text) {
			return "", nil
		}
		return fmt.Sprintf("expected tag %q, the client has %s", chk.Text, tagList(tags)), nil
	case CheckNoTag:
		if !slices.Contains(tags, chk.Text) {
			return "", nil
		}
		return fmt.Sprintf("expected no tag %q, the client has %s", chk.Text, tagList(tags)), nil
	}
	got, err := w.field(ctx, card, chk.Text)
	if err != nil {
		return "", err
	}
	if sameValue(chk.Value, got) {
		return "", nil
	}
	return fmt.Sprintf("expected %s = %s, got %s", chk.Text, showValue(chk.Value), showValue(canonical(got))), nil
}

func tagList(tags []string) string {
	if len(tags) == 0 {
		return "no tags"
	}
	return quoteList(tags)
}

// field reads a client field, an attribute or a conversation variable.
func (w *world) field(ctx context.Context, card map[string]any, name string) (any, error) {
	if key, ok := strings.CutPrefix(name, crm.AttributesPrefix); ok {
		attrs, _ := card["attributes"].(map[string]any)
		return attrs[key], nil
	}
	if v, ok := strings.CutPrefix(name, "vars."); ok {
		st, err := w.loadState(ctx)
		if err != nil {
			return nil, err
		}
		return st.Vars[v], nil
	}
	return card[name], nil
}

// canonical turns a stored value into what a test file writes: nil for
// empty, a string, or a []string.
func canonical(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return x
	case []string:
		if len(x) == 0 {
			return nil
		}
		return x
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(canonical(e))
		}
		return out
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// sameValue compares an expected value with a stored one.
func sameValue(want, got any) bool {
	got = canonical(got)
	switch w := want.(type) {
	case nil:
		return got == nil
	case []string:
		if len(w) == 0 {
			return got == nil
		}
		g, ok := got.([]string)
		return ok && slices.Equal(w, g)
	case string:
		g, ok := got.(string)
		return ok && g == w
	}
	return false
}

// showValue formats a canonical value for a failure.
func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case []string:
		return quoteList(x)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}
