package segment

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fakeScenarios is a map of scenario names; err fails every lookup.
type fakeScenarios struct {
	byID map[string]ScenarioNames
	err  error
}

func (f fakeScenarios) ScenarioNames(_ context.Context, id string) (ScenarioNames, bool, error) {
	if f.err != nil {
		return ScenarioNames{}, false, f.err
	}
	n, ok := f.byID[id]
	return n, ok, nil
}

func (f fakeScenarios) ScenarioIDs(context.Context) ([]string, error) {
	if f.err != nil {
		return nil, f.err
	}
	return slices.Sorted(maps.Keys(f.byID)), nil
}

// shipped are the names of the shipped portrait and feedback scenarios.
var shipped = fakeScenarios{byID: map[string]ScenarioNames{
	"portrait": {
		Steps:    []string{"age", "city", "consent", "declined", "family", "interests", "name", "thanks"},
		EndSteps: []string{"declined", "thanks"},
		Fields:   []string{"age", "attributes.interests", "city", "consent", "family_status", "first_name"},
	},
	"feedback": {
		Steps:    []string{"comment", "csat", "thanks"},
		EndSteps: []string{"thanks"},
		Fields:   []string{"attributes.csat", "attributes.feedback_comment"},
	},
}}

func compileScenarios(t *testing.T, sc Scenarios, lib Library, src string) (*Segment, error) {
	t.Helper()
	c, err := NewCompiler(Config{Scenarios: sc, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	return c.Compile(context.Background(), src)
}

// TestActivityNames checks completed(...) and answered(...) against the
// known scenarios: a name no version has is an error with its place and
// the name meant, never a segment that selects nobody.
func TestActivityNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want string // error; "" compiles
	}{
		{`completed("portrait")`, ""},
		{`completed("portrait", "thanks") and answered("portrait", "city")`, ""},
		{`answered("portrait", "first_name") or answered("portrait", "name")`, ""},
		{`answered("feedback", "csat") and answered("feedback", "attributes.csat", ago("30d"))`, ""},
		{`completed("feedback", ago("7d"))`, ""},
		{`stuck("portrait", "city") or dropped("feedback", "comment")`, ""},
		{`stuck("portrat", "city")`, `segment:1:7: unknown scenario "portrat" (did you mean "portrait"?)`},
		{`stuck("portrait", "cty")`, `segment:1:19: unknown step "cty" in scenario "portrait" (did you mean "city"?)`},
		{`dropped("feedback", "zzz")`, `segment:1:21: unknown step "zzz" in scenario "feedback"; steps: comment, csat, thanks`},
		{`stuck("portrait", "city", ago("7d"), {platform: "vk", source: "promo"})`, ""},
		{`dropped("portrat", "city", {platform: "vk"})`, `segment:1:9: unknown scenario "portrat" (did you mean "portrait"?)`},
		{`dropped("portrait", "cty", {since: ago("7d")})`, `segment:1:21: unknown step "cty" in scenario "portrait" (did you mean "city"?)`},
		{`subscribed and completed("portrat")`, `segment:1:26: unknown scenario "portrat" (did you mean "portrait"?)`},
		{`answered("portrait","cty")`, `segment:1:21: unknown step or field "cty" in scenario "portrait" (did you mean "city"?)`},
		{`completed("portrait", "thnks")`, `segment:1:23: unknown end step "thnks" in scenario "portrait" (did you mean "thanks"?)`},
		{`completed("portrait", "city")`, `segment:1:23: step "city" of scenario "portrait" does not end it, so no conversation completes there; completed("portrait", ...) takes an end step; end steps: declined, thanks`},
		{`completed("zzz")`, `segment:1:11: unknown scenario "zzz"; scenarios: feedback, portrait`},
		{`answered("feedback", "zzz")`, `segment:1:22: unknown step or field "zzz" in scenario "feedback"; steps and fields: attributes.csat, attributes.feedback_comment, comment, csat, feedback_comment, thanks`},
		{"age >= 18 or\nanswered(\"feedbak\")", `segment:2:10: unknown scenario "feedbak" (did you mean "feedback"?)`},
		{`segment("typo")`, `segment:1:1: in saved segment "typo": typo:1:11: unknown scenario "portrat" (did you mean "portrait"?)`},
	}
	lib := fakeLibrary{saved: map[string]string{"typo": `completed("portrat")`}}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := compileScenarios(t, shipped, lib, tt.src)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.want {
				t.Fatalf("Compile = %v\nwant     %s", err, tt.want)
			}
			if !errors.Is(err, ErrUnknownScenario) {
				t.Errorf("error does not wrap ErrUnknownScenario")
			}
		})
	}
}

// TestActivityNamesUnchecked checks the cases where names are not checked:
// no Scenarios configured, or none known at all (a database no scenario
// has run on), where no name can be told from a typo.
func TestActivityNamesUnchecked(t *testing.T) {
	t.Parallel()
	for _, sc := range []Scenarios{nil, fakeScenarios{}, ScenarioSets{}, ScenarioSets{nil, fakeScenarios{}}} {
		if _, err := compileScenarios(t, sc, nil, `completed("portrat") or answered("x", "y")`); err != nil {
			t.Errorf("Scenarios %#v: %v", sc, err)
		}
	}
}

