package dialog

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// TestEngineTrace: with Trace on, a call records the steps it enters, the
// branch it takes (an option's own next, a next: entry, a skip) and the
// re-asks; with it off, nothing.
func TestEngineTrace(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "../../scenarios/portrait.yaml")
	e := NewEngine(EngineConfig{Trace: true})
	var res Result
	turn := func(st *State, upd *messenger.Update) []Hop {
		res.Reset()
		e.Answer(g, st, &Turn{Chat: testChat, Update: upd, Client: nil, Now: testNow}, &res)
		*st = res.State
		return append([]Hop(nil), res.Trace...)
	}
	hop := func(kind HopKind, step string, index int, to string) Hop {
		return Hop{Kind: kind, Scenario: g.ID, Version: g.Version, Step: step, Index: index, To: to}
	}
	e.Start(g, &Turn{Chat: testChat, Now: testNow}, &res)
	if want := []Hop{hop(HopEnter, "consent", 0, "")}; !reflect.DeepEqual(res.Trace, want) {
		t.Errorf("start: %+v", res.Trace)
	}
	st := res.State
	steps := []struct {
		upd  *messenger.Update
		want []Hop
	}{
		{text("может быть"), []Hop{hop(HopReask, "consent", 0, "")}},
		{button("yes"), []Hop{hop(HopOption, "consent", 0, "name"), hop(HopEnter, "name", 0, "")}},
		{text("Анна"), []Hop{hop(HopBranch, "name", 0, "age"), hop(HopEnter, "age", 0, "")}},
		{text("16"), []Hop{hop(HopBranch, "age", 0, "minor"), hop(HopEnter, "minor", 0, ""),
			hop(HopBranch, "minor", 0, "city"), hop(HopEnter, "city", 0, "")}},
		{button("__skip"), []Hop{hop(HopSkip, "city", 0, "family"), hop(HopEnter, "family", 0, "")}},
	}
	for i, s := range steps {
		if got := turn(&st, s.upd); !reflect.DeepEqual(got, s.want) {
			t.Errorf("turn %d: got %+v\nwant %+v", i+1, got, s.want)
		}
	}

	off := NewEngine(EngineConfig{})
	res.Reset()
	off.Start(g, &Turn{Chat: testChat, Now: testNow}, &res)
	if len(res.Trace) != 0 {
		t.Errorf("trace without Trace: %+v", res.Trace)
	}
}

// TestHandlerTrace: HandlerConfig.Trace gets the moves of a turn whose
// state was saved — of the final run when the turn needed the client card.
func TestHandlerTrace(t *testing.T) {
	t.Parallel()
	g := loadGraph(t, "../../scenarios/portrait.yaml")
	var got [][]Hop
	h, err := NewHandler(HandlerConfig{
		Engine: NewEngine(EngineConfig{Trace: true}), States: newMemStates(), Clients: newMemClients(),
		Scenarios: &memCatalog{graphs: map[string]*scenario.Graph{g.ID: g}}, Sender: &recSender{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
		Trace: func(chat messenger.ChatKey, hops []Hop) {
			if chat != testChat {
				t.Errorf("trace of chat %v", chat)
			}
			got = append(got, append([]Hop(nil), hops...))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Begin(ctx, testChat, "portrait", nil); err != nil {
		t.Fatal(err)
	}
	for i, u := range []*messenger.Update{button("yes"), text("Анна")} {
		u.ID = string(rune('a' + i))
		if err := h.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// The age question shows the name: the turn ran again with the card,
	// and only that run's moves are reported.
	if len(got) != 3 || len(got[2]) != 2 || got[2][1].Step != "age" {
		t.Errorf("traces = %+v", got)
	}
}
