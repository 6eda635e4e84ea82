package dialog

import "github.com/chathub/chathub/internal/scenario"

// HopKind is what a Hop records.
type HopKind int

// Hop kinds.
const (
	// HopEnter: the step was entered (its text said).
	HopEnter HopKind = iota
	// HopOption: the chosen option's own next (Hop.Index: the option) led on.
	HopOption
	// HopBranch: entry Hop.Index of the step's next: led on.
	HopBranch
	// HopSkip: the client skipped the step.
	HopSkip
	// HopReask: the answer was rejected and the step asked again.
	HopReask
)

// Hop is one move of a conversation through a scenario, recorded when
// EngineConfig.Trace is set.
type Hop struct {
	Kind              HopKind
	Scenario, Version string
	Step              string
	Index             int
	// To is the step the move leads to ("" for HopEnter and HopReask).
	To string
}

// hop records a move when tracing.
func (c *call) hop(kind HopKind, step *scenario.Step, index int, to string) {
	if !c.e.cfg.Trace {
		return
	}
	c.res.Trace = append(c.res.Trace, Hop{Kind: kind, Scenario: c.g.ID, Version: c.g.Version, Step: step.ID, Index: index, To: to})
}

// optionIndex is opt's position among step's options.
func optionIndex(step *scenario.Step, opt *scenario.Option) int {
	for i := range step.Options {
		if &step.Options[i] == opt {
			return i
		}
	}
	return -1
}
