package scenariotest

import (
	"errors"
	"os"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
)

// FuzzParse: any input parses or yields an ErrorList whose every entry
// names the file and a position; a parsed file's cases have a name, a
// scenario and numbered steps. Nothing panics or hangs.
func FuzzParse(f *testing.F) {
	files, _ := Files(shippedDir + "/" + TestsDir)
	for _, p := range files {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	for _, s := range []string{
		"",
		"cases: []",
		"scenario: portrait\ncases:\n  - name: a\n    steps:\n      - say: x\n        expect: {bot: y, fields: {age: 1}}\n",
		"x-a: &a [{say: x}]\nscenario: feedback\ncases: [{name: n, steps: [*a, [*a, *a]]}]\n",
		"x-m: &m {step: csat}\nscenario: feedback\ncases: [{name: n, steps: [{expect: {<<: *m, <<: [*m]}}]}]\n",
		"a: &a [*a]\ncases: *a\n",
		"cases:\n- name: a\n  steps:\n  - press: [1]\n    expect: {fields: {vars.: 1, attributes.: 2}}\n",
		"scenario: profile\ncases: [{name: x, now: 2025-01-01T00:00:00Z, profile: {first_name: А}, steps: [{contact: '+7'}]}]\n---\n",
	} {
		f.Add([]byte(s))
	}
	reg := shipped(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("f.test.yaml", src, reg)
		if err != nil {
			var list scenario.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T), want a non-empty scenario.ErrorList", err, err)
			}
			for _, e := range list {
				if e.File != "f.test.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Fatalf("bad error %+v", e)
				}
			}
			return
		}
		if len(file.Cases) == 0 {
			t.Fatal("a parsed file without cases")
		}
		for _, c := range file.Cases {
			if c.Name == "" || c.Scenario == "" || len(c.Steps) == 0 {
				t.Fatalf("bad case %+v", c)
			}
			if _, ok := reg.Get(c.Scenario); !ok {
				t.Fatalf("case %q of unknown scenario %q", c.Name, c.Scenario)
			}
			for i, s := range c.Steps {
				if s.N != i+1 || (s.Action == ActionNone && len(s.Checks) == 0) {
					t.Fatalf("bad step %d %+v", i, s)
				}
			}
		}
	})
}
