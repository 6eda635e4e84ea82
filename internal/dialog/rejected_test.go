package dialog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// TestHandlerRejectedChangeIsAnsweredAndPermanent: a CRM write refused for
// good (crm.ErrRejected) is answered in Russian, leaves the conversation
// where it was, records the update (a redelivery only resends the answer)
// and is reported as messenger.ErrPermanent, so the pipeline acknowledges it
// instead of retrying it for ever.
func TestHandlerRejectedChangeIsAnsweredAndPermanent(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.say(t, text("/start"))
	f.say(t, button("yes"))
	before := string(f.states.st[testChat].Data)
	f.clients.fail = fmt.Errorf("apply: %w", crm.ErrRejected)
	u := text("Анна")
	u.ID = "upd-1"
	err := f.h.Handle(context.Background(), u)
	if !errors.Is(err, messenger.ErrPermanent) || !errors.Is(err, crm.ErrRejected) {
		t.Fatalf("err = %v, want messenger.ErrPermanent wrapping crm.ErrRejected", err)
	}
	msgs := f.sender.take()
	if len(msgs) != 1 || msgs[0].Text != DefaultTexts().Rejected {
		t.Fatalf("replies = %+v, want the Rejected text", msgs)
	}
	st := f.states.st[testChat]
	if string(st.Data) != before || st.Update != "upd-1" {
		t.Fatalf("state after a rejected change: data %s (want %s), update %q", st.Data, before, st.Update)
	}
	// A redelivery of the same update is not run again: the recorded
	// answer is resent while unconfirmed, and no error is returned.
	if err := f.h.Handle(context.Background(), u); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if msgs := f.sender.take(); len(msgs) != 1 || msgs[0].Text != DefaultTexts().Rejected {
		t.Fatalf("redelivery replies = %+v", msgs)
	}
	// The conversation is where it was: the next answer goes to the name step.
	f.clients.fail = nil
	if got := strings.Join(f.say(t, text("Анна")), ""); !strings.Contains(got, "сколько вам лет") {
		t.Fatalf("next answer after the rejection: %q", got)
	}
}

// TestEngineBoundsColumnValues: a value a core column cannot hold is
// re-asked by the engine, whatever the step's validate allows, and never
// reaches the CRM.
func TestEngineBoundsColumnValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, answer, want string
	}{
		{"age without validate", "input: number\n    save: age", "99999999999", "Введите число от 0 до 150."},
		{"negative children", "input: number\n    save: children_count", "-3", "Введите число от 0 до 50."},
		{"name without max_len", "input: text\n    save: first_name", strings.Repeat("я", 256), "максимум 255 символов"},
		{"region at the cap", "input: text\n    save: region", strings.Repeat("я", 255), "Готово"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "id: t\nsteps:\n  q:\n    say: \"Вопрос\"\n    " + tt.yaml + "\n    next: done\n  done: { say: \"Готово\", end: true }\n"
			g := loadGraphSource(t, "t.yaml", src)
			f := newHandlerFixture(t)
			f.h.cfg.Scenarios.(*memCatalog).graphs["t"] = g
			if err := f.h.Begin(context.Background(), testChat, "t", nil); err != nil {
				t.Fatal(err)
			}
			f.sender.take()
			got := strings.Join(f.say(t, text(tt.answer)), "\n")
			if !strings.Contains(got, tt.want) {
				t.Fatalf("reply %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// loadGraphSource compiles a scenario from its source.
func loadGraphSource(t testing.TB, file, src string) *scenario.Graph {
	t.Helper()
	g, err := scenario.Load(file, []byte(src))
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return g
}
