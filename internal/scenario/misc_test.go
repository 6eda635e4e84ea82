package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestErrorListFormatAndOrder(t *testing.T) {
	t.Parallel()
	list := ErrorList{
		{File: "b.yaml", Line: 1, Col: 1, Msg: "b"},
		{File: "a.yaml", Line: 10, Col: 2, Msg: "late"},
		{File: "a.yaml", Line: 2, Col: 5, Msg: "col 5"},
		{File: "a.yaml", Line: 2, Col: 3, Msg: "col 3"},
		{File: "a.yaml", Line: 2, Col: 3, Msg: "col 3"},
	}
	want := "a.yaml:2:3: col 3\na.yaml:2:5: col 5\na.yaml:10:2: late\nb.yaml:1:1: b"
	if got := list.Err().Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if (ErrorList{}).Err() != nil {
		t.Errorf("empty list is an error")
	}
	if got := (&Error{File: "f.yaml", Line: 3, Col: 7, Msg: "m"}).Error(); got != "f.yaml:3:7: m" {
		t.Errorf("Error() = %q", got)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"sya", "say"}, {"stpes", "steps"}, {"frist_name", "first_name"}, {"nxet", "next"},
		{"b", ""}, {"completely_different", ""}, {"", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, append(stepKeys, "first_name", "steps", "a")); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"/Start": "start", "start@Bot": "start", " /HELP ": "help"} {
		if got := NormalizeCommand(in); got != want {
			t.Errorf("NormalizeCommand(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NormalizeKeyword("  Хочу   АНКЕТУ "); got != "хочу анкету" {
		t.Errorf("NormalizeKeyword = %q", got)
	}
}

func TestLoadDirDuplicates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "id: same\ntriggers: { commands: [start] }\nsteps:\n  a: { say: \"Привет\", end: true }\n"
	for _, name := range []string{"a.yaml", "b.yml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	graphs, err := LoadDir(dir)
	if len(graphs) != 1 || graphs[0].File != filepath.Join(dir, "a.yaml") {
		t.Errorf("graphs = %v", graphs)
	}
	want := filepath.Join(dir, "b.yml") + `:1:5: scenario id "same" is already used by a.yaml; give this scenario another id` + "\n" +
		filepath.Join(dir, "b.yml") + `:2:24: command "start" already starts scenario "same" (a.yaml); remove it from one of the files`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil || errors.As(err, new(ErrorList)) {
		t.Errorf("missing dir: %v", err)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	t.Parallel()
	src := `id: anchors
x-yes-no: &yesno
  - { text: Да, value: yes }
  - { text: Нет, value: no }
steps:
  a: { say: "Согласны?", buttons: *yesno, save: consent, next: b }
  b: &question
    say: "Подписаться на новости?"
    buttons: *yesno
    save: attributes.news
    next: c
  c:
    <<: *question
    say: "И на акции?"
    save: attributes.promo
    next: d
  d: { say: "Спасибо!", end: true }
`
	g, err := Load("anchors.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := g.Steps["c"]
	if c.Say.Raw != "И на акции?" || len(c.Options) != 2 || c.Save.Name != "promo" || c.Next[0].Goto != "d" {
		t.Errorf("merged step = %+v", c)
	}
}

func TestCompiledSemantics(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/portrait.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Load("portrait.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Version) != 16 || g.Version != versionOf(src) {
		t.Errorf("version = %q", g.Version)
	}
	age := g.Steps["age"]
	if !age.Validate.Integer {
		t.Errorf("saving to age did not imply integer")
	}
	ok, err := age.Next[0].Match(Data{"answer": float64(16)})
	if err != nil || !ok {
		t.Errorf("answer < 18 with 16 = %v, %v", ok, err)
	}
	interests := g.Steps["interests"]
	ok, err = interests.Next[0].Match(Data{"answer": []string{"Фитнес"}})
	if err != nil || !ok {
		t.Errorf("'Фитнес' in answer = %v, %v", ok, err)
	}
	say, err := g.Steps["consent"].Say.Render(Data{"vars": g.Vars})
	if err != nil || !strings.Contains(say, "скидка 10%") {
		t.Errorf("consent say = %q, %v", say, err)
	}
	ageSay, err := age.Say.Render(Data{"client": map[string]any{}})
	if err != nil || ageSay != "Друг, сколько вам лет?" {
		t.Errorf("age say without a name = %q, %v", ageSay, err)
	}
	fb, err := os.ReadFile("testdata/feedback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load("feedback.yaml", fb)
	if err != nil {
		t.Fatal(err)
	}
	v := f.Steps["birthday"].Validate
	if !v.MaxDate.Today || v.MinDate.Date.Year() != 1900 {
		t.Errorf("date bounds = %+v", v)
	}
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	if got := v.MaxDate.At(now); !got.Equal(time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("today bound = %v", got)
	}
}
