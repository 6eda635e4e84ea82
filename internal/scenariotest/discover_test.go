package scenariotest

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDiscover: a directory's own test files and those of its tests/; a
// file in tests/ tests the scenarios above it, another those beside it.
func TestDiscover(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	a := filepath.Join(root, "a")
	b := filepath.Join(root, "b")
	inTests := writeFile(t, a, "tests/x.test.yaml", "")
	inTests2 := writeFile(t, a, "tests/y.test.yaml", "")
	writeFile(t, a, "tests/notes.yaml", "")
	writeFile(t, a, "tests/.hidden.test.yaml", "")
	beside := writeFile(t, b, "z.test.yaml", "")

	tests := []struct {
		name  string
		paths []string
		want  []Suite
	}{
		{"scenario dir", []string{a}, []Suite{{ScenariosDir: a, Files: []string{inTests, inTests2}}}},
		{"tests dir", []string{filepath.Join(a, "tests")}, []Suite{{ScenariosDir: a, Files: []string{inTests, inTests2}}}},
		{"a file in tests", []string{inTests2}, []Suite{{ScenariosDir: a, Files: []string{inTests2}}}},
		{"a file beside the scenarios", []string{beside}, []Suite{{ScenariosDir: b, Files: []string{beside}}}},
		{"two dirs, a file twice", []string{b, a, inTests}, []Suite{
			{ScenariosDir: b, Files: []string{beside}},
			{ScenariosDir: a, Files: []string{inTests, inTests2}},
		}},
	}
	for _, tt := range tests {
		got, err := Discover(tt.paths)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Discover(%v) = %+v, %v; want %+v", tt.name, tt.paths, got, err, tt.want)
		}
	}

	for path, want := range map[string]string{
		filepath.Join(root, "none"):             "no such file",
		filepath.Join(a, "tests", "notes.yaml"): "is not a test file (*.test.yaml)",
		root:                                    "no test files (*.test.yaml) in " + root,
	} {
		if _, err := Discover([]string{path}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Discover(%s) = %v, want an error with %q", path, err, want)
		}
	}
}
