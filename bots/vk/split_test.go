package vk

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSplitTextLinear: splitting counts each part's next limit characters
// only, so the bytes it decodes stay within a small multiple of the input
// whatever its shape; counting the whole rest of the text for every part
// (as it once did) decoded gigabytes for 4 MB.
func TestSplitTextLinear(t *testing.T) {
	t.Parallel()
	const size = 4 << 20
	tests := []struct {
		name string
		unit string // repeated to size bytes
	}{
		{"words", "слово "},
		{"one long word", "x"},
		{"emoji", "😀"},
		{"paragraphs", strings.Repeat("a", 3000) + "\n"},
		{"early space then a long word", "a " + strings.Repeat("b", 4094)},
		{"blank", " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := strings.Repeat(tt.unit, size/len(tt.unit))
			parts, scanned := split(in, maxTextRunes)
			if limit := 3*len(in) + 16*maxTextRunes; scanned > limit {
				t.Fatalf("%d parts of %d bytes: decoded %d bytes, want ≤ %d (linear)", len(parts), len(in), scanned, limit)
			}
		})
	}
}

// FuzzSplitText: on any text and limit, splitText cuts where it always did
// (referenceSplit, its earlier quadratic form), every part has 1..limit
// characters, and the parts are the text in order with only spaces and
// line breaks between them. A blank text is one part within the limit (the
// reference made it "" when it was longer).
func FuzzSplitText(f *testing.F) {
	for _, s := range []string{"", " ", "привет, мир", "a\nb c\n\n\nd", "😀😀 😀\n", "ab cd ef", " \n x"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, l uint8) {
		limit := 1 + int(l)%64
		got := splitText(s, limit)
		if strings.Trim(s, " \n") == "" {
			if len(got) != 1 || !strings.HasPrefix(s, got[0]) || utf8.RuneCountInString(got[0]) > limit {
				t.Fatalf("blank %q at %d: %q, want one part of it within the limit", s, limit, got)
			}
			return
		}
		if want := referenceSplit(s, limit); !slices.Equal(got, want) {
			t.Fatalf("splitText(%q, %d) = %q, want %q", s, limit, got, want)
		}
		rest := s
		for i, p := range got {
			if n := utf8.RuneCountInString(p); n == 0 || n > limit {
				t.Fatalf("part %d %q: %d characters, want 1..%d", i, p, n, limit)
			}
			at := strings.Index(rest, p)
			if at < 0 || strings.Trim(rest[:at], " \n") != "" {
				t.Fatalf("part %d %q is not the text's next part after spaces: %q", i, p, rest)
			}
			rest = rest[at+len(p):]
		}
		if strings.Trim(rest, " \n") != "" {
			t.Fatalf("text after the last part dropped: %q", rest)
		}
	})
}

// referenceSplit is splitText as it was before it was made linear (it
// counted the whole rest of the text for every part): the fuzz test's
// oracle for where parts end.
func referenceSplit(text string, limit int) []string {
	var parts []string
	for utf8.RuneCountInString(text) > limit {
		cut := cutPoint(text[:prefixLen(text, limit)])
		if part := strings.TrimRight(text[:cut], " \n"); part != "" {
			parts = append(parts, part)
		}
		text = strings.TrimLeft(text[cut:], " \n")
	}
	if text != "" || len(parts) == 0 {
		parts = append(parts, text)
	}
	return parts
}
