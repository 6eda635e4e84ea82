package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("id: x\nsteps:\n  a: { say: \"{{ .answer }}\", input: number, next: [{if: \"answer > 1\", goto: a}, {goto: b}] }\n  b: { say: x, end: true }\n"))
	f.Add([]byte("id: x\nx-a: &a {say: x, end: true}\nsteps: {a: *a, b: {<<: *a}}\n"))
	f.Add([]byte("{a"))
	errFiles, _ := filepath.Glob("testdata/errors/*.yaml")
	for _, file := range errFiles {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("id: x\nsteps:\n  a:\n    say: |\n      {{ .client.frist_name }}\n      {{ $.vars.x }} {{ (.client).y }}\n    end: true\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		g, err := Load("fuzz.yaml", src)
		if err == nil {
			if g == nil || g.Steps[g.Start] == nil {
				t.Fatalf("valid graph without its start step")
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
		}
		for _, e := range list {
			if e.File != "fuzz.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
				t.Fatalf("bad error %#v", e)
			}
		}
	})
}

// FuzzCheckTemplateNames checks that no text makes the name checker panic
// and that every offset it reports points at the name it reports.
func FuzzCheckTemplateNames(f *testing.F) {
	for _, s := range []string{
		"{{ .client.frist_name }}", "{{ $.client.agee }}{{ .vars.gfit }}{{ .answr }}",
		"{{ with .client }}{{ .citty }}{{ end }}", "{{ range .answer }}{{ .x }}{{ else }}{{ .y }}{{ end }}",
		"{{ (.client).x.y }}", "{{ .client.attributes.a.b.c }}", "{{ $x := .client }}{{ $x.y }}",
	} {
		f.Add(s)
	}
	scope := NameScope{Answer: true, Vars: []string{"gift"}}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := template.New("t").Funcs(templateFuncs).Parse(src)
		if err != nil {
			return
		}
		for _, e := range CheckTemplateNames(src, tmpl, scope) {
			name := e.Chain[strings.LastIndex(e.Chain, ".")+1:]
			if e.Msg == "" || e.Offset > len(src) || e.Offset >= 0 && !strings.HasPrefix(src[e.Offset:], name) {
				t.Fatalf("CheckTemplateNames(%q): bad error %+v", src, e)
			}
		}
	})
}
