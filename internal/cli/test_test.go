package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScenarioTestCommand: `chathub test` runs the shipped tests (the
// default SCENARIOS_DIR too), prints failures as file:line:col with exit
// 1, test file errors the same way, picks cases with --run, prints
// coverage and JSON, and refuses a wrong command line with exit 2.
func TestScenarioTestCommand(t *testing.T) {
	t.Parallel()
	shipped := repoPath(t, "scenarios")
	dir := t.TempDir()
	for _, f := range []string{"portrait.yaml", "feedback.yaml"} {
		src, err := os.ReadFile(filepath.Join(shipped, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	failing := filepath.Join(dir, "tests", "feedback.test.yaml")
	if err := os.WriteFile(failing, []byte(`scenario: feedback
cases:
  - name: passes
    steps:
      - press: "5"
        expect: { step: nps }
  - name: fails
    steps:
      - press: "5"
        expect: { bot: "Нам жаль" }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "tests", "x.test.yaml")
	if err := os.MkdirAll(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("cases: [{name: a, scenario: portrait, steps: [{sya: x}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stdoutRE string
		stderrRE string
	}{
		{"shipped", []string{"test", shipped}, 0, `(?m)^PASS: \d+ cases, \d+ passed, 0 failed`, ""},
		{"default dir", []string{"test", "--coverage"}, 0, `(?m)^coverage: portrait\s+100\.0%.*\n(.|\n)*^PASS:`, ""},
		{"a failure", []string{"test", dir}, 1,
			`(?m)^` + regexp.QuoteMeta(failing) + `:10:24: case "fails": step 1: expected bot text containing "Нам жаль", got "Насколько вероятно.*\n^FAIL: 2 cases, 1 passed, 1 failed`, ""},
		{"--run after the path", []string{"test", dir, "--run", "^pass"}, 0, `(?m)^PASS: 1 cases, 1 passed`, ""},
		{"a test file's errors", []string{"test", broken}, 1, "",
			`(?m)^.*x\.test\.yaml:1:29: unknown scenario "portrait" in scenario: in case "a": no scenarios are loaded \(.*\n.*x\.test\.yaml:1:48: unknown key "sya" in step 1 of case "a"; did you mean "say"\?`},
		{"scenarios elsewhere", []string{"test", "--scenarios", dir, broken}, 1, "", `x\.test\.yaml:1:48: unknown key "sya"`},
		{"no test files", []string{"test", t.TempDir()}, 1, "", `no test files \(\*\.test\.yaml\)`},
		{"bad regexp", []string{"test", "--run", "(", shipped}, 2, "", `--run: error parsing regexp`},
		{"bad format", []string{"test", "--format", "xml", shipped}, 2, "", `--format must be text or json`},
		{"bad flag", []string{"test", "--fast"}, 2, "", `flag provided but not defined: -fast`},
		{"help", []string{"test", "-h"}, 0, `-coverage`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, map[string]string{"SCENARIOS_DIR": shipped}, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if tt.stdoutRE != "" && !regexp.MustCompile(tt.stdoutRE).MatchString(out) {
				t.Errorf("stdout does not match %s:\n%s", tt.stdoutRE, out)
			}
			if tt.stderrRE != "" && !regexp.MustCompile(tt.stderrRE).MatchString(errOut) {
				t.Errorf("stderr does not match %s:\n%s", tt.stderrRE, errOut)
			}
		})
	}

	code, out, errOut := runMain(t, nil, "", "test", "--format", "json", "--coverage", dir)
	var rep struct {
		Passed, Failed int
		Cases          []struct {
			Name     string
			Failures []struct {
				Line, Col, Step int
				Text            string
			}
		}
		Coverage []struct{ Scenario string }
	}
	if code != 1 || json.Unmarshal([]byte(out), &rep) != nil || rep.Passed != 1 || rep.Failed != 1 ||
		len(rep.Cases) != 2 || rep.Cases[1].Failures[0].Line != 10 || rep.Cases[1].Failures[0].Col != 24 ||
		!strings.HasPrefix(rep.Cases[1].Failures[0].Text, failing+":10:24:") || len(rep.Coverage) != 2 {
		t.Errorf("json: exit %d %+v\n%s%s", code, rep, out, errOut)
	}
}
