package scenariotest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// TestParseErrors: every problem of a test file is reported at its
// file:line:col with what to do, all at once.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"t.test.yaml:1:1: the file is empty"}},
		{"syntax", "cases:\n  - name: a\n   steps: [\n", []string{"t.test.yaml:3:1: YAML syntax error"}},
		{"two documents", "cases: []\n---\ncases: []\n", []string{"t.test.yaml:2:1: a test file holds one YAML document"}},
		{"not a mapping", "- a\n", []string{"t.test.yaml:1:1: a test file must be a mapping"}},
		{"no cases", "scenario: portrait\n", []string{"t.test.yaml:1:1: a test file needs cases:"}},
		{"cases not a list", "cases: 5\n", []string{`t.test.yaml:1:8: cases: must be a list of test cases, each with name: and steps:, got "5"`}},
		{"unknown top key", "scenaro: portrait\ncases: [{name: a, scenario: portrait, steps: [{say: x}]}]\n",
			[]string{`t.test.yaml:1:1: unknown key "scenaro" at the top level; did you mean "scenario"?`}},
		{"unknown scenario", "scenario: portrait\ncases:\n  - name: a\n    scenario: fedback\n    steps: [{say: x}]\n",
			[]string{`t.test.yaml:4:15: unknown scenario "fedback" in scenario: in case "a"; did you mean "feedback"?`}},
		{"far scenario", "scenario: zzzzzzzz\ncases: [{name: a, steps: [{say: x}]}]\n",
			[]string{`t.test.yaml:1:11: unknown scenario "zzzzzzzz" in scenario: at the top level; the loaded scenarios are: b2b, feedback, portrait, profile`}},
		{"no scenario", "cases:\n  - name: a\n    steps: [{say: x}]\n",
			[]string{`t.test.yaml:2:5: case "a" names no scenario; add scenario: <id> to it or at the top of the file`}},
		{"case without name and steps", "scenario: portrait\ncases:\n  - begin: false\n",
			[]string{"t.test.yaml:3:5: a test case needs name:", `t.test.yaml:3:5: case "" needs steps:`}},
		{"duplicate case", "scenario: portrait\ncases:\n  - {name: a, steps: [{say: x}]}\n  - {name: a, steps: [{say: y}]}\n",
			[]string{`t.test.yaml:4:12: duplicate test case name "a" (first at line 3)`}},
		{"bad begin and now", "scenario: portrait\nnow: вчера\ncases:\n  - {name: a, begin: no, steps: [{say: x}]}\n",
			[]string{`t.test.yaml:2:6: now: at the top level must be a time like 2025-06-04T12:00:00+03:00, got "вчера"`,
				`t.test.yaml:4:22: begin: in case "a" must be true or false, got "no"`}},
		{"two actions", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - {say: x, press: y}\n",
			[]string{`t.test.yaml:5:9: step 1 of case "a" does say: and press: at once; give each its own step`}},
		{"empty step", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - {}\n",
			[]string{`t.test.yaml:5:9: step 1 of case "a" does nothing`}},
		{"blank say", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - say: \" \"\n",
			[]string{`t.test.yaml:5:14: say: in step 1 of case "a" must not be empty`}},
		{"unknown step key", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - {sya: x}\n",
			[]string{`t.test.yaml:5:10: unknown key "sya" in step 1 of case "a"; did you mean "say"?`}},
		{"unknown expect key", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {bott: x}\n",
			[]string{`t.test.yaml:5:18: unknown key "bott" in expect: in step 1 of case "a"; did you mean "bot"?`}},
		{"empty expect", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {}\n",
			[]string{`t.test.yaml:5:17: expect: in step 1 of case "a" is empty`}},
		{"unknown step", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {step: nmae}\n",
			[]string{`t.test.yaml:5:24: unknown step "nmae" of scenario "portrait" in step: in step 1 of case "a"; did you mean "name"?`}},
		{"step of the expected scenario", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {scenario: feedback, step: name}\n",
			[]string{`t.test.yaml:5:44: unknown step "name" of scenario "feedback" in step: in step 1 of case "a"; its steps are: csat, csat_why, nps, nps_why, thanks`}},
		{"unknown field", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {fields: {frist_name: Анна}}\n",
			[]string{`t.test.yaml:5:27: unknown field "frist_name" in fields: in step 1 of case "a"; did you mean "first_name"?`}},
		{"unknown variable", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {fields: {vars.rewrd: x}}\n",
			[]string{`t.test.yaml:5:27: unknown variable "rewrd" of scenario "portrait" in fields: in step 1 of case "a"; did you mean vars.reward?`}},
		{"variable of a scenario without any", "scenario: feedback\ncases:\n  - name: a\n    steps:\n      - expect: {fields: {vars.x: 1}}\n",
			[]string{`t.test.yaml:5:27: unknown variable "x" in fields: in step 1 of case "a": scenario "feedback" has no vars: and saves none`}},
		{"tags in fields", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {fields: {tags: [a]}}\n",
			[]string{`t.test.yaml:5:27: tags are checked with tags: and no_tags: of expect:`}},
		{"field value a mapping", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {fields: {city: {a: b}}}\n",
			[]string{`t.test.yaml:5:33: city: in fields: in step 1 of case "a" must be a value, a list or ~ (empty), got a mapping`}},
		{"buttons not a list", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {buttons: Да}\n",
			[]string{`t.test.yaml:5:27: buttons: in step 1 of case "a" must be a list of captions ([] for none), got "Да"`}},
		{"contradictions", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {no_reply: true, bot: x, ended: true, step: name}\n",
			[]string{`t.test.yaml:5:39: bot: in step 1 of case "a" contradicts no_reply: true`,
				`t.test.yaml:5:61: step: in step 1 of case "a" contradicts ended: true`}},
		{"no_reply false", "scenario: portrait\ncases:\n  - name: a\n    steps:\n      - expect: {no_reply: false}\n",
			[]string{`t.test.yaml:5:28: no_reply: false checks nothing`}},
		{"unknown profile key", "scenario: portrait\ncases:\n  - name: a\n    profile: {name: Анна}\n    steps: [{say: x}]\n",
			[]string{`t.test.yaml:4:15: unknown key "name" in profile: in case "a"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("t.test.yaml", []byte(tt.src), shipped(t))
			var list scenario.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v (%T), want a scenario.ErrorList", err, err)
			}
			got := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("errors lack %q; got:\n%s", w, got)
				}
			}
			if len(list) != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%s", len(list), len(tt.want), got)
			}
		})
	}
}

// TestParseFile: defaults, overrides, spliced anchored steps, merge keys,
// and every kind of expectation at the position of its value.
func TestParseFile(t *testing.T) {
	t.Parallel()
	src := `scenario: portrait
x-consent: &consent
  - press: "Да, согласен"
x-expect: &named { step: name }
cases:
  - name: first
    steps:
      - *consent
      - say: Анна
        expect:
          <<: *named
          bot: [a, b]
          not_bot: c
          buttons: []
          fields: { first_name: Анна, age: 43, city: ~, attributes.interests: [fitness, travel] }
          tags: survey
          no_tags: [minor]
  - name: second
    scenario: feedback
    begin: false
    now: 2024-01-02T03:04:05Z
    profile: { first_name: Олег, username: oleg }
    steps:
      - contact: "+79123456789"
        expect: { scenario: feedback, step: csat, ended: false, handoff: false, no_reply: true }
`
	f := parse(t, src)
	if len(f.Cases) != 2 {
		t.Fatalf("%d cases", len(f.Cases))
	}
	c := f.Cases[0]
	if c.Name != "first" || c.Scenario != "portrait" || !c.Begin || !c.Now.Equal(DefaultNow) || c.Pos != (scenario.Pos{Line: 6, Col: 5}) {
		t.Errorf("case 1 = %+v", c)
	}
	if len(c.Steps) != 2 || c.Steps[0].Action != ActionPress || c.Steps[0].Text != "Да, согласен" || c.Steps[0].N != 1 ||
		c.Steps[1].Action != ActionSay || c.Steps[1].N != 2 || c.Steps[1].TextPos != (scenario.Pos{Line: 9, Col: 14}) {
		t.Fatalf("case 1 steps = %+v", c.Steps)
	}
	want := []Check{
		{Kind: CheckBot, Pos: scenario.Pos{Line: 12, Col: 17}, Text: "a"},
		{Kind: CheckBot, Pos: scenario.Pos{Line: 12, Col: 20}, Text: "b"},
		{Kind: CheckNotBot, Pos: scenario.Pos{Line: 13, Col: 20}, Text: "c"},
		{Kind: CheckTag, Pos: scenario.Pos{Line: 16, Col: 17}, Text: "survey"},
		{Kind: CheckNoTag, Pos: scenario.Pos{Line: 17, Col: 21}, Text: "minor"},
		{Kind: CheckButtons, Pos: scenario.Pos{Line: 14, Col: 20}, List: []string{}},
		{Kind: CheckStep, Pos: scenario.Pos{Line: 4, Col: 26}, Text: "name", Scenario: "portrait"},
		{Kind: CheckField, Pos: scenario.Pos{Line: 15, Col: 33}, Text: "first_name", Value: "Анна"},
		{Kind: CheckField, Pos: scenario.Pos{Line: 15, Col: 44}, Text: "age", Value: "43"},
		{Kind: CheckField, Pos: scenario.Pos{Line: 15, Col: 54}, Text: "city", Value: nil},
		{Kind: CheckField, Pos: scenario.Pos{Line: 15, Col: 79}, Text: "attributes.interests", Value: []string{"fitness", "travel"}},
	}
	if got := c.Steps[1].Checks; !reflect.DeepEqual(got, want) {
		t.Errorf("checks:\n got %+v\nwant %+v", got, want)
	}
	c = f.Cases[1]
	wantNow := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if c.Scenario != "feedback" || c.Begin || !c.Now.Equal(wantNow) ||
		!reflect.DeepEqual(c.Profile, &messenger.Profile{FirstName: "Олег", Username: "oleg"}) {
		t.Errorf("case 2 = %+v, profile %+v", c, c.Profile)
	}
	kinds := []CheckKind{}
	for _, chk := range c.Steps[0].Checks {
		kinds = append(kinds, chk.Kind)
	}
	if s := c.Steps[0]; s.Action != ActionContact || !reflect.DeepEqual(kinds, []CheckKind{CheckNoReply, CheckEnded, CheckHandoff, CheckScenario, CheckStep}) {
		t.Errorf("case 2 step = %+v, kinds %v", s, kinds)
	}
}

// TestParseShippedTests: the shipped test files parse.
func TestParseShippedTests(t *testing.T) {
	t.Parallel()
	files, err := Files(shippedDir + "/" + TestsDir)
	if err != nil || len(files) < 4 {
		t.Fatalf("shipped test files: %v, %v", files, err)
	}
	if _, err := ParseFiles(files, shipped(t)); err != nil {
		t.Fatal(err)
	}
}
