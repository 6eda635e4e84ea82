package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
