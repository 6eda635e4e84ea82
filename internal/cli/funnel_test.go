package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/funnel"
)

// fakeFunnel returns a fixed report.
type fakeFunnel struct{ r *funnel.Report }

func (f fakeFunnel) Funnel(_ context.Context, q funnel.Query) (*funnel.Report, error) {
	r := *f.r
	r.Query = q
	return &r, nil
}

func TestFunnelFormats(t *testing.T) {
	t.Parallel()
	rep := &funnel.Report{Scenario: "portrait", Steps: []funnel.Step{
		{ID: "hello", Entered: 4, Answered: 4, OfStart: 100, OfPrevious: 100},
		{ID: "city", Question: true, Entered: 3, Answered: 2, OfStart: 75, OfPrevious: 75, Stuck: 1,
			MedianAnswer: 90 * time.Second, Reminded: 1, CameBack: 1},
		{ID: "old", Question: true, Removed: true, OfStart: 0, OfPrevious: -1},
	}}
	tests := []struct {
		format string
		want   []string
	}{
		{"table", []string{"Funnel of portrait: unique conversations", "STEP", "hello", "-", "city", "75.0%", "1m30s", "old (removed)"}},
		{"csv", []string{"step,question,entered,answered,percent_of_start,percent_of_previous,stuck,dropped,median_answer_seconds,reminded,came_back,removed\n",
			"\nhello,false,4,4,100,100,0,0,,0,0,false\n", "\ncity,true,3,2,75,75,1,0,90,1,1,false\n", "\nold,true,0,0,0,,0,0,,0,0,true\n"}},
		{"json", []string{`"counts": "unique conversations"`, `"median_answer_seconds": 90`, `"percent_of_previous": null`, `"removed": true`, `"removed": false`}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			var out, errs bytes.Buffer
			env := &Env{Stdout: &out, Stderr: &errs}
			if code := printFunnel(context.Background(), env, fakeFunnel{rep}, funnel.Query{Scenario: "portrait"}, funnelWriters[tt.format]); code != 0 {
				t.Fatalf("exit %d: %s", code, errs.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestFunnelCommand runs chathub funnel on a new SQLite database with the
// shipped scenarios: every step listed, nothing counted yet; a mistyped
// scenario is named with a suggestion.
func TestFunnelCommand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "crm.db"), "SCENARIOS_DIR": repoPath(t, "scenarios")}
	code, out, errs := runMain(t, env, "", "funnel", "portrait", "--since", "all", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got funnel.Export
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Scenario != "portrait" || len(got.Steps) < 3 || got.Steps[0].Entered != 0 || got.Counts != "unique conversations" {
		t.Fatalf("report = %+v", got)
	}
	if got.Bot != "" || len(got.Bots) != 1 || got.Bots[0] != "" {
		t.Errorf("bot %q of %q; want the bot of the environment variables", got.Bot, got.Bots)
	}
	code, _, errs = runMain(t, env, "", "funnel", "portrat")
	if code != 1 || !strings.Contains(errs, `unknown scenario "portrat" (did you mean "portrait"?)`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runMain(t, env, "", "funnel", "portrait", "--bot", "shop")
	if code != 1 || !strings.Contains(errs, `unknown scenario "portrait" in bot "shop"`) {
		t.Fatalf("--bot shop: exit %d, stderr %q", code, errs)
	}
}

func TestFunnelUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no scenario", []string{"funnel"}, "name one scenario"},
		{"two scenarios", []string{"funnel", "a", "b"}, "name one scenario"},
		{"bad since", []string{"funnel", "portrait", "--since", "week"}, "--since: a period is a number and a unit"},
		{"bad platform", []string{"funnel", "portrait", "--platform", "icq"}, `unknown platform "icq"`},
		{"bad format", []string{"funnel", "portrait", "--format", "xml"}, `unknown format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runMain(t, nil, "", tt.args...)
			if code != 2 || out != "" || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, tt.stderr)
			}
		})
	}
}
