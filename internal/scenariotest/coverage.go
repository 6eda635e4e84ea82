package scenariotest

import (
	"fmt"
	"sync"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/scenario"
)

// Coverage is how much of a scenario the cases went through: its steps,
// its branches (a button's own next:, each entry of next:, the skip) and
// its re-asks (a wrong answer asked again, on every step whose answer can
// be wrong).
type Coverage struct {
	Scenario, File          string
	Steps, StepsReached     int
	Branches, BranchesTaken int
	Reasks, ReasksTested    int
	// Gaps are what no case went through, in file order.
	Gaps []Gap
}

// Percent is the share of steps, branches and re-asks covered.
func (c Coverage) Percent() float64 {
	total := c.Steps + c.Branches + c.Reasks
	if total == 0 {
		return 100
	}
	return 100 * float64(c.StepsReached+c.BranchesTaken+c.ReasksTested) / float64(total)
}

// Gap is a step, branch or re-ask no case went through.
type Gap struct {
	File      string
	Line, Col int
	Step      string
	What      string
}

// Error formats the gap as `file:line:col: step "id": what`.
func (g Gap) Error() string {
	return fmt.Sprintf("%s:%d:%d: step %q: %s", g.File, g.Line, g.Col, g.Step, g.What)
}

// hopKey is a move regardless of the conversation that made it.
type hopKey struct {
	scenario, step string
	kind           dialog.HopKind
	index          int
}

// tracker collects the moves of every case of a run.
type tracker struct {
	mu   sync.Mutex
	seen map[hopKey]bool
}

func newTracker() *tracker { return &tracker{seen: map[hopKey]bool{}} }

// add records hops (dialog.HandlerConfig.Trace).
func (t *tracker) add(hops []dialog.Hop) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hops {
		t.seen[hopKey{h.Scenario, h.Step, h.Kind, h.Index}] = true
	}
}

func (t *tracker) has(g *scenario.Graph, step string, kind dialog.HopKind, index int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen[hopKey{g.ID, step, kind, index}]
}

// report computes the coverage of every scenario of graphs.
func (t *tracker) report(graphs []*scenario.Graph) []Coverage {
	out := make([]Coverage, 0, len(graphs))
	for _, g := range graphs {
		out = append(out, t.coverage(g))
	}
	return out
}

// coverage computes one scenario's coverage.
func (t *tracker) coverage(g *scenario.Graph) Coverage {
	c := Coverage{Scenario: g.ID, File: g.File}
	for _, id := range g.Order {
		st := g.Steps[id]
		gap := func(what string) {
			c.Gaps = append(c.Gaps, Gap{File: g.File, Line: st.Pos.Line, Col: st.Pos.Col, Step: id, What: what})
		}
		c.Steps++
		if t.has(g, id, dialog.HopEnter, 0) {
			c.StepsReached++
		} else {
			gap("never reached")
		}
		for _, b := range branches(g, st) {
			c.Branches++
			if t.has(g, id, b.kind, b.index) {
				c.BranchesTaken++
			} else {
				gap(b.label + " never taken")
			}
		}
		if reaskable(st) {
			c.Reasks++
			if t.has(g, id, dialog.HopReask, 0) {
				c.ReasksTested++
			} else {
				gap("re-ask (a wrong answer) never tested")
			}
		}
	}
	return c
}

// branch is one way out of a step.
type branch struct {
	kind  dialog.HopKind
	index int
	label string
}

// branches lists the ways out of st: each option's own next:, each entry
// of next:, and the skip.
func branches(g *scenario.Graph, st *scenario.Step) []branch {
	var out []branch
	for i, o := range st.Options {
		if o.Next != "" {
			out = append(out, branch{dialog.HopOption, i, fmt.Sprintf("button %q → %s", o.Text, o.Next)})
		}
	}
	conditional := false
	for i, b := range st.Next {
		label := "next → " + b.Goto
		switch {
		case b.Cond != nil:
			conditional = true
			label = fmt.Sprintf("branch \"if %s\" → %s", b.Source, b.Goto)
		case conditional:
			label = "branch \"else\" → " + b.Goto
		}
		out = append(out, branch{dialog.HopBranch, i, label})
	}
	if st.Skip {
		out = append(out, branch{dialog.HopSkip, 0, fmt.Sprintf("skip (%q)", g.SkipWord)})
	}
	return out
}

// reaskable reports whether a wrong answer to st is possible (a re-ask to
// test): typed numbers, e-mails, phones, dates, contacts, choices without
// free text, multi-selects, and texts with validation rules.
func reaskable(st *scenario.Step) bool {
	v := st.Validate
	rules := v.MinLen > 0 || v.MaxLen > 0 || v.Regex != nil
	switch st.Input {
	case scenario.InputNone:
		return false
	case scenario.InputText:
		return rules
	case scenario.InputChoice:
		return st.Multiple || !st.FreeText || rules
	}
	return true
}
