package postgres

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// buildPlans are the dialog statements' plans the build test and
// benchmark render: a typical step, one with its transcript and step
// visits, and one with every kind of change.
func buildPlans(tb testing.TB) []struct {
	name string
	p    *plan
} {
	tb.Helper()
	s := &Store{dialect: DialectPostgres}
	withVisits := func(i int) *crm.Changes {
		ch := typicalStep(i)
		ch.Messages = []crm.Message{inMsg("Москва"), botMsg("Спасибо! Какие у вас интересы?")}
		ch.Visits = []crm.StepVisit{
			{Scenario: "portrait", Version: "v1", Run: 7, Step: "q1", Event: crm.VisitAnswer, Next: "q2"},
			{Scenario: "portrait", Version: "v1", Run: 7, Step: "q2", Event: crm.VisitEnter},
		}
		return ch
	}
	everything := func() *crm.Changes {
		ch := withVisits(0)
		ch.RemoveTags = []string{"cold", "lost"}
		ch.AddTags = []string{"survey", "hot"}
		ch.Note = &crm.Note{Author: "bot", Text: "перезвонить"}
		ch.Handoff = &crm.Handoff{Reason: "вопрос"}
		ch.Completion = &crm.Completion{Scenario: "portrait", Version: "v1", Step: "end"}
		ch.HandoffActivity = &crm.HandoffActivity{Question: "а цена?", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		return ch
	}
	cases := []struct {
		name string
		ch   *crm.Changes
	}{
		{"typical", typicalStep(0)},
		{"typical-attrs", typicalStep(1)},
		{"transcript-visits", withVisits(4)},
		{"everything", everything()},
		{"empty", &crm.Changes{}},
	}
	plans := make([]struct {
		name string
		p    *plan
	}, len(cases))
	for i, c := range cases {
		p, err := s.newPlan(c.ch)
		if err != nil {
			tb.Fatalf("%s: %v", c.name, err)
		}
		plans[i].name, plans[i].p = c.name, p
	}
	return plans
}

// TestWritePGApplyPlaceholders: the dialog statement numbered for the
// group commit is the gorm one ('?') with its placeholders numbered $1,
// $2, … in order, one per argument, and no '?' left (a fragment written
// as free of placeholders that held one would leave it).
func TestWritePGApplyPlaceholders(t *testing.T) {
	t.Parallel()
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	for _, c := range buildPlans(t) {
		for _, full := range []bool{false, true} {
			numbered := stmt{numbered: true}
			args := writePGApply(&numbered, key, c.p, full)
			var plain stmt
			plainArgs := writePGApply(&plain, key, c.p, full)
			if len(args) != len(plainArgs) {
				t.Fatalf("%s: %d arguments numbered, %d plain", c.name, len(args), len(plainArgs))
			}
			if strings.Contains(numbered.String(), "?") {
				t.Errorf("%s (full %v): a '?' left in the numbered statement:\n%s", c.name, full, numbered.String())
			}
			if want := renumber(plain.String()); numbered.String() != want {
				t.Errorf("%s (full %v): numbered statement\n%s\nwant\n%s", c.name, full, numbered.String(), want)
			}
			if got := strings.Count(plain.String(), "?"); got != len(args) || numbered.n != len(args) {
				t.Errorf("%s (full %v): %d placeholders ('?'), %d numbered, for %d arguments", c.name, full, got, numbered.n, len(args))
			}
		}
	}
}

// renumber numbers the '?' of q as $1, $2, … (a reference for stmt).
func renumber(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// BenchmarkWritePGApply measures building the dialog statement numbered
// for the group commit (no database): what every update pays in the
// process before its round trip.
func BenchmarkWritePGApply(b *testing.B) {
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "42"}
	for _, c := range buildPlans(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st := stmt{numbered: true}
				st.Grow(pgStatementSize)
				_ = writePGApply(&st, key, c.p, false)
			}
		})
	}
}
