package dialog

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// TestEngineRecordsVisits: the engine records the steps a turn entered,
// passed and answered (the funnel), with the conversation's run.
func TestEngineRecordsVisits(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "testdata/kinds.yaml")
	fb := loadGraph(t, "../../scenarios/feedback.yaml")
	e := NewEngine(EngineConfig{})
	run := testNow.Add(-time.Hour).UnixMicro()
	v := func(ev crm.VisitEvent, step, next string) crm.StepVisit {
		return crm.StepVisit{Scenario: "kinds", Version: g.Version, Run: run, Step: step, Event: ev, Next: next}
	}
	fv := func(ev crm.VisitEvent, step, next string) crm.StepVisit {
		return crm.StepVisit{Scenario: "feedback", Version: fb.Version, Run: run, Step: step, Event: ev, Next: next}
	}
	tests := []struct {
		name string
		g    *graphOf
		step string
		upd  *messenger.Update
		want []crm.StepVisit
	}{
		{"answer enters the next question", &graphOf{g}, "name", text("Анна"),
			[]crm.StepVisit{v(crm.VisitAnswer, "name", "age"), v(crm.VisitEnter, "age", "")}},
		{"answer passes a message step", &graphOf{g}, "age", text("15"),
			[]crm.StepVisit{v(crm.VisitAnswer, "age", "minor"), v(crm.VisitPass, "minor", "email"), v(crm.VisitEnter, "email", "")}},
		{"skip counts as an answer", &graphOf{g}, "age", text("Пропустить"),
			[]crm.StepVisit{v(crm.VisitAnswer, "age", "email"), v(crm.VisitEnter, "email", "")}},
		{"wrong answer re-asks: nothing", &graphOf{g}, "name", text("1"), nil},
		{"answer reaches the end", &graphOf{fb}, "nps_why", text("всё понравилось"),
			[]crm.StepVisit{fv(crm.VisitAnswer, "nps_why", "thanks"), fv(crm.VisitPass, "thanks", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var res Result
			st := State{Scenario: tt.g.g.ID, Version: tt.g.g.Version, Step: tt.step, StartedAt: testNow.Add(-time.Hour)}
			e.Answer(tt.g.g, &st, &Turn{Chat: testChat, Update: tt.upd, Client: &crm.Client{FirstName: "Анна"}, Now: testNow}, &res)
			if !slices.Equal(res.Changes.Visits, tt.want) {
				t.Fatalf("visits = %+v\nwant %+v", res.Changes.Visits, tt.want)
			}
		})
	}
	t.Run("start", func(t *testing.T) {
		t.Parallel()
		var res Result
		e.Start(g, &Turn{Chat: testChat, Now: testNow}, &res)
		r := testNow.UnixMicro()
		want := []crm.StepVisit{
			{Scenario: "kinds", Version: g.Version, Run: r, Step: "hello", Event: crm.VisitPass, Next: "name"},
			{Scenario: "kinds", Version: g.Version, Run: r, Step: "name", Event: crm.VisitEnter},
		}
		if !slices.Equal(res.Changes.Visits, want) {
			t.Fatalf("visits = %+v\nwant %+v", res.Changes.Visits, want)
		}
	})
}

// TestMarkDrops: a conversation the next state no longer holds, whose
// waiting step the turn did not answer, is recorded as dropped there; one
// kept (running or paused) or answered is not.
func TestMarkDrops(t *testing.T) {
	t.Parallel()
	t0 := testNow.Add(-time.Hour)
	old := State{Scenario: "portrait", Version: "v1", Step: "city", StartedAt: t0}
	other := State{Scenario: "feedback", Version: "v2", Step: "csat", StartedAt: testNow}
	paused := other
	paused.Paused = &old
	drop := crm.StepVisit{Scenario: "portrait", Version: "v1", Run: t0.UnixMicro(), Step: "city", Event: crm.VisitDrop}
	answer := crm.StepVisit{Scenario: "portrait", Version: "v1", Run: t0.UnixMicro(), Step: "city", Event: crm.VisitAnswer}
	tests := []struct {
		name   string
		next   State
		visits []crm.StepVisit
		want   []crm.StepVisit
	}{
		{"replaced by another scenario", other, nil, []crm.StepVisit{drop}},
		{"ended by a manager", State{}, nil, []crm.StepVisit{drop}},
		{"paused by a keyword", paused, nil, nil},
		{"still running", old, nil, nil},
		{"answered and finished", State{}, []crm.StepVisit{answer}, []crm.StepVisit{answer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := Result{State: tt.next}
			res.Changes.Visits = slices.Clone(tt.visits)
			o := old
			markDrops(&o, &res)
			if !slices.Equal(res.Changes.Visits, tt.want) {
				t.Fatalf("visits = %+v; want %+v", res.Changes.Visits, tt.want)
			}
		})
	}
}

// graphOf wraps a graph for the table.
type graphOf struct{ g *scenario.Graph }

// TestHandlerRecordsVisitsButNotThePlayground: a client's /start records
// the scenario's first visits with the turn's changes; the console's
// playground records none.
func TestHandlerRecordsVisitsButNotThePlayground(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		platform messenger.Platform
		want     bool
	}{{messenger.Telegram, true}, {messenger.Playground, false}} {
		t.Run(string(tt.platform), func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			var mu sync.Mutex
			var visits []crm.StepVisit
			f.clients.failWith = func(ch *crm.Changes) error {
				mu.Lock()
				visits = append(visits, ch.Visits...)
				mu.Unlock()
				return nil
			}
			chat := messenger.ChatKey{Platform: tt.platform, ID: "7"}
			upd := &messenger.Update{ID: "1", Chat: chat, Kind: messenger.KindMessage, Text: "/start"}
			if err := f.h.Handle(context.Background(), upd); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := len(visits) > 0; got != tt.want {
				t.Fatalf("visits %+v; want some: %t", visits, tt.want)
			}
			if tt.want && (visits[0].Scenario != "portrait" || visits[0].Event != crm.VisitEnter || visits[0].Step != "consent") {
				t.Fatalf("visits %+v", visits)
			}
		})
	}
}
