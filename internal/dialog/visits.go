package dialog

import "github.com/chathub/chathub/internal/crm"

// markDrops records, for the funnel, the conversations a turn ended
// without an answer: a conversation of the old state (running, or paused
// by a keyword) that the next state no longer holds and whose waiting
// step the turn did not answer ended there (another scenario replaced it,
// a manager ended the chat). The engine records entered, passed and
// answered steps itself (call.visit).
func markDrops(old *State, res *Result) {
	for _, o := range [...]*State{old, old.Paused} {
		if o == nil || !o.Active() || holdsRun(&res.State, o) || answeredIn(res.Changes.Visits, o) {
			continue
		}
		res.Changes.Visits = append(res.Changes.Visits, crm.StepVisit{
			Scenario: o.Scenario, Version: o.Version, Run: o.Run(), Step: o.Step, Event: crm.VisitDrop,
		})
	}
}

// holdsRun reports whether st (or the conversation it paused) is o's
// conversation.
func holdsRun(st, o *State) bool {
	for _, s := range [...]*State{st, st.Paused} {
		if s != nil && s.Scenario == o.Scenario && s.Run() == o.Run() && s.Active() {
			return true
		}
	}
	return false
}

// answeredIn reports whether visits answer o's waiting step.
func answeredIn(visits []crm.StepVisit, o *State) bool {
	for i := range visits {
		v := &visits[i]
		if v.Event == crm.VisitAnswer && v.Scenario == o.Scenario && v.Run == o.Run() && v.Step == o.Step {
			return true
		}
	}
	return false
}
