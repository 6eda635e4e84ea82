package cli

import (
	"maps"
	"path/filepath"
	"regexp"
	"testing"
)

// TestSegmentScenarioNames checks that the CLI checks the names
// completed(...) and answered(...) use against SCENARIOS_DIR, even on a
// database no scenario has run on yet, and that long or-chains compile.
func TestSegmentScenarioNames(t *testing.T) {
	t.Parallel()
	env := personaDB(t)
	withDir := maps.Clone(env)
	withDir["SCENARIOS_DIR"] = filepath.Join("..", "..", "scenarios")
	chain := `city == "a"`
	for range 40 {
		chain += ` or city == "a"`
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		stdoutRE string
		stderrRE string
	}{
		{"misspelt scenario", withDir, []string{"segment", "count", `completed("portrat")`}, 1, `^$`,
			`^segment:1:11: unknown scenario "portrat" \(did you mean "portrait"\?\)\n  completed\("portrat"\)\n {12}\^\n$`},
		{"misspelt step", withDir, []string{"segment", "count", `answered("portrait","cty")`}, 1, `^$`,
			`^segment:1:21: unknown step or field "cty" in scenario "portrait" \(did you mean "city"\?\)`},
		{"saving checks too", withDir, []string{"segment", "save", "typo", `completed("feedbak")`}, 1, `^$`,
			`^segment:1:11: unknown scenario "feedbak" \(did you mean "feedback"\?\)`},
		{"known names", withDir, []string{"segment", "count", `completed("portrait", "thanks") or answered("feedback", "csat")`}, 0, `^2\n$`, `^$`},
		{"no scenarios known", env, []string{"segment", "count", `completed("portrat")`}, 0, `^0\n$`, `^$`},
		{"broadcast create checks too", withDir, []string{"broadcast", "create", "--name", "Тест", "--segment", `subscribed and completed("portrat")`, "--text", "x"}, 1, `^$`,
			`unknown scenario "portrat" \(did you mean "portrait"\?\)`},
		{"41 or terms", withDir, []string{"segment", "count", chain}, 0, `^0\n$`, `^$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, tt.env, "", tt.args...)
			if code != tt.code || !regexp.MustCompile(tt.stdoutRE).MatchString(out) || !regexp.MustCompile(tt.stderrRE).MatchString(errOut) {
				t.Fatalf("exit %d (want %d)\nstdout %q\nstderr %q", code, tt.code, out, errOut)
			}
		})
	}
}