// TestActivityNamesLookupFailure checks that a failing lookup is an error
// of its own, not a compile error.
func TestActivityNamesLookupFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("database down")
	_, err := compileScenarios(t, fakeScenarios{err: boom}, nil, `completed("portrait")`)
	var e *Error
	if !errors.Is(err, boom) || errors.As(err, &e) {
		t.Fatalf("Compile = %v, want the lookup error", err)
	}
}

// TestScenarioSets checks that sets join their names: a step that only a
// past version had (kept by the store) is as good as a current one.
func TestScenarioSets(t *testing.T) {
	t.Parallel()
	current := fakeScenarios{byID: map[string]ScenarioNames{"portrait": {Steps: []string{"city", "thanks"}, EndSteps: []string{"thanks"}}}}
	past := fakeScenarios{byID: map[string]ScenarioNames{
		"portrait": {Steps: []string{"town", "bye"}, EndSteps: []string{"bye"}, Fields: []string{"attributes.town"}},
		"old":      {Steps: []string{"q"}},
	}}
	sets := ScenarioSets{current, nil, past}
	n, found, err := sets.ScenarioNames(context.Background(), "portrait")
	if err != nil || !found {
		t.Fatalf("ScenarioNames = %v, %v", found, err)
	}
	want := ScenarioNames{Steps: []string{"bye", "city", "thanks", "town"}, EndSteps: []string{"bye", "thanks"}, Fields: []string{"attributes.town"}}
	if !slices.Equal(n.Steps, want.Steps) || !slices.Equal(n.EndSteps, want.EndSteps) || !slices.Equal(n.Fields, want.Fields) {
		t.Errorf("names = %+v, want %+v", n, want)
	}
	ids, err := sets.ScenarioIDs(context.Background())
	if err != nil || strings.Join(ids, ",") != "old,portrait" {
		t.Errorf("ids = %v, %v", ids, err)
	}
	for _, src := range []string{`answered("portrait", "town")`, `completed("portrait", "bye")`, `completed("old")`} {
		if _, err := compileScenarios(t, sets, nil, src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestLongChains checks that a chain of one operator is one level of
// nesting however long it is, while real nesting is still capped.
func TestLongChains(t *testing.T) {
	t.Parallel()
	chain := func(n int, op string, term func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = term(i)
		}
		return strings.Join(parts, " "+op+" ")
	}
	cityTerm := func(i int) string { return `city == "c` + strings.Repeat("x", i%3) + `"` }
	tests := []struct {
		name  string
		src   string
		terms int // the top-level terms of the compiled condition
	}{
		{"34 or", chain(34, "or", cityTerm), 34},
		{"200 or", chain(200, "or", func(i int) string { return "age == " + strconv.Itoa(i) }), 200},
		{"200 and", chain(200, "and", func(i int) string { return "age != " + strconv.Itoa(i) }), 200},
		{"|| and or mixed", chain(40, "||", cityTerm) + " or " + chain(40, "or", cityTerm), 80},
		{"parenthesised", "(" + chain(20, "or", cityTerm) + ") or (" + chain(20, "or", cityTerm) + ")", 40},
		{"and inside or", chain(40, "or", func(int) string { return `(subscribed and age > 1)` }), 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Compile(tt.src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			var got int
			switch p := s.root.(type) {
			case orPred:
				got = len(p.ps)
			case andPred:
				got = len(p.ps)
			}
			if got != tt.terms {
				t.Errorf("top-level terms = %d, want %d", got, tt.terms)
			}
			for _, d := range []Dialect{Postgres, SQLite} {
				w, err := s.SQL(d)
				if err != nil {
					t.Fatal(err)
				}
				// Long lists are split in balanced halves: SQLite parses a
				// chain one level per term and refuses 1000 levels.
				if n := longestChain(w.SQL); n >= 64 {
					t.Errorf("%s SQL chains %d operators in one parenthesis", d, n)
				}
				if got := strings.Count(w.SQL, "?"); got != len(w.Args) {
					t.Errorf("%s: %d placeholders for %d args", d, got, len(w.Args))
				}
			}
		})
	}
	deep := strings.Repeat("age > 1 and (age < 9 or (", 17) + "subscribed" + strings.Repeat("))", 17)
	if _, err := Compile(deep); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("34 levels of and/or alternating: %v, want nested too deeply", err)
	}
}

// longestChain is the most AND/OR operators sql chains inside one pair
// of parentheses.
func longestChain(sql string) int {
	counts, top := []int{0}, 0
	for i := 0; i < len(sql); i++ {
		switch {
		case sql[i] == '(':
			counts = append(counts, 0)
		case sql[i] == ')':
			counts = counts[:len(counts)-1]
		case strings.HasPrefix(sql[i:], " OR "), strings.HasPrefix(sql[i:], " AND "):
			counts[len(counts)-1]++
			top = max(top, counts[len(counts)-1])
		}
	}
	return top
}

// TestLongListSQLMeansTheSame checks that a list split for SQL keeps every
// term in order: the arguments are the values as written.
func TestLongListSQLMeansTheSame(t *testing.T) {
	t.Parallel()
	terms := make([]string, 300)
	want := make([]any, 300)
	for i := range terms {
		terms[i] = "age == " + strconv.Itoa(i)
		want[i] = int64(i)
	}
	s, err := Compile(strings.Join(terms, " or "))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.SQL(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Args, want) {
		t.Errorf("args = %v", w.Args)
	}
	if strings.Count(w.SQL, " OR ") != 299 || strings.Contains(w.SQL, " AND (") {
		t.Errorf("SQL = %s", w.SQL)
	}
}
