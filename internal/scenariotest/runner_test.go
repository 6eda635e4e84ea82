package scenariotest

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
)

// TestShippedScenarioTests: the shipped scenarios' tests pass and cover
// every step, branch and re-ask of every shipped scenario.
func TestShippedScenarioTests(t *testing.T) {
	t.Parallel()
	reg := shipped(t)
	paths, err := Files(shippedDir + "/" + TestsDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := ParseFiles(paths, reg)
	if err != nil {
		t.Fatal(err)
	}
	rep := newRunner(t).Run(context.Background(), reg, files, Options{})
	if rep.Failed > 0 || rep.Passed == 0 {
		var out bytes.Buffer
		rep.WriteText(&out, false)
		t.Fatalf("shipped tests:\n%s", out.String())
	}
	if len(rep.Coverage) != len(reg.All()) {
		t.Fatalf("coverage of %d scenarios, want %d", len(rep.Coverage), len(reg.All()))
	}
	for _, c := range rep.Coverage {
		if c.Percent() != 100 || len(c.Gaps) > 0 || c.Steps == 0 || c.Branches == 0 || c.Reasks == 0 {
			t.Errorf("%s: %.1f%% covered (steps %d/%d, branches %d/%d, re-asks %d/%d), gaps %v", c.Scenario, c.Percent(),
				c.StepsReached, c.Steps, c.BranchesTaken, c.Branches, c.ReasksTested, c.Reasks, c.Gaps)
		}
	}
}

// runSource parses src against the shipped scenarios and runs it.
func runSource(t *testing.T, r *Runner, src string, opts Options) *Report {
	t.Helper()
	return r.Run(context.Background(), shipped(t), []*File{parse(t, src)}, opts)
}

// TestFailuresNamePositionAndActual: each kind of failed expectation is
// reported at its value's file:line:col with the case, the step and what
// the bot did instead; the case stops at its first failing step.
func TestFailuresNamePositionAndActual(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	const head = "scenario: portrait\ncases:\n  - name: c\n    steps:\n"
	tests := []struct {
		name, steps string
		want        []string
	}{
		{"bot text", `      - press: "Да, согласен"
        expect: { bot: "Как вас зовут?" }
`, []string{`t.test.yaml:6:24: case "c": step 1: expected bot text containing "Как вас зовут?", got "Как к вам обращаться?"`}},
		{"not_bot", `      - expect: { not_bot: "Согласны" }
`, []string{`t.test.yaml:5:28: case "c": step 1: expected bot text without "Согласны", got "Здравствуйте!`}},
		{"buttons", `      - expect: { buttons: ["Да"] }
`, []string{`t.test.yaml:5:28: case "c": step 1: expected buttons ["Да"], got ["Да, согласен", "Нет"]`}},
		{"no buttons", `      - press: "Да, согласен"
        expect: { buttons: ["Да"] }
`, []string{`t.test.yaml:6:28: case "c": step 1: expected buttons ["Да"], got no buttons`}},
		{"no reply", `      - say: /help
        expect: { no_reply: true }
`, []string{`t.test.yaml:6:29: case "c": step 1: expected no reply, got "Команды:`}},
		{"step and scenario", `      - press: "Да, согласен"
        expect: { scenario: feedback, step: csat }
`, []string{`t.test.yaml:6:29: case "c": step 1: expected scenario "feedback" to run, but it waits at step "name" of "portrait"`,
			`t.test.yaml:6:45: case "c": step 1: expected the conversation to wait at step "csat" of "feedback", but it waits at step "name" of "portrait"`}},
		{"ended", `      - press: "Нет"
        expect: { step: consent, ended: false }
`, []string{`t.test.yaml:6:25: case "c": step 1: expected the conversation to wait at step "consent" of "portrait", but no conversation runs (it ended)`,
			`t.test.yaml:6:41: case "c": step 1: expected a conversation to run, but none does`}},
		{"not ended", `      - expect: { ended: true, handoff: true }
`, []string{`t.test.yaml:5:26: case "c": step 1: expected the conversation to have ended, but it waits at step "consent" of "portrait"`,
			`t.test.yaml:5:41: case "c": step 1: expected the chat to be with a manager, but it is with the bot`}},
		{"fields and tags", `      - press: "Нет"
        expect: { fields: { consent: true, first_name: Анна, attributes.interests: [a] }, tags: [survey], no_tags: [] }
`, []string{`t.test.yaml:6:38: case "c": step 1: expected consent = "true", got "false"`,
			`t.test.yaml:6:56: case "c": step 1: expected first_name = "Анна", got nothing`,
			`t.test.yaml:6:84: case "c": step 1: expected attributes.interests = ["a"], got nothing`,
			`t.test.yaml:6:98: case "c": step 1: expected tag "survey", the client has no tags`}},
		{"a present field expected empty", `      - press: "Да, согласен"
      - say: Анна
        expect: { fields: { first_name: ~ }, no_tags: [] }
      - say: "never run"
        expect: { bot: "x" }
`, []string{`t.test.yaml:7:41: case "c": step 2: expected first_name = nothing, got "Анна"`}},
		{"press a missing button", `      - press: "Может быть"
`, []string{`t.test.yaml:5:16: case "c": step 1: no button "Может быть" to press; the bot offers ["Да, согласен", "Нет"]`}},
		{"press without buttons", `      - press: "Да, согласен"
      - press: "Да, согласен"
`, []string{`t.test.yaml:6:16: case "c": step 2: no button "Да, согласен" to press; the bot offers no buttons`}},
		{"press the contact button", `      - press: "Да, согласен"
      - say: Анна
      - say: "30"
      - say: Самара
      - say: "1"
      - say: "1"
      - press: "📱 Отправить номер"
`, []string{`t.test.yaml:11:16: case "c": step 7: "📱 Отправить номер" is the contact button: share the number with contact: +7…`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := runSource(t, r, head+tt.steps, Options{})
			if rep.Failed != 1 || len(rep.Cases) != 1 {
				t.Fatalf("%d failed of %d", rep.Failed, len(rep.Cases))
			}
			got := rep.Cases[0].Failures
			if len(got) != len(tt.want) {
				t.Fatalf("%d failures, want %d: %v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i].Error(), w) {
					t.Errorf("failure %d:\n got %s\nwant %s…", i, got[i].Error(), w)
				}
			}
		})
	}
}

// TestCasesAreIsolatedAndFiltered: a case does not see what another case's
// client said, and --run picks cases by name.
func TestCasesAreIsolatedAndFiltered(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	src := `scenario: portrait
cases:
  - name: first gives a name
    steps:
      - press: "Да, согласен"
      - say: Анна
        expect: { fields: { first_name: Анна } }
  - name: second knows nothing
    steps:
      - expect: { fields: { first_name: ~, consent: false } }
      - say: /profile
        expect: { bot: "Пока о вас ничего не записано" }
`
	for _, opts := range []Options{{Parallel: 1}, {Parallel: 4}} {
		rep := runSource(t, r, src, opts)
		if rep.Failed != 0 || rep.Passed != 2 {
			t.Errorf("parallel %d: %+v", opts.Parallel, rep.Cases)
		}
	}
	rep := runSource(t, r, src, Options{Filter: regexp.MustCompile("^second")})
	if len(rep.Cases) != 1 || rep.Cases[0].Name != "second knows nothing" || !rep.Cases[0].Passed {
		t.Errorf("filtered: %+v", rep.Cases)
	}
}

// TestFixedClock: a case's now: is the clock of its turns (a date in the
// future of the default clock is in the past of a later one).
func TestFixedClock(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	src := `scenario: profile
now: 2030-06-04T12:00:00+03:00
cases:
  - name: later clock
    steps:
      - press: Дата рождения
      - say: 05.06.2025
        expect: { bot: "Сохранили: 05.06.2025.", fields: { birth_date: 05.06.2025, age: 4 } }
  - name: default clock
    now: 2025-06-04T12:00:00+03:00
    steps:
      - press: Дата рождения
      - say: 05.06.2025
        expect: { bot: "Нужна прошедшая дата", step: birth }
`
	if rep := runSource(t, r, src, Options{}); rep.Failed != 0 {
		t.Errorf("%+v", rep.Cases)
	}
}

// TestOwnScenarios: variables, the default scenario on a new client's
// first message, and a scenario directory of one's own.
func TestOwnScenarios(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "quiz.yaml", `id: quiz
steps:
  color:
    say: "Любимый цвет?"
    choices: [Красный, Синий]
    save: vars.color
    next: size
  size:
    say: "{{ .vars.color }} — а размер?"
    input: number
    save: vars.size
    next: bye
  bye: { say: "Пока", end: true }
`)
	path := writeFile(t, dir, "tests/quiz.test.yaml", `scenario: quiz
cases:
  - name: vars and the default scenario
    begin: false
    profile: { first_name: Ира }
    steps:
      - say: привет
        expect: { bot: "Любимый цвет?", step: color, fields: { first_name: Ира } }
      - press: Синий
        expect: { bot: "Синий — а размер?", fields: { vars.color: Синий, vars.size: ~ } }
      - say: "42"
        expect: { bot: Пока, ended: true, fields: { vars.color: ~ } }
`)
	reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: dir})
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err) // the test file is not taken for a scenario
	}
	files, err := ParseFiles([]string{path}, reg)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := NewRunner(context.Background(), Config{DefaultScenario: "quiz"})
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	rep := runner.Run(context.Background(), reg, files, Options{})
	if rep.Failed != 0 {
		t.Fatalf("%+v", rep.Cases)
	}
	if c := rep.Coverage[0]; c.Percent() == 100 || len(c.Gaps) != 2 {
		t.Errorf("coverage %.1f%%, gaps %v; want the re-asks of color and size untested", c.Percent(), c.Gaps)
	}
}

