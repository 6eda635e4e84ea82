package funnel_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/store/postgres"
	"github.com/chathub/chathub/internal/store/storetest"
)

const funnelYAML = `id: fun
title: Анкета
start: hello
steps:
  hello:
    say: "Привет!"
    next: name
  name:
    say: "Имя?"
    input: text
    next: city
  city:
    say: "Город?"
    input: text
    next: thanks
  thanks:
    say: "Спасибо!"
    end: true
`

// graphs is a fake Scenarios: the scenarios of the bot of the
// environment variables.
type graphs map[string]*scenario.Graph

func (g graphs) Scenario(_ context.Context, bot, id string) (*scenario.Graph, bool, error) {
	x, ok := g[id]
	return x, ok && bot == "", nil
}

func (g graphs) ScenarioBots(_ context.Context, id string) ([]string, error) {
	if _, ok := g[id]; ok {
		return []string{""}, nil
	}
	return nil, nil
}

func (g graphs) ScenarioIDs(context.Context) ([]string, error) {
	var ids []string
	for id := range g {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// base is the scripted conversations' time 0.
var base = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func at(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }

// script plays conversations through the dialog engine into the store.
type script struct {
	t   *testing.T
	s   *postgres.Store
	g   *scenario.Graph
	e   *dialog.Engine
	seq int
}

// conv is one chat of the script.
type conv struct {
	key messenger.ChatKey
	st  dialog.State
}

func (sc *script) record(key messenger.ChatKey, ch *crm.Changes) {
	sc.t.Helper()
	sc.seq++
	ch.UpdateID = "u" + strconv.Itoa(sc.seq)
	if err := sc.s.RecordChanges(context.Background(), key, ch); err != nil {
		sc.t.Fatalf("RecordChanges: %v", err)
	}
}

func (sc *script) start(c *conv, min int) {
	sc.t.Helper()
	var res dialog.Result
	sc.e.Start(sc.g, &dialog.Turn{Chat: c.key, Update: &messenger.Update{Chat: c.key, Kind: messenger.KindMessage,
		Text: "/start"}, Now: at(min)}, &res)
	sc.record(c.key, &res.Changes)
	c.st = res.State
}

func (sc *script) say(c *conv, text string, min int) {
	sc.t.Helper()
	var res dialog.Result
	sc.e.Answer(sc.g, &c.st, &dialog.Turn{Chat: c.key, Update: &messenger.Update{Chat: c.key, Kind: messenger.KindMessage, Text: text},
		Client: &crm.Client{}, Now: at(min)}, &res)
	sc.record(c.key, &res.Changes)
	c.st = res.State
}

// drop ends c where it waits (another scenario replaced it).
func (sc *script) drop(c *conv, min int) {
	sc.t.Helper()
	sc.record(c.key, &crm.Changes{Now: at(min), Visits: []crm.StepVisit{{Scenario: c.st.Scenario, Version: c.st.Version,
		Run: c.st.Run(), Step: c.st.Step, Event: crm.VisitDrop}}})
	c.st = dialog.State{}
}

func (sc *script) remind(c *conv, n, min int) {
	sc.t.Helper()
	err := sc.s.RecordReminder(context.Background(), c.key, crm.Reminder{Scenario: c.st.Scenario, Version: c.st.Version,
		Step: c.st.Step, Run: c.st.Run(), N: n, Key: "r" + strconv.Itoa(min), Text: "Продолжим?", SentAt: at(min)})
	if err != nil {
		sc.t.Fatal(err)
	}
}

func (sc *script) cameBack(c *conv, min int) {
	sc.t.Helper()
	if err := sc.s.ReminderAnswered(context.Background(), c.key, c.st.Scenario, c.st.Step, c.st.StartedAt, at(min)); err != nil {
		sc.t.Fatal(err)
	}
}

func (sc *script) client(platform messenger.Platform, id, source string) *conv {
	sc.t.Helper()
	key := messenger.ChatKey{Platform: platform, ID: id}
	sc.record(key, &crm.Changes{Now: at(-100), Source: source})
	return &conv{key: key}
}

// play records the scripted conversations:
//
//	C1 tg: starts at 0, answers name at 1 and city at 3: finished.
//	C2 tg: starts at 50, answers name at 52: stuck at city (reminded at 60, no answer).
//	C3 tg: starts at 20, dropped at name at 25.
//	C4 tg, source ads: starts at 30, reminded at name at 40, answers it at 45
//	   (came back) and city at 47: finished.
//	C5 vk, source ads: starts at 5, waits at name since: idle past OpenFor (dropped).
//	C6 tg (C1's client again): starts at 60: stuck at name.
//	C7 tg: started at -10, before the period: not counted.
//	C8 tg: starts at 45, reminded at name at 55 (after minute 48: in that
//	   period, though its conversation is not): stuck at name.
func play(sc *script) {
	c1 := sc.client(messenger.Telegram, "1", "")
	sc.start(c1, 0)
	sc.say(c1, "Анна", 1)
	sc.say(c1, "Самара", 3)
	c2 := sc.client(messenger.Telegram, "2", "")
	sc.start(c2, 50)
	sc.say(c2, "Борис", 52)
	sc.remind(c2, 1, 60)
	c3 := sc.client(messenger.Telegram, "3", "")
	sc.start(c3, 20)
	sc.drop(c3, 25)
	c4 := sc.client(messenger.Telegram, "4", "ads")
	sc.start(c4, 30)
	sc.remind(c4, 1, 40)
	sc.cameBack(c4, 45)
	sc.say(c4, "Вера", 45)
	sc.say(c4, "Москва", 47)
	c5 := sc.client(messenger.VK, "5", "ads")
	sc.start(c5, 5)
	sc.start(c1, 60)
	c7 := sc.client(messenger.Telegram, "7", "")
	sc.start(c7, -10)
	sc.say(c7, "Глеб", -9)
	c8 := sc.client(messenger.Telegram, "8", "")
	sc.start(c8, 45)
	sc.remind(c8, 1, 55)
}

func TestFunnelScripted(t *testing.T) {
	t.Parallel()
	stores := []struct {
		name string
		open func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "funnel.db") }},
		{"postgres", func(t *testing.T) string {
			storetest.SkipUnlessServices(t)
			return storetest.PostgresURL(t)
		}},
	}
	for _, b := range stores {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, err := postgres.Open(context.Background(), postgres.Config{URL: b.open(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			g, err := scenario.Load("fun.yaml", []byte(funnelYAML))
			if err != nil {
				t.Fatal(err)
			}
			play(&script{t: t, s: s, g: g, e: dialog.NewEngine(dialog.EngineConfig{})})
			if err := s.SaveVersion(context.Background(), "fun", g.Version, "fun.yaml", []byte(funnelYAML)); err != nil {
				t.Fatal(err)
			}
			svc, err := funnel.New(funnel.Config{Store: s, Scenarios: graphs{"fun": g}, OpenFor: time.Hour,
				Now: func() time.Time { return at(100) }})
			if err != nil {
				t.Fatal(err)
			}
			// Live first (nothing built: a new install), then, on PostgreSQL,
			// from the rollup for the periods on the hour.
			for _, rollup := range []bool{false, true} {
				if rollup {
					if b.name != "postgres" {
						continue
					}
					if _, err := s.RefreshFunnel(context.Background(), at(100), time.Hour); err != nil {
						t.Fatal(err)
					}
				}
				for _, tt := range funnelCases(g.Version) {
					t.Run(tt.name+map[bool]string{true: " rollup"}[rollup], func(t *testing.T) {
						tt.q.Scenario = "fun"
						r, err := svc.Funnel(context.Background(), tt.q)
						if err != nil {
							t.Fatal(err)
						}
						if fromRollup := !r.AsOf.IsZero(); fromRollup != rollup {
							t.Fatalf("as of %v: from the rollup %v, want %v", r.AsOf, fromRollup, rollup)
						}
						if !stepsEqual(r.Steps, tt.want, !r.AsOf.IsZero()) {
							t.Fatalf("steps:\n%+v\nwant\n%+v", r.Steps, tt.want)
						}
						if len(r.Versions) != 1 || r.Versions[0].Version != g.Version || r.Current != g.Version {
							t.Fatalf("versions %+v, current %q; want the one that ran, %s", r.Versions, r.Current, g.Version)
						}
					})
				}
			}
		})
	}
}

