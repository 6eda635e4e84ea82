package dialog

import (
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestEngineRecordsCompletion checks that reaching an end step (by an
// answer, a skip or a message-only end step) records one completion, and
// that a turn that leaves the conversation running records none.
func TestEngineRecordsCompletion(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "../../scenarios/feedback.yaml")
	e := NewEngine(EngineConfig{})
	tests := []struct {
		name     string
		step     string
		upd      *messenger.Update
		wantStep string // the end step recorded; "" means none
	}{
		{"answer mid-way", "csat", button("5"), ""},
		{"answer leads to message-only end step", "nps_why", text("всё понравилось"), "thanks"},
		{"skip leads to end step", "nps_why", text("Пропустить"), "thanks"},
		{"wrong answer re-asks", "nps", text("сто"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var res Result
			st := State{Scenario: g.ID, Version: g.Version, Step: tt.step}
			e.Answer(g, &st, &Turn{Chat: testChat, Update: tt.upd, Client: &crm.Client{}, Now: testNow}, &res)
			got := res.Changes.Completion
			if tt.wantStep == "" {
				if got != nil {
					t.Fatalf("completion = %+v, want none (state %+v)", got, res.State)
				}
				return
			}
			want := crm.Completion{Scenario: "feedback", Version: g.Version, Step: tt.wantStep, CreatedAt: testNow}
			if got == nil || *got != want {
				t.Fatalf("completion = %+v, want %+v", got, want)
			}
			if res.State.Active() {
				t.Errorf("state still active after completion: %+v", res.State)
			}
		})
	}
}
