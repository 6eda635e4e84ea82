package scenario

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/segment"
)

// TestSourceNamesAgreeWithLoader checks that reading a stored source
// without compiling it gives the names the compiled graph has, for every
// shipped and testdata scenario.
func TestSourceNamesAgreeWithLoader(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pattern := range []string{"../../scenarios/*.yaml", "testdata/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 4 {
		t.Fatalf("found %d scenarios", len(files))
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Load(file, src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SourceNames(src)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if want := g.SegmentNames(); !equalNames(got, want) {
			t.Errorf("%s: SourceNames = %+v\nSegmentNames = %+v", file, got, want)
		}
	}
}

func equalNames(a, b segment.ScenarioNames) bool {
	return slices.Equal(a.Steps, b.Steps) && slices.Equal(a.EndSteps, b.EndSteps) && slices.Equal(a.Fields, b.Fields)
}

// TestSourceNames reads sources the loader would refuse today, with
// anchors and merge keys.
func TestSourceNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      segment.ScenarioNames
		err       bool
	}{
		{"anchors and merge keys", "id: x\nx-end: &end {end: true, save: attributes.last}\nsteps:\n  a: {say: x, save: ' city ', next: b}\n  b: {<<: *end, say: y}\n  c: *end\n",
			segment.ScenarioNames{Steps: []string{"a", "b", "c"}, EndSteps: []string{"b", "c"}, Fields: []string{"attributes.last", "city"}}, false},
		{"odd values are skipped", "steps:\n  a: {end: 'yes', save: [x]}\n  b:\n", segment.ScenarioNames{Steps: []string{"a", "b"}}, false},
		{"no steps", "id: x\n", segment.ScenarioNames{}, false},
		{"steps not a mapping", "steps: [a, b]\n", segment.ScenarioNames{}, true},
	}
	for _, tt := range tests {
		got, err := SourceNames([]byte(tt.src))
		if (err != nil) != tt.err || !equalNames(got, tt.want) {
			t.Errorf("%s: SourceNames = %+v, %v; want %+v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// TestRegistryScenarioNames checks that the registry knows every version
// it has loaded, not only the current one.
func TestRegistryScenarioNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "survey.yaml")
	v1 := "id: survey\nsteps:\n  town: {say: \"Город?\", input: text, validate: {max_len: 60}, save: city, next: bye}\n  bye: {say: Пока, end: true}\n"
	v2 := strings.NewReplacer("town", "city_step", "bye", "thanks").Replace(v1)
	reg := NewRegistry(RegistryConfig{Dir: dir})
	ctx := context.Background()
	for _, src := range []string{v1, v2} {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := reg.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var sc segment.Scenarios = reg
	got, found, err := sc.ScenarioNames(ctx, "survey")
	want := segment.ScenarioNames{Steps: []string{"bye", "city_step", "thanks", "town"}, EndSteps: []string{"bye", "thanks"}, Fields: []string{"city"}}
	if err != nil || !found || !equalNames(got, want) {
		t.Errorf("ScenarioNames = %+v, %v, %v; want %+v", got, found, err, want)
	}
	if _, found, _ := sc.ScenarioNames(ctx, "other"); found {
		t.Error("an unknown scenario is found")
	}
	if ids, err := sc.ScenarioIDs(ctx); err != nil || !slices.Equal(ids, []string{"survey"}) {
		t.Errorf("ScenarioIDs = %v, %v", ids, err)
	}
}
