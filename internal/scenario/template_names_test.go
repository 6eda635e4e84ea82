package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
)

// TestErrorsGolden loads each testdata/errors/*.yaml and compares every
// problem reported, with its position, to the .golden file beside it
// (go test ./internal/scenario -update rewrites them).
func TestErrorsGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/errors: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(filepath.Base(file), src)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Load = %v, want an ErrorList", err)
			}
			got := err.Error() + "\n"
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
				t.Errorf("errors differ from %s (run with -update if intended):\n%s", golden, got)
			}
		})
	}
}

// TestCheckTemplateNames checks the name checker on its own, with the
// offsets it reports.
func TestCheckTemplateNames(t *testing.T) {
	t.Parallel()
	scenarioScope := NameScope{Answer: true, Vars: []string{"gift", "promo"}, Attributes: []string{"interests"}}
	campaign := NameScope{}
	type want struct {
		off int
		msg string
	}
	tests := []struct {
		name  string
		src   string
		scope NameScope
		want  []want
	}{
		{"known names", `{{ .client.first_name }} {{ .client.attributes.any }} {{ .answer }} {{ .vars.gift }} {{ .vars.promo.code }}`, scenarioScope, nil},
		{"every card field", "{{ .client.id }}{{ .client.platform }}{{ .client.consent }}{{ .client.subscribed }}{{ .client.timezone }}{{ join \",\" .client.tags }}", campaign, nil},
		{"client typo", "Привет, {{ .client.frist_name }}", scenarioScope,
			[]want{{25, `unknown client field "frist_name"; did you mean .client.first_name?`}}},
		{"vars typo", "{{ .vars.gfit }}", scenarioScope, []want{{9, `unknown variable .vars.gfit; did you mean .vars.gift?`}}},
		{"root typo", "{{ .answr }}", scenarioScope, []want{{4, `unknown name .answr; texts see .client, .answer, .vars; did you mean .answer?`}}},
		{"core field at the root", "{{ .city }}", scenarioScope, []want{{4, `unknown name .city; texts see .client, .answer, .vars; did you mean .client.city?`}}},
		{"misspelt core field at the root", "{{ .frist_name }}", scenarioScope,
			[]want{{4, `unknown name .frist_name; texts see .client, .answer, .vars; did you mean .client.first_name?`}}},
		{"variable at the root", "{{ .gift }}", scenarioScope, []want{{4, `unknown name .gift; texts see .client, .answer, .vars; did you mean .vars.gift?`}}},
		{"saved attribute as a field", "{{ .client.interests }}", scenarioScope,
			[]want{{11, `unknown client field "interests"; answers saved to attributes are .client.attributes.interests`}}},
		{"no vars in campaigns", "{{ .vars.gift }}", campaign, []want{{4, `unknown name .vars; texts see .client`}}},
		{"no answer in campaigns", "{{ .answer }}", campaign, []want{{4, `unknown name .answer; texts see .client`}}},
		{"field of a value", "{{ .answer.text }}", scenarioScope,
			[]want{{11, `.answer is a value (text, number or list) and has no field "text"; remove .text`}}},
		{"field of an attribute", "{{ .client.attributes.a.b }}", scenarioScope,
			[]want{{24, `.client.attributes.a is a value (text, number or list) and has no field "b"; remove .b`}}},
		{"no vars at all", "{{ .vars.x }}", NameScope{Answer: true, Vars: []string{}},
			[]want{{9, `unknown variable .vars.x; the scenario has no vars: and no step saves to vars.<name>`}}},
		{"inside if, else and function calls", `{{ if .client.agee }}{{ else }}{{ default "x" (lower .client.ctiy) }}{{ end }}`, scenarioScope,
			[]want{
				{14, `unknown client field "agee"; did you mean .client.age?`},
				{61, `unknown client field "ctiy"; did you mean .client.city?`},
			}},
		{"with follows the dot", "{{ with .client }}{{ .citty }}{{ .city }}{{ end }}", scenarioScope,
			[]want{{22, `unknown client field "citty"; did you mean .client.city?`}}},
		{"with else keeps the outer dot", "{{ with .client.city }}{{ . }}{{ else }}{{ .answr }}{{ end }}", scenarioScope,
			[]want{{44, `unknown name .answr; texts see .client, .answer, .vars; did you mean .answer?`}}},
		{"range elements are not checked", "{{ range .client.tags }}{{ .whatever }}{{ $.client.agee }}{{ end }}", scenarioScope,
			[]want{{51, `unknown client field "agee"; did you mean .client.age?`}}},
		{"variables other than $ are not followed", "{{ $c := .client }}{{ $c.anything }}", scenarioScope, nil},
		{"parenthesised chain", "{{ (.client).frist_name }}", scenarioScope,
			[]want{{-1, `unknown client field "frist_name"; did you mean .client.first_name?`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := template.New("t").Funcs(templateFuncs).Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, e := range CheckTemplateNames(tt.src, tmpl, tt.scope) {
				got = append(got, want{e.Offset, e.Msg})
				if e.Offset >= 0 && !strings.HasPrefix(tt.src[e.Offset:], e.Chain[strings.LastIndex(e.Chain, ".")+1:]) {
					t.Errorf("offset %d of %q does not point at the name: %q", e.Offset, e.Chain, tt.src[e.Offset:])
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestTextRendersMissingEmpty checks that a value the data lacks prints as
// nothing, never as text/template's "<no value>".
func TestTextRendersMissingEmpty(t *testing.T) {
	t.Parallel()
	data := Data{
		"client": map[string]any{"first_name": "", "age": nil, "attributes": map[string]any{"hobby": "йога"}},
		"answer": nil,
		"vars":   map[string]any{"gift": "скидка"},
	}
	tests := []struct{ src, want string }{
		{"Хобби: {{ .client.attributes.missing }}.", "Хобби: ."},
		{"Возраст: {{ .client.age }}.", "Возраст: ."},
		{"Ответ: {{ .answer }}.", "Ответ: ."},
		{"{{ .vars.nosuch }}|{{ .vars.gift }}", "|скидка"},
		{"{{ if true }}[{{ .client.attributes.missing }}]{{ end }}", "[]"},
		{"{{ with .client }}[{{ .attributes.missing }}]{{ end }}", "[]"},
		{"{{ range $k, $v := .client.attributes }}{{ $k }}={{ $v }}{{ end }}", "hobby=йога"},
		{`{{ default "друг" .client.age }}`, "друг"},
		{`{{ .client.age | default "?" }}`, "?"},
		{"{{ $x := .answer }}[{{ $x }}]", "[]"},
		{"Текст <no value> пишется как есть: {{ .client.attributes.hobby }}", "Текст <no value> пишется как есть: йога"},
	}
	for _, tt := range tests {
		text, err := NewText("t", tt.src)
		if err != nil {
			t.Fatalf("NewText(%q): %v", tt.src, err)
		}
		got, err := text.Render(data)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}

// TestIssueTyposRefused is the issue's own example: each typo is an error
// at load with its place and the name meant.
func TestIssueTyposRefused(t *testing.T) {
	t.Parallel()
	src := "id: x\nvars: { gift: скидка }\nsteps:\n" +
		"  a: { say: \"{{ .client.frist_name }}\", input: text, next: b }\n" +
		"  b: { say: \"{{ .vars.gfit }}\", input: text, next: c }\n" +
		"  c: { say: \"{{ .answr }}\", end: true }\n"
	got := loadErrors(t, src)
	want := []string{
		`t.yaml:4:25: template in say: of step "a": unknown client field "frist_name"; did you mean .client.first_name?`,
		`t.yaml:5:23: template in say: of step "b": unknown variable .vars.gfit; did you mean .vars.gift?`,
		`t.yaml:6:18: template in say: of step "c": unknown name .answr; texts see .client, .answer, .vars; did you mean .answer?`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
