package dialog

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/scenario"
)

// FuzzNormalize: the answer parsers never panic, and what they accept is
// already normal (normalising it again changes nothing).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+7 912 345-67-89", "8 (912) 345-67-89", "Anna@Example.RU", "15.04.1990",
		"1990-04-15", "36,6", "1 500", "", "😀", "'; DROP TABLE x;--", "+", "@", "31.02.1990", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, ok := NormalizePhone(s); ok {
			if again, ok2 := NormalizePhone(p); !ok2 || again != p || !strings.HasPrefix(p, "+") || len(p) > 16 {
				t.Fatalf("phone %q → %q → %q, %v", s, p, again, ok2)
			}
		}
		if e, ok := NormalizeEmail(s); ok {
			if again, ok2 := NormalizeEmail(e); !ok2 || again != e || e != strings.ToLower(e) {
				t.Fatalf("email %q → %q → %q, %v", s, e, again, ok2)
			}
		}
		if d, ok := ParseDate(s); ok {
			if again, ok2 := ParseDate(d.Format("02.01.2006")); !ok2 || !again.Equal(d) {
				t.Fatalf("date %q → %v → %v, %v", s, d, again, ok2)
			}
		}
		if n, ok := ParseNumber(s); ok {
			if again, ok2 := ParseNumber(formatNumber(n)); !ok2 || again != n {
				t.Fatalf("number %q → %v → %v, %v", s, n, again, ok2)
			}
		}
		clean, n := CleanText(s)
		if n != utf8.RuneCountInString(clean) || !utf8.ValidString(clean) && utf8.ValidString(s) {
			t.Fatalf("clean %q → %q (%d)", s, clean, n)
		}
	})
}

// FuzzEngineAnswer: any text or button value at any step of the test and
// shipped scenarios is answered (accepted or re-asked) without a panic.
func FuzzEngineAnswer(f *testing.F) {
	files := []string{"testdata/kinds.yaml", "../../scenarios/portrait.yaml", "../../scenarios/b2b.yaml",
		"../../scenarios/feedback.yaml", "../../scenarios/profile.yaml"}
	var graphs []*scenario.Graph
	for _, file := range files {
		graphs = append(graphs, loadGraph(f, file))
	}
	e := NewEngine(EngineConfig{})
	for _, s := range []string{"1", "Анна", "", "пропустить", "__done", "__skip", "1, 2", "+79123456789", "15.04.1990"} {
		f.Add(uint8(0), uint8(0), false, s)
	}
	f.Fuzz(func(t *testing.T, gi, si uint8, isButton bool, s string) {
		g := graphs[int(gi)%len(graphs)]
		step := g.Order[int(si)%len(g.Order)]
		upd := text(s)
		if isButton {
			upd = button(s)
		}
		st := State{Scenario: g.ID, Version: g.Version, Step: step}
		var res Result
		e.Answer(g, &st, &Turn{Chat: testChat, Update: upd, Now: testNow}, &res)
		if len(res.Replies) == 0 && res.State.Active() && g.Steps[step].Input != scenario.InputNone {
			t.Fatalf("%s/%s: no reply to %q", g.ID, step, s)
		}
	})
}
