package dialog

import (
	"context"
	"strings"
	"testing"
)

// TestHandoffInputStep: a handoff: step with input hands off when it is
// answered: the answer is kept, the next question is sent, then the
// acknowledgment; the return asks that next question again.
func TestHandoffInputStep(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t, HandoffConfig{})
	f.h.cfg.Scenarios.(*memCatalog).graphs["callback"] = loadGraph(t, "testdata/handoff_input.yaml")
	f.say(t, text("/callback"))
	got := f.say(t, text("Оплата по счёту"))
	if len(got) != 2 || !strings.Contains(got[0], "Когда удобно") || !strings.Contains(got[1], "Передали ваш вопрос менеджеру") {
		t.Fatalf("replies = %q, want the next question and the acknowledgment", got)
	}
	st := f.state(t)
	if st.Handoff == nil || st.Handoff.Reason != "callback requested" || st.Step != "when" || st.Vars["topic"] != "Оплата по счёту" {
		t.Fatalf("state = %+v, want the mark at the when step with the topic kept", st)
	}
	if got := f.say(t, text("Завтра")); len(got) != 0 {
		t.Fatalf("the bot answered during the hand-off: %q", got)
	}
	if err := f.h.ReturnToBot(context.Background(), testChat, ReturnRequest{HandoffID: 1, RequestedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	if sent := f.sender.take(); len(sent) != 1 || !strings.Contains(sent[0].Text, "Когда удобно") {
		t.Fatalf("sent on return = %+v, want the when question", sent)
	}
}