// TestCoverageGaps: what no case went through is listed at its step's
// position in the scenario file.
func TestCoverageGaps(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	rep := runSource(t, r, `scenario: portrait
cases:
  - name: declines
    steps:
      - press: "Нет"
`, Options{})
	var portrait Coverage
	for _, c := range rep.Coverage {
		if c.Scenario == "portrait" {
			portrait = c
		}
	}
	if portrait.StepsReached != 2 || portrait.BranchesTaken != 1 || portrait.ReasksTested != 0 {
		t.Errorf("coverage = %+v", portrait)
	}
	gaps := make([]string, 0, len(portrait.Gaps))
	for _, g := range portrait.Gaps {
		gaps = append(gaps, g.Error())
	}
	all := strings.Join(gaps, "\n")
	for _, want := range []string{
		`scenarios/portrait.yaml:15:3: step "consent": button "Да, согласен" → name never taken`,
		`scenarios/portrait.yaml:15:3: step "consent": re-ask (a wrong answer) never tested`,
		`scenarios/portrait.yaml:27:3: step "name": never reached`,
		`scenarios/portrait.yaml:37:3: step "age": branch "if answer < 18" → minor never taken`,
		`scenarios/portrait.yaml:37:3: step "age": branch "else" → city never taken`,
		`scenarios/portrait.yaml:37:3: step "age": skip ("Пропустить") never taken`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("gaps lack %q:\n%s", want, all)
		}
	}
}