// stepsEqual compares funnel rows; with approx, medians within 5 % (the
// rollup's histograms).
func stepsEqual(got, want []funnel.Step, approx bool) bool {
	if !approx {
		return slices.Equal(got, want)
	}
	return slices.EqualFunc(got, want, func(a, b funnel.Step) bool {
		d := (a.MedianAnswer - b.MedianAnswer).Abs()
		if float64(d) > 0.05*float64(b.MedianAnswer) {
			return false
		}
		a.MedianAnswer = b.MedianAnswer
		return a == b
	})
}

type funnelCase struct {
	name string
	q    funnel.Query
	want []funnel.Step
}

func funnelCases(version string) []funnelCase {
	m := time.Minute
	return []funnelCase{
		{"all", funnel.Query{Since: at(0)}, []funnel.Step{
			{ID: "hello", Entered: 7, Answered: 7, OfStart: 100, OfPrevious: 100},
			{ID: "name", Question: true, Entered: 7, Answered: 3, OfStart: 100, OfPrevious: 100, Stuck: 2, Dropped: 2,
				MedianAnswer: 2 * m, Reminded: 2, CameBack: 1},
			{ID: "city", Question: true, Entered: 3, Answered: 2, OfStart: 42.9, OfPrevious: 42.9, Stuck: 1,
				MedianAnswer: 2 * m, Reminded: 1},
			{ID: "thanks", Entered: 2, Answered: 2, OfStart: 28.6, OfPrevious: 66.7},
		}},
		{"platform vk", funnel.Query{Since: at(0), Platform: "vk"}, []funnel.Step{
			{ID: "hello", Entered: 1, Answered: 1, OfStart: 100, OfPrevious: 100},
			{ID: "name", Question: true, Entered: 1, OfStart: 100, OfPrevious: 100, Dropped: 1},
			{ID: "city", Question: true, OfStart: 0, OfPrevious: 0},
			{ID: "thanks", OfStart: 0, OfPrevious: -1},
		}},
		{"source ads", funnel.Query{Since: at(0), Source: "ads"}, []funnel.Step{
			{ID: "hello", Entered: 2, Answered: 2, OfStart: 100, OfPrevious: 100},
			{ID: "name", Question: true, Entered: 2, Answered: 1, OfStart: 100, OfPrevious: 100, Dropped: 1,
				MedianAnswer: 15 * m, Reminded: 1, CameBack: 1},
			{ID: "city", Question: true, Entered: 1, Answered: 1, OfStart: 50, OfPrevious: 50, MedianAnswer: 2 * m},
			{ID: "thanks", Entered: 1, Answered: 1, OfStart: 50, OfPrevious: 100},
		}},
		{"since minute 48", funnel.Query{Since: at(48), Version: version}, []funnel.Step{
			{ID: "hello", Entered: 2, Answered: 2, OfStart: 100, OfPrevious: 100},
			{ID: "name", Question: true, Entered: 2, Answered: 1, OfStart: 100, OfPrevious: 100, Stuck: 1, MedianAnswer: 2 * m},
			{ID: "city", Question: true, Entered: 1, OfStart: 50, OfPrevious: 50, Stuck: 1, Reminded: 1},
			{ID: "thanks", OfStart: 0, OfPrevious: 0},
		}},
		{"another version", funnel.Query{Version: "0000"}, []funnel.Step{
			{ID: "hello", OfStart: -1, OfPrevious: -1},
			{ID: "name", Question: true, OfStart: -1, OfPrevious: -1},
			{ID: "city", Question: true, OfStart: -1, OfPrevious: -1},
			{ID: "thanks", OfStart: -1, OfPrevious: -1},
		}},
	}
}

