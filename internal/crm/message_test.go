package crm

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutMessageText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("я", MaxMessageText) // 2 bytes a rune
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "Привет", "Привет"},
		{"nul dropped", "a\x00b\x00", "ab"},
		{"invalid utf-8 replaced", "a\xffb", "a\uFFFDb"},
		{"cut truncated rune", "a\xd0", "a\uFFFD"},
		{"long cut on a rune boundary", "x" + long, "x" + strings.Repeat("я", MaxMessageText/2-1)},
		{"exactly max", strings.Repeat("a", MaxMessageText), strings.Repeat("a", MaxMessageText)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := CutMessageText(c.in)
			if got != c.want {
				t.Errorf("CutMessageText(%.20q...) = %.20q... (%d bytes), want %.20q... (%d bytes)", c.in, got, len(got), c.want, len(c.want))
			}
		})
	}
}

func FuzzCutMessageText(f *testing.F) {
	for _, s := range []string{"", "a\x00", "\xff\xfe", strings.Repeat("ё", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CutMessageText(s)
		if len(got) > MaxMessageText || !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("CutMessageText(%q) = %q: not storable", s, got)
		}
		if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && !strings.HasPrefix(s, got) {
			t.Fatalf("CutMessageText(%q) = %q: not a prefix of a clean text", s, got)
		}
	})
}