// TestReportFormats: the text and JSON forms of a report with a failure.
func TestReportFormats(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	rep := runSource(t, r, `scenario: feedback
cases:
  - name: passes
    steps:
      - press: "5"
  - name: fails
    steps:
      - press: "5"
        expect: { bot: "Нам жаль" }
`, Options{})
	var text bytes.Buffer
	rep.WriteText(&text, true)
	for _, want := range []string{
		`t.test.yaml:9:24: case "fails": step 1: expected bot text containing "Нам жаль", got "Насколько вероятно`,
		"coverage: feedback", "steps 2/5", "FAIL: 2 cases, 1 passed, 1 failed",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js, true); err != nil {
		t.Fatal(err)
	}
	var got jsonReport
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, js.String())
	}
	if got.Passed != 1 || got.Failed != 1 || len(got.Cases) != 2 || got.Cases[1].Failures[0].Line != 9 ||
		got.Cases[1].Failures[0].Col != 24 || got.Cases[1].Failures[0].Step != 1 || len(got.Coverage) != 4 {
		t.Errorf("json = %+v", got)
	}
	sums := rep.ByScenario()
	if s := sums["feedback"]; s.Passed != 1 || s.Failed != 1 || s.First == nil || s.First.Case != "fails" {
		t.Errorf("by scenario = %+v", sums)
	}
}
