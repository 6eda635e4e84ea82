package funnel_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/scenario"
)

// botGraphs is a fake Scenarios of several bots: bot name → scenario id →
// graph, bots in order.
type botGraphs struct {
	order []string
	by    map[string]map[string]*scenario.Graph
}

func (b botGraphs) Scenario(_ context.Context, bot, id string) (*scenario.Graph, bool, error) {
	g, ok := b.by[bot][id]
	return g, ok, nil
}

func (b botGraphs) ScenarioBots(_ context.Context, id string) ([]string, error) {
	var out []string
	for _, name := range b.order {
		if _, ok := b.by[name][id]; ok {
			out = append(out, name)
		}
	}
	return out, nil
}

func (b botGraphs) ScenarioIDs(context.Context) ([]string, error) {
	var ids []string
	for _, m := range b.by {
		for id := range m {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// queryStore is a funnel.Store that records the last query and counts nothing.
type queryStore struct{ last crm.FunnelQuery }

func (s *queryStore) FunnelSteps(_ context.Context, q crm.FunnelQuery) ([]crm.FunnelStepCount, error) {
	s.last = q
	return nil, nil
}

func (s *queryStore) ScenarioVersions(context.Context, string) ([]crm.ScenarioVersion, error) {
	return nil, nil
}

// TestFunnelChoosesTheBot: the bot chosen gives the steps; without a
// choice the bot of the environment variables, else the only bot with the
// scenario; several others are an error listing them; a bot without the
// scenario is an unknown scenario.
func TestFunnelChoosesTheBot(t *testing.T) {
	t.Parallel()
	graph := func(id, version string) *scenario.Graph {
		return &scenario.Graph{ID: id, Version: version, Start: "a", Order: []string{"a"}, Steps: map[string]*scenario.Step{"a": {ID: "a"}}}
	}
	cat := botGraphs{order: []string{"", "shop", "club"}, by: map[string]map[string]*scenario.Graph{
		"":     {"portrait": graph("portrait", "env")},
		"shop": {"portrait": graph("portrait", "shop"), "promo": graph("promo", "shop")},
		"club": {"promo": graph("promo", "club"), "club_only": graph("club_only", "club")},
	}}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	st := &queryStore{}
	svc, err := funnel.New(funnel.Config{Store: st, Scenarios: cat, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q            funnel.Query
		version, bot string
		bots         []string
		err          error
		msg          string
	}{
		{q: funnel.Query{Scenario: "portrait"}, version: "env", bot: "", bots: []string{"", "shop"}},
		{q: funnel.Query{Scenario: "portrait", Bot: "shop"}, version: "shop", bot: "shop", bots: []string{"", "shop"}},
		{q: funnel.Query{Scenario: "club_only"}, version: "club", bot: "club", bots: []string{"club"}},
		{q: funnel.Query{Scenario: "promo"}, err: funnel.ErrChooseBot, msg: `choose a bot: scenario "promo" is in the bots "shop", "club"`},
		{q: funnel.Query{Scenario: "promo", Bot: "club"}, version: "club", bot: "club", bots: []string{"shop", "club"}},
		{q: funnel.Query{Scenario: "portrait", Bot: "club"}, err: funnel.ErrUnknownScenario, msg: `unknown scenario "portrait" in bot "club"`},
		{q: funnel.Query{Scenario: "promo", Bot: "shoop"}, err: funnel.ErrUnknownScenario, msg: `unknown scenario "promo" in bot "shoop" (did you mean "shop"?)`},
	}
	for _, tt := range tests {
		r, err := svc.Funnel(context.Background(), tt.q)
		if tt.err != nil {
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%+v: error %v; want %v with %q", tt.q, err, tt.err, tt.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.q, err)
			continue
		}
		if r.Current != tt.version || r.Bot != tt.bot || !slices.Equal(r.Bots, tt.bots) {
			t.Errorf("%+v: version %q of bot %q among %q; want %q of %q among %q", tt.q, r.Current, r.Bot, r.Bots, tt.version, tt.bot, tt.bots)
		}
	}
}

// TestFunnelPeriodOnTheClock: a Period is resolved on the Service's clock
// and reported as the Query's Since; no period and no Since is all time.
func TestFunnelPeriodOnTheClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	st := &queryStore{}
	cat := botGraphs{order: []string{""}, by: map[string]map[string]*scenario.Graph{"": {"p": {ID: "p", Start: "a", Order: []string{"a"},
		Steps: map[string]*scenario.Step{"a": {ID: "a"}}}}}}
	svc, err := funnel.New(funnel.Config{Store: st, Scenarios: cat, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	period, err := funnel.ParsePeriod(funnel.DefaultPeriod)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Funnel(context.Background(), funnel.Query{Scenario: "p", Period: period})
	want := now.Add(-7 * 24 * time.Hour)
	if err != nil || !r.Query.Since.Equal(want) || !st.last.Since.Equal(want) || r.Export().Since != "2026-11-30T12:00:00Z" {
		t.Fatalf("since %v (store %v), %v; want %v", r.Query.Since, st.last.Since, err, want)
	}
	if _, err := svc.Funnel(context.Background(), funnel.Query{Scenario: "p"}); err != nil || !st.last.Since.IsZero() {
		t.Fatalf("no period: store since %v, %v", st.last.Since, err)
	}
}
