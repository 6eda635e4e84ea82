package scenariotest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
)

// shippedDir is the directory of the shipped scenarios and their tests.
const shippedDir = "../../scenarios"

var (
	shippedOnce sync.Once
	shippedReg  *scenario.Registry
	shippedErr  error
)

// shipped is a registry of the shipped scenarios (loaded once, read-only).
func shipped(t testing.TB) *scenario.Registry {
	t.Helper()
	shippedOnce.Do(func() {
		shippedReg = scenario.NewRegistry(scenario.RegistryConfig{Dir: shippedDir})
		shippedErr = shippedReg.Load(context.Background())
	})
	if shippedErr != nil {
		t.Fatalf("load the shipped scenarios: %v", shippedErr)
	}
	return shippedReg
}

// newRunner opens a Runner closed at the test's end.
func newRunner(t testing.TB) *Runner {
	t.Helper()
	r, err := NewRunner(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close the runner: %v", err)
		}
	})
	return r
}

// parse parses src as "t.test.yaml" against the shipped scenarios.
func parse(t testing.TB, src string) *File {
	t.Helper()
	f, err := Parse("t.test.yaml", []byte(src), shipped(t))
	if err != nil {
		t.Fatalf("parse:\n%v\nsource:\n%s", err, src)
	}
	return f
}

// writeFile writes src to dir/name (making the directories) and returns
// its path.
func writeFile(t testing.TB, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