func TestFunnelUnknownScenario(t *testing.T) {
	t.Parallel()
	svc, err := funnel.New(funnel.Config{Store: nopStore{}, Scenarios: graphs{"portrait": nil, "feedback": nil}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Funnel(context.Background(), funnel.Query{Scenario: "portrat"})
	if err == nil || err.Error() != `unknown scenario "portrat" (did you mean "portrait"?)` {
		t.Fatalf("err = %v", err)
	}
}

type nopStore struct{}

func (nopStore) FunnelSteps(context.Context, crm.FunnelQuery) ([]crm.FunnelStepCount, error) {
	return nil, nil
}

func (nopStore) ScenarioVersions(context.Context, string) ([]crm.ScenarioVersion, error) {
	return nil, nil
}

// countStore returns fixed counts.
type countStore []crm.FunnelStepCount

func (c countStore) FunnelSteps(context.Context, crm.FunnelQuery) ([]crm.FunnelStepCount, error) {
	return c, nil
}

func (countStore) ScenarioVersions(context.Context, string) ([]crm.ScenarioVersion, error) {
	return nil, nil
}

// TestFunnelPreviousIsThePredecessor: "% of previous" compares a step with
// the step leading to it, not with its neighbour in the file; a step only
// older versions had is listed last.
func TestFunnelPreviousIsThePredecessor(t *testing.T) {
	t.Parallel()
	g, err := scenario.Load("b.yaml", []byte(`id: br
start: a
steps:
  a:
    say: "Согласны?"
    buttons:
      - { text: "Да", value: "yes", next: b }
      - { text: "Нет", value: "no", next: c }
  c:
    say: "Жаль"
    end: true
  b:
    say: "Имя?"
    input: text
    next: d
  d:
    say: "Спасибо"
    end: true
`))
	if err != nil {
		t.Fatal(err)
	}
	st := countStore{{Step: "a", Entered: 10, Answered: 10}, {Step: "c", Entered: 2, Answered: 2},
		{Step: "b", Entered: 8, Answered: 6}, {Step: "d", Entered: 6, Answered: 6}, {Step: "old", Entered: 1}}
	svc, err := funnel.New(funnel.Config{Store: st, Scenarios: graphs{"br": g}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Funnel(context.Background(), funnel.Query{Scenario: "br"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range r.Steps {
		got = append(got, s.ID+":"+strconv.FormatFloat(s.OfPrevious, 'f', 1, 64))
	}
	want := []string{"a:100.0", "c:20.0", "b:80.0", "d:75.0", "old:16.7"}
	if !slices.Equal(got, want) || !r.Steps[4].Removed {
		t.Fatalf("steps = %v; want %v (old removed)", got, want)
	}
}

// rollupStore is a fake RollupStore counting refreshes.
type rollupStore struct {
	mu    sync.Mutex
	calls int
	open  time.Duration
	fail  bool
}

func (f *rollupStore) RefreshFunnel(ctx context.Context, _ time.Time, openFor time.Duration) (crm.FunnelRefresh, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.open = openFor
	if f.fail {
		return crm.FunnelRefresh{}, errors.New("refresh failed")
	}
	return crm.FunnelRefresh{Ran: true, Full: f.calls == 1}, ctx.Err()
}

func (f *rollupStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestRefresher(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		st := &rollupStore{fail: fail}
		r, err := funnel.NewRefresher(funnel.RefresherConfig{Store: st, Every: time.Millisecond, OpenFor: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err == nil {
			t.Fatal("second Start: no error")
		}
		for st.count() < 3 {
			time.Sleep(time.Millisecond)
		}
		if err := r.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		n := st.count()
		time.Sleep(5 * time.Millisecond)
		if st.count() != n || st.open != 2*time.Hour {
			t.Fatalf("after Stop: %d refreshes then %d; openFor %v", n, st.count(), st.open)
		}
	}
	if _, err := funnel.NewRefresher(funnel.RefresherConfig{}); err == nil {
		t.Fatal("NewRefresher without a Store: no error")
	}
}

func TestExportAsOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 14, 5, 0, 0, time.UTC)
	if got := (&funnel.Report{AsOf: at}).Export().AsOf; got != "2026-12-07T14:05:00Z" {
		t.Errorf("as_of %q", got)
	}
	if got := (&funnel.Report{}).Export().AsOf; got != "" {
		t.Errorf("live: as_of %q, want none", got)
	}
}
