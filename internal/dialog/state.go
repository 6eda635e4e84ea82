package dialog

import (
	"encoding/json"
	"fmt"
	"time"
)

// State is one chat's position in a conversation, kept between updates.
// The zero State means no conversation is running.
type State struct {
	// Scenario and Version pin the graph the conversation started on.
	Scenario string `json:"s,omitempty"`
	Version  string `json:"v,omitempty"`
	// Step is the step waiting for an answer.
	Step string `json:"st,omitempty"`
	// Selected holds the options chosen so far in a multi-select step.
	Selected []string `json:"sel,omitempty"`
	// Vars holds answers saved with `save: vars.<name>`.
	Vars map[string]any `json:"vars,omitempty"`
	// Retries counts wrong answers in a row at Step.
	Retries int `json:"r,omitempty"`
	// StartedAt is when the conversation started.
	StartedAt time.Time `json:"t,omitzero"`
	// Paused is the questionnaire a keyword of another scenario interrupted:
	// it resumes at its step when this conversation ends (one level; its own
	// Paused is always nil).
	Paused *State `json:"p,omitempty"`
	// Handoff is set while the chat is with a manager: the bot is silent
	// and Scenario/Step are the paused place, asked again when the chat
	// returns to the bot (Handler.ReturnToBot).
	Handoff *HandoffMark `json:"h,omitempty"`
	// Remind is the reminder of Step's question (a step with remind:):
	// how many went out and when the next one is due (see Remind).
	Remind *RemindMark `json:"rm,omitempty"`
}

// Run identifies the conversation among the client's in the funnel's step
// visits (crm.StepVisit.Run): its start in Unix microseconds.
func (s *State) Run() int64 { return s.StartedAt.UnixMicro() }

// Active reports whether a conversation is running.
func (s *State) Active() bool { return s.Scenario != "" && s.Step != "" }

// empty reports whether s holds nothing worth keeping: no conversation and
// no hand-off.
func (s *State) empty() bool { return !s.Active() && s.Handoff == nil }

// encodeState serialises st; an empty state encodes to nil (delete).
func encodeState(st *State) ([]byte, error) {
	if st.empty() {
		return nil, nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// decodeState parses stored state; nil data is the zero State.
func decodeState(data []byte, st *State) error {
	*st = State{}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, st); err != nil {
		return fmt.Errorf("decode state: %w", err)
	}
	return nil
}
