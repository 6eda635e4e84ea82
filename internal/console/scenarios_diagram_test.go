package console

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
)

func shippedScenarios(t *testing.T) []*scenario.Graph {
	t.Helper()
	gs, err := scenario.LoadDir(filepath.Join("..", "..", "scenarios"))
	if err != nil {
		t.Fatalf("load shipped scenarios: %v", err)
	}
	if len(gs) < 4 {
		t.Fatalf("only %d shipped scenarios", len(gs))
	}
	return gs
}

func plainLabel(t transition) string { return t.Label }

// TestLayoutDiagramShipped lays out every shipped scenario: every step has
// a box inside the picture, no two boxes overlap, every transition has an
// arrow between its two boxes carrying its label, and edges up stay right
// of every box.
func TestLayoutDiagramShipped(t *testing.T) {
	t.Parallel()
	for _, g := range shippedScenarios(t) {
		t.Run(g.ID, func(t *testing.T) {
			t.Parallel()
			d := layoutDiagram(g, plainLabel)
			if len(d.Boxes) != len(g.Steps) {
				t.Fatalf("%d boxes for %d steps", len(d.Boxes), len(g.Steps))
			}
			boxes := map[string]diagramBox{}
			for _, b := range d.Boxes {
				boxes[b.ID] = b
				if b.X < 0 || b.Y < 0 || b.X+b.W > d.Width || b.Y+b.H > d.Height {
					t.Errorf("box %s (%d,%d %dx%d) outside %dx%d", b.ID, b.X, b.Y, b.W, b.H, d.Width, d.Height)
				}
				if b.Start != (b.ID == g.Start) || b.End != g.Steps[b.ID].End {
					t.Errorf("box %s: start=%v end=%v", b.ID, b.Start, b.End)
				}
			}
			for i, a := range d.Boxes {
				for _, b := range d.Boxes[i+1:] {
					if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
						t.Errorf("boxes %s and %s overlap", a.ID, b.ID)
					}
				}
			}
			edges := map[[2]string]diagramEdge{}
			for _, e := range d.Edges {
				edges[[2]string{e.From, e.To}] = e
				if !strings.HasPrefix(e.Path, "M") {
					t.Errorf("edge %s→%s has no path", e.From, e.To)
				}
			}
			ts := transitions(g)
			if len(ts) == 0 {
				t.Fatal("no transitions")
			}
			for _, tr := range ts {
				e, ok := edges[[2]string{tr.From, tr.To}]
				if !ok {
					t.Errorf("transition %s→%s (%s) not drawn", tr.From, tr.To, tr.Label)
					continue
				}
				if tr.Label != "" && !contains(e.Labels, tr.Label) {
					t.Errorf("edge %s→%s labels %q lack %q", tr.From, tr.To, e.Labels, tr.Label)
				}
				if e.Up != (boxes[tr.To].Layer <= boxes[tr.From].Layer) {
					t.Errorf("edge %s→%s up=%v", tr.From, tr.To, e.Up)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestTransitionsPortrait(t *testing.T) {
	t.Parallel()
	src := `id: p
steps:
  consent:
    say: "Согласны?"
    buttons:
      - { text: "Да", value: yes, next: age }
      - { text: "Нет", value: no, next: bye }
  age:
    say: "Сколько лет?"
    input: number
    skip: true
    next:
      - { if: "answer < 18", goto: bye }
      - { goto: consent }
  bye: { say: "Пока", end: true }
`
	g, err := scenario.Load("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := transitions(g)
	want := []transition{
		{"consent", "age", "Да", transitionButton},
		{"consent", "bye", "Нет", transitionButton},
		{"age", "bye", "answer < 18", transitionIf},
		{"age", "consent", "", transitionElse},
		{"age", "consent", "Пропустить", transitionSkipped},
	}
	if len(got) != len(want) {
		t.Fatalf("transitions = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("transition %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	d := layoutDiagram(g, plainLabel)
	for _, e := range d.Edges {
		if e.From == "age" && e.To == "consent" && !e.Up {
			t.Errorf("the way back to consent is not drawn up")
		}
	}
}

func TestWrapText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Как дела?", []string{"Как дела?"}},
		{"один два три четыре пять шесть", []string{"один два", "три четыре", "пять шесть"}},
		{"один два три четыре пять шесть семь восемь", []string{"один два", "три четыре", "пять шесть…"}},
	}
	for _, tt := range tests {
		got := wrapText(tt.in, 11, 3)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrapText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
