// Package dialog is the conversation engine: given a chat's state and an
// incoming update it decides the replies, the CRM changes and the next state.
// Engine is pure (no I/O); Handler wires it to the stores through small ports.
package dialog

import (
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// Reserved button values the engine puts on its own buttons.
const (
	valueSkip = "__skip"
	valueDone = "__done"
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Texts are the engine's own messages. Default: DefaultTexts().
	Texts *Texts
	// MaxTextLen caps a text answer when the step sets no max_len. Default 2000.
	MaxTextLen int
	// RetryHintAfter adds Texts.RetryHint after this many wrong answers in a
	// row. Default 3.
	RetryHintAfter int
	// Trace records every step entered, branch taken and answer re-asked in
	// Result.Trace (the scenario tests' coverage, internal/scenariotest).
	// Off in production: nothing is recorded.
	Trace bool
}

func (c *EngineConfig) setDefaults() {
	if c.Texts == nil {
		t := DefaultTexts()
		c.Texts = &t
	}
	if c.MaxTextLen <= 0 {
		c.MaxTextLen = 2000
	}
	if c.RetryHintAfter <= 0 {
		c.RetryHintAfter = 3
	}
}

// Engine runs scenario steps. It does no I/O and is safe for concurrent use.
type Engine struct {
	cfg       EngineConfig
	keyboards sync.Map // *scenario.Step → *messenger.Keyboard (no selection)
}

// NewEngine returns an Engine; zero config fields take their defaults.
func NewEngine(cfg EngineConfig) *Engine {
	cfg.setDefaults()
	return &Engine{cfg: cfg}
}

// Texts returns the engine's messages.
func (e *Engine) Texts() *Texts { return e.cfg.Texts }

// Turn is the input of one engine call.
type Turn struct {
	Chat messenger.ChatKey
	// Update is the client's message; nil when a scenario is started without one.
	Update *messenger.Update
	// Client is the CRM record before this turn; nil for a client not yet stored.
	Client *crm.Client
	// ClientUnknown means Client was not looked up. A turn that needs the
	// client card then sets Result.NeedClient, and the caller runs it again
	// with the client loaded (the engine is pure, so a rerun is cheap); most
	// steps never need the card, which saves a database read per update.
	ClientUnknown bool
	Now           time.Time
}

// client returns the turn's client, noting in res when it was not looked up.
func (t *Turn) client(res *Result) *crm.Client {
	if t.ClientUnknown {
		res.NeedClient = true
	}
	return t.Client
}

// Result is what one engine call decided. Callers may reuse a Result across
// calls after Reset.
type Result struct {
	// State is the chat's next state; the zero State ends the conversation.
	State   State
	Replies []messenger.OutMessage
	Changes crm.Changes
	// Warnings are runtime failures of conditions or templates (logged by the
	// caller; the conversation still moves on).
	Warnings []error
	// NeedClient reports that the turn used the client card while
	// Turn.ClientUnknown was set: the result is void and the turn must be run
	// again with the client.
	NeedClient bool
	// Answered reports that the client's update answered (or skipped) the
	// question of the state's step (Engine.Answer accepted it).
	Answered bool
	// UsedClock reports that the decision read the clock beyond stamping
	// times (a date bound of "today", a condition calling now()): run again
	// later, the same turn may decide differently.
	UsedClock bool
	// Trace is the way the call went through the scenarios, when
	// EngineConfig.Trace is set.
	Trace []Hop
}

// Reset empties r for reuse, keeping its buffers.
func (r *Result) Reset() {
	r.State = State{}
	r.Replies = r.Replies[:0]
	r.Changes = crm.Changes{}
	r.Warnings = r.Warnings[:0]
	r.NeedClient = false
	r.Answered = false
	r.UsedClock = false
	r.Trace = r.Trace[:0]
}

// Start begins scenario g at its start step.
func (e *Engine) Start(g *scenario.Graph, t *Turn, res *Result) {
	res.State = State{Scenario: g.ID, Version: g.Version, StartedAt: t.Now}
	res.Changes.Now = t.Now
	c := call{e: e, g: g, t: t, res: res}
	c.enter(g.Start, answer{})
}

// Answer handles the client's update at the state's current step of g.
func (e *Engine) Answer(g *scenario.Graph, st *State, t *Turn, res *Result) {
	res.State = *st
	res.Changes.Now = t.Now
	step := g.Steps[st.Step]
	if step == nil || t.Update == nil {
		e.Start(g, t, res)
		return
	}
	c := call{e: e, g: g, t: t, res: res}
	c.answer(step)
}

// Resume asks the question of st's step of g again, with its buttons (and
// the multi-select's selection), and makes st the running conversation: the
// return to a questionnaire a keyword interrupted. It keeps res's changes
// and replies. A step g no longer has restarts g.
func (e *Engine) Resume(g *scenario.Graph, st *State, t *Turn, res *Result) {
	step := g.Steps[st.Step]
	if step == nil {
		e.Start(g, t, res)
		return
	}
	res.State = *st
	res.State.Paused = nil
	if step.Say == nil {
		return
	}
	c := call{e: e, g: g, t: t, res: res}
	c.say(c.render(step.Say, answer{}), e.keyboard(step, st.Selected, g.SkipWord))
}

// call is the working set of one engine call.
type call struct {
	e    *Engine
	g    *scenario.Graph
	t    *Turn
	res  *Result
	data scenario.Data // built lazily; reset when changes are recorded
	// hasCard tells whether data holds the client card yet.
	hasCard bool
}

// answer accepts or re-asks the update at step.
func (c *call) answer(step *scenario.Step) {
	upd := c.t.Update
	if step.Skip && c.isSkip(upd) {
		c.res.Answered = true
		c.skip(step)
		return
	}
	ans, opt, problem, pending := c.accept(step)
	if pending {
		return
	}
	if problem == "" {
		problem = c.record(step, opt, ans)
	}
	if problem != "" {
		c.reask(step, problem)
		return
	}
	c.res.Answered = true
	c.advance(step, opt, ans, "")
}

// skip leaves step without an answer: nothing is saved and conditions are
// not evaluated; the conversation takes the step's default (last) branch.
func (c *call) skip(step *scenario.Step) {
	if step.End || len(step.Next) == 0 {
		c.visit(crm.VisitAnswer, step.ID, "")
		c.finish(step)
		return
	}
	to := step.Next[len(step.Next)-1].Goto
	c.hop(HopSkip, step, 0, to)
	c.advance(step, nil, answer{}, to)
}

// advance leaves step (after an accepted or skipped answer) for the next one.
func (c *call) advance(step *scenario.Step, opt *scenario.Option, ans answer, to string) {
	leavingContact := step.Input == scenario.InputContact
	if step.End {
		c.visit(crm.VisitAnswer, step.ID, "")
		c.finish(step)
		return
	}
	first := len(c.res.Replies)
	if to == "" {
		to = c.next(step, opt, ans)
	}
	c.visit(crm.VisitAnswer, step.ID, c.known(to))
	c.enter(to, ans)
	if leavingContact && len(c.res.Replies) > first {
		r := &c.res.Replies[first]
		if r.Keyboard == nil || r.Keyboard.Kind != messenger.Reply {
			r.RemoveKeyboard = true
		}
	}
}

// enter says step id and runs message-only steps until one waits for an
// answer or the conversation ends.
func (c *call) enter(id string, ans answer) {
	for hops := 0; hops <= len(c.g.Steps); hops++ {
		step := c.g.Steps[id]
		if step == nil {
			c.end()
			return
		}
		c.res.State.Step, c.res.State.Selected, c.res.State.Retries = id, nil, 0
		c.hop(HopEnter, step, 0, "")
		if step.Say != nil {
			c.say(c.render(step.Say, ans), c.e.keyboard(step, nil, c.g.SkipWord))
		}
		if step.Input != scenario.InputNone {
			c.visit(crm.VisitEnter, id, "")
			return
		}
		c.actions(step, nil)
		if step.End {
			c.visit(crm.VisitPass, id, "")
			c.finish(step)
			return
		}
		from := id
		id = c.next(step, nil, ans)
		c.visit(crm.VisitPass, from, c.known(id))
	}
	c.end() // unreachable for loader-checked graphs: input-less cycles are rejected
}

// visit records a step visit of the running conversation (the funnel).
func (c *call) visit(ev crm.VisitEvent, step, next string) {
	c.res.Changes.Visits = append(c.res.Changes.Visits, crm.StepVisit{
		Scenario: c.g.ID, Version: c.g.Version, Run: c.res.State.Run(), Step: step, Event: ev, Next: next,
	})
}

// known returns step id when the graph has it, else "" (the conversation
// ends there).
func (c *call) known(id string) string {
	if c.g.Steps[id] == nil {
		return ""
	}
	return id
}

// end finishes the conversation.
func (c *call) end() { c.res.State = State{} }

// finish ends the conversation at its end step and records the completion.
func (c *call) finish(step *scenario.Step) {
	c.res.Changes.Completion = &crm.Completion{
		Scenario: c.g.ID, Version: c.g.Version, Step: step.ID, CreatedAt: c.t.Now,
	}
	c.end()
}

// say appends a reply.
func (c *call) say(text string, kb *messenger.Keyboard) {
	c.res.Replies = append(c.res.Replies, messenger.OutMessage{Chat: c.t.Chat, Text: text, Keyboard: kb})
}

// next picks the step after step: the option's own next, else the first
// branch that matches.
func (c *call) next(step *scenario.Step, opt *scenario.Option, ans answer) string {
	if opt != nil && opt.Next != "" {
		c.hop(HopOption, step, optionIndex(step, opt), opt.Next)
		return opt.Next
	}
	for i := range step.Next {
		b := &step.Next[i]
		if b.Cond == nil {
			c.hop(HopBranch, step, i, b.Goto)
			return b.Goto
		}
		if readsClock(b.Source) {
			c.res.UsedClock = true
		}
		ok, err := b.Match(c.env(ans, b.Source))
		if err != nil {
			c.res.Warnings = append(c.res.Warnings, err)
		}
		if ok {
			c.hop(HopBranch, step, i, b.Goto)
			return b.Goto
		}
	}
	return ""
}

// render executes a text; a failure is a warning and falls back to the raw text.
func (c *call) render(t *scenario.Text, ans answer) string {
	if t.Static() {
		return t.Raw
	}
	out, err := t.Render(c.env(ans, t.Raw))
	if err != nil {
		c.res.Warnings = append(c.res.Warnings, err)
		return t.Raw
	}
	return out
}

// clockCall matches a call of expr's now() in a condition.
var clockCall = regexp.MustCompile(`\bnow\s*\(`)

// readsClock reports whether a condition's source calls now(): its
// outcome then depends on when it runs (Result.UsedClock).
func readsClock(src string) bool {
	return strings.Contains(src, "now") && clockCall.MatchString(src)
}
