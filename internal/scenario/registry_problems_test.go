package scenario

import (
	"os"
	"strings"
	"testing"
)

func TestRegistryProblems(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{
		"p.yaml": scenarioSrc("portrait", "start", "Привет"),
		"f.yaml": scenarioSrc("feedback", "feedback", "Оцените нас"),
	})
	f.start(t)
	if got := f.reg.Problems(); len(got) != 0 {
		t.Fatalf("Problems after a clean load = %+v, want none", got)
	}
	good := f.version("portrait")

	// A broken edit is reported as file:line:col with the kept version.
	writeFile(t, f.path("p.yaml"), "id: portrait\nsteps:\n  hello: { sya: x, end: true }\n")
	// A new file that never loaded has no kept version.
	writeFile(t, f.path("n.yaml"), "id: new\nsteps: [\n")
	eventually(t, "both problems", func() bool { return len(f.reg.Problems()) == 2 })
	probs := f.reg.Problems()
	if probs[0].File != f.path("n.yaml") || probs[1].File != f.path("p.yaml") {
		t.Fatalf("problem files = %s, %s; want sorted n.yaml, p.yaml", probs[0].File, probs[1].File)
	}
	if probs[0].Kept != nil {
		t.Errorf("a file that never loaded keeps %v", probs[0].Kept.ID)
	}
	if probs[1].Kept == nil || probs[1].Kept.Version != good {
		t.Errorf("kept = %+v, want version %s", probs[1].Kept, good)
	}
	wantPrefix := f.path("p.yaml") + ":3:12: unknown key \"sya\""
	if len(probs[1].Errors) == 0 || !strings.HasPrefix(probs[1].Errors[0], wantPrefix) {
		t.Errorf("errors = %q, want one starting %q", probs[1].Errors, wantPrefix)
	}
	if len(probs[0].Errors) == 0 || !strings.HasPrefix(probs[0].Errors[0], f.path("n.yaml")+":") {
		t.Errorf("syntax errors = %q", probs[0].Errors)
	}
	if got := f.version("portrait"); got != good {
		t.Errorf("running version = %s, want the last good %s", got, good)
	}

	// Fixing one and removing the other clears both.
	writeFile(t, f.path("p.yaml"), scenarioSrc("portrait", "start", "Снова"))
	if err := os.Remove(f.path("n.yaml")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "problems to clear", func() bool { return len(f.reg.Problems()) == 0 })
}
