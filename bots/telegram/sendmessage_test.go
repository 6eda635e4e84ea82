package telegram

import (
	"net/url"
	"testing"
)

// FuzzAppendQueryEscape: appendQueryEscape escapes as url.QueryEscape.
func FuzzAppendQueryEscape(f *testing.F) {
	for _, s := range []string{"", "hi", "Привет, мир!", "a b+c&d=e%f", `{"keyboard":[[{"text":"Да"}]]}`, "\x00\xff~-_."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Errorf("appendQueryEscape(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(appendQueryEscape([]byte("x="), []byte(s))), "x="+url.QueryEscape(s); got != want {
			t.Errorf("appendQueryEscape([]byte %q) = %q, want %q", s, got, want)
		}
	})
}
