package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/scenariotest"
)

// TestBotTests: Сценарии's test results run once per change of the test
// files (or of the scenarios), show a failure's position, a broken test
// file's errors, and nothing for a bot without tests.
func TestBotTests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := os.ReadFile("../../scenarios/feedback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "feedback.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: dir})
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := &botTests{dir: dir, reg: reg, cfg: scenariotest.Config{}, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if _, ok := b.results(ctx); ok {
		t.Fatal("results without test files")
	}
	testFile := filepath.Join(dir, "tests", "feedback.test.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(testFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(testFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("scenario: feedback\ncases:\n  - name: ok\n    steps:\n      - press: \"5\"\n        expect: { step: nps }\n")
	first, ok := b.results(ctx)
	if !ok || first.Scenarios["feedback"].Passed != 1 || first.Scenarios["feedback"].Failed != 0 || len(first.Problems) > 0 || first.At.IsZero() {
		t.Fatalf("first run = %+v, %v", first, ok)
	}
	if again, _ := b.results(ctx); !again.At.Equal(first.At) {
		t.Errorf("the tests ran again without a change")
	}

	write("scenario: feedback\ncases:\n  - name: fails\n    steps:\n      - press: \"5\"\n        expect: { step: csat_why }\n")
	failed, _ := b.results(ctx)
	r := failed.Scenarios["feedback"]
	if failed.At.Equal(first.At) || r.Failed != 1 || !strings.HasPrefix(r.First, testFile+`:6:25: case "fails": step 1: expected the conversation to wait at step "csat_why"`) {
		t.Errorf("after a change = %+v", failed)
	}

	write("scenario: feedbak\ncases: []\n")
	broken, _ := b.results(ctx)
	if len(broken.Problems) != 2 || !strings.Contains(broken.Problems[0], testFile+`:1:11: unknown scenario "feedbak"`) || broken.Scenarios != nil {
		t.Errorf("a broken test file = %+v", broken)
	}
}

// TestFingerprint: a new scenario version or a changed test file changes
// the fingerprint; nothing else does.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "a.test.yaml")
	if err := os.WriteFile(f, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &scenario.Graph{ID: "a", Version: "1"}
	k1, err := fingerprint([]*scenario.Graph{g}, []string{f})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := fingerprint([]*scenario.Graph{g}, []string{f}); k != k1 {
		t.Error("the same input gives another fingerprint")
	}
	if k, _ := fingerprint([]*scenario.Graph{{ID: "a", Version: "2"}}, []string{f}); k == k1 {
		t.Error("a new scenario version keeps the fingerprint")
	}
	if err := os.WriteFile(f, []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if k, _ := fingerprint([]*scenario.Graph{g}, []string{f}); k == k1 {
		t.Error("a changed test file keeps the fingerprint")
	}
	if _, err := fingerprint(nil, []string{f + ".gone"}); err == nil {
		t.Error("a missing file gives no error")
	}
}
