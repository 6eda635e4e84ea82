package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/segment"
)

// fakeLoaded is a scenario loaded now but not stored (a hand-written
// segment.Scenarios).
type fakeLoaded map[string]segment.ScenarioNames

func (f fakeLoaded) ScenarioNames(_ context.Context, id string) (segment.ScenarioNames, bool, error) {
	n, ok := f[id]
	return n, ok, nil
}

func (f fakeLoaded) ScenarioIDs(context.Context) ([]string, error) {
	var ids []string
	for id := range f {
		ids = append(ids, id)
	}
	return ids, nil
}

// TestSegmentScenarioNames checks that segments compiled and saved through
// the store check completed(...) and answered(...) against every stored
// version of a scenario (a step only an older version had counts) and the
// scenarios loaded now, on both databases (on SQLite, inside SaveSegment's
// transaction, over its one connection).
func TestSegmentScenarioNames(t *testing.T) {
	t.Parallel()
	portrait, err := os.ReadFile("../../../scenarios/portrait.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// An older version of portrait asked for the town and ended at "bye".
	older := strings.Replace(strings.Replace(string(portrait), "  city:", "  town:", 1), "  thanks:", "  bye:", 1)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			// A database no scenario has run on checks nothing.
			if _, err := s.CompileSegment(ctx, `completed("portrat")`); err != nil {
				t.Fatalf("empty catalogue: %v", err)
			}
			for v, src := range map[string]string{"v1": older, "v2": string(portrait)} {
				if err := s.SaveVersion(ctx, "portrait", v, "portrait.yaml", []byte(src)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SaveVersion(ctx, "broken", "v1", "broken.yaml", []byte("steps: [not, a, mapping]")); err != nil {
				t.Fatal(err)
			}
			s.UseScenarios(fakeLoaded{"fresh": {Steps: []string{"q"}, EndSteps: []string{"q"}}})
			tests := []struct{ src, want string }{
				{`completed("portrait", "thanks") or completed("portrait", "bye")`, ""},
				{`answered("portrait", "town") or answered("portrait", "city") or answered("portrait", "interests")`, ""},
				{`completed("fresh", "q")`, ""},
				{`completed("broken")`, ""},
				{`completed("portrat")`, `segment:1:11: unknown scenario "portrat" (did you mean "portrait"?)`},
				{`answered("portrait","cty")`, `segment:1:21: unknown step or field "cty" in scenario "portrait" (did you mean "city"?)`},
				{`completed("frsh")`, `segment:1:11: unknown scenario "frsh" (did you mean "fresh"?)`},
			}
			for _, tt := range tests {
				_, err := s.CompileSegment(ctx, tt.src)
				if tt.want == "" {
					if err != nil {
						t.Errorf("CompileSegment(%s): %v", tt.src, err)
					}
					continue
				}
				if err == nil || err.Error() != tt.want || !errors.Is(err, segment.ErrUnknownScenario) {
					t.Errorf("CompileSegment(%s) = %v\nwant %s", tt.src, err, tt.want)
				}
				_, err = s.SaveSegment(ctx, segment.Definition{Name: "typo", Expression: tt.src})
				if err == nil || err.Error() != tt.want {
					t.Errorf("SaveSegment(%s) = %v\nwant %s", tt.src, err, tt.want)
				}
			}
			if _, err := s.SaveSegment(ctx, segment.Definition{Name: "done", Expression: `completed("portrait", "bye")`}); err != nil {
				t.Errorf("SaveSegment: %v", err)
			}
		})
	}
}
