package scenario

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// dump renders a graph in a stable, human-readable form.
func dump(g *Graph) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("scenario %s %q version=%s", g.ID, g.Title, g.Version)
	if g.Description != "" {
		w("description %q", g.Description)
	}
	w("triggers commands=%q keywords=%q payloads=%q", g.Triggers.Commands, g.Triggers.Keywords, g.Triggers.Payloads)
	w("start %s skip_word=%q", g.Start, g.SkipWord)
	keys := make([]string, 0, len(g.Vars))
	for k := range g.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w("var %s = %#v", k, g.Vars[k])
	}
	for _, id := range g.Order {
		dumpStep(w, g.Steps[id])
	}
	return b.String()
}

func dumpStep(w func(string, ...any), s *Step) {
	w("")
	w("step %s @%d:%d input=%s", s.ID, s.Pos.Line, s.Pos.Col, s.Input)
	if s.Say != nil {
		w("  say %q static=%v", s.Say.Raw, s.Say.Static())
	}
	for _, o := range s.Options {
		w("  option %q value=%q next=%q tags=%q untags=%q", o.Text, o.Value, o.Next, o.Tags, o.Untags)
	}
	if s.Multiple {
		w("  multiple done=%q", s.DoneText)
	}
	if s.FreeText {
		w("  free_text")
	}
	if v := dumpValidation(s); v != "" {
		w("  validate%s", v)
	}
	if s.ErrorText != nil {
		w("  error %q", s.ErrorText.Raw)
	}
	switch s.Save.Kind {
	case SaveNone:
	case SaveField:
		w("  save field %s (%s)", s.Save.Name, s.Save.Field.Type)
	default:
		w("  save %s %s", [...]string{"", "", "attribute", "consent", "var"}[s.Save.Kind], s.Save.Name)
	}
	if len(s.Tags)+len(s.Untags) > 0 {
		w("  tags=%q untags=%q", s.Tags, s.Untags)
	}
	for _, br := range s.Next {
		w("  next if=%q goto=%s compiled=%v", br.Source, br.Goto, br.Cond != nil)
	}
	if r := s.Remind; r != nil {
		w("  remind after=%s times=%d text=%q", r.After, r.Times, r.Text.Raw)
	}
	if s.End || s.Handoff || s.Skip {
		w("  end=%v handoff=%v reason=%q skip=%v", s.End, s.Handoff, s.HandoffReason, s.Skip)
	}
}

func dumpValidation(s *Step) string {
	v := s.Validate
	var parts []string
	if v.Min != nil {
		parts = append(parts, fmt.Sprintf("min=%v", *v.Min))
	}
	if v.Max != nil {
		parts = append(parts, fmt.Sprintf("max=%v", *v.Max))
	}
	if v.Integer {
		parts = append(parts, "integer")
	}
	if v.MinLen != 0 || v.MaxLen != 0 {
		parts = append(parts, fmt.Sprintf("len=%d..%d", v.MinLen, v.MaxLen))
	}
	if v.Regex != nil {
		parts = append(parts, fmt.Sprintf("regex=%q", v.Regex.String()))
	}
	parts = append(parts, dumpDate("min_date", v.MinDate), dumpDate("max_date", v.MaxDate))
	out := ""
	for _, p := range parts {
		if p != "" {
			out += " " + p
		}
	}
	return out
}

func dumpDate(name string, d DateBound) string {
	switch {
	case !d.Set:
		return ""
	case d.Today:
		return name + "=today"
	}
	return name + "=" + d.Date.Format("2006-01-02")
}

func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Load(filepath.Base(file), src)
			if err != nil {
				t.Fatalf("load:\n%v", err)
			}
			got := dump(g)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/scenario -update)", err)
			}
			if got != string(want) {
				t.Errorf("dump differs from %s (run with -update if intended):\n%s", golden, got)
			}
		})
	}
}

func TestLoadDirTestdata(t *testing.T) {
	t.Parallel()
	graphs, err := LoadDir("testdata")
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	var ids []string
	for _, g := range graphs {
		ids = append(ids, g.ID)
	}
	if got := strings.Join(ids, ","); got != "b2b,feedback,portrait" {
		t.Errorf("ids = %s", got)
	}
}
