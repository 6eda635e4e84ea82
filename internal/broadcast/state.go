package broadcast

import "fmt"

// transitions lists, for every state, the states it may move to.
//
//	draft     → scheduled (StartAt set), running (Start), cancelled
//	scheduled → running (Start or StartAt reached), draft (unschedule), cancelled
//	running   → paused, done (nothing left to send), cancelled
//	paused    → running (Resume), cancelled
//	done, cancelled: final
var transitions = map[State][]State{
	Draft:     {Scheduled, Running, Cancelled},
	Scheduled: {Running, Draft, Cancelled},
	Running:   {Paused, Done, Cancelled},
	Paused:    {Running, Cancelled},
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case Draft, Scheduled, Running, Paused, Done, Cancelled:
		return true
	}
	return false
}

// Final reports whether nothing follows s.
func (s State) Final() bool { return s == Done || s == Cancelled }

// CanTransition reports whether a campaign in state from may move to to.
func CanTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// checkTransition returns an error wrapping ErrInvalidTransition when from
// may not move to to.
func checkTransition(id int64, from, to State) error {
	if CanTransition(from, to) {
		return nil
	}
	return fmt.Errorf("campaign %d is %s, cannot become %s: %w", id, from, to, ErrInvalidTransition)
}

// sources returns every state that may move to to.
func sources(to State) []State {
	var out []State
	for from := range transitions {
		if CanTransition(from, to) {
			out = append(out, from)
		}
	}
	return out
}
