package telegram

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	t.Parallel()
	words := strings.Repeat("слово ", 1000) // 6000 runes, spaces every 6
	tests := []struct {
		name  string
		in    string
		limit int
		want  []int // UTF-16 length of each chunk
	}{
		{"short", "привет", MaxTextLen, []int{6}},
		{"exactly the limit", strings.Repeat("a", MaxTextLen), MaxTextLen, []int{MaxTextLen}},
		{"one over, no spaces", strings.Repeat("a", MaxTextLen+1), MaxTextLen, []int{MaxTextLen, 1}},
		{"cyrillic counts runes not bytes", strings.Repeat("я", MaxTextLen), MaxTextLen, []int{MaxTextLen}},
		{"emoji count twice", strings.Repeat("😀", 2049), MaxTextLen, []int{MaxTextLen, 2}},
		{"emoji never cut in half", strings.Repeat("a", 4095) + "😀", MaxTextLen, []int{4095, 2}},
		{"words cut at a space", words, MaxTextLen, []int{4091, 1908}},
		{"line break in the second half wins", strings.Repeat("a ", 1500) + "\n" + strings.Repeat("b", 2000), MaxTextLen,
			[]int{2999, 2000}},
		{"early line break loses to a later space", "a\n" + strings.Repeat("b ", 3000), MaxTextLen, []int{4095, 1906}},
		{"small limit", "ab cd ef", 5, []int{2, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitText(tt.in, tt.limit)
			lens := make([]int, len(got))
			for i, c := range got {
				lens[i] = textLen(c)
				if !utf8.ValidString(c) || lens[i] > tt.limit || lens[i] == 0 {
					t.Fatalf("chunk %d invalid: %d units", i, lens[i])
				}
			}
			if !equalInts(lens, tt.want) {
				t.Fatalf("chunk lengths = %v, want %v", lens, tt.want)
			}
			if strings.Join(strings.Fields(strings.Join(got, " ")), "") != strings.Join(strings.Fields(tt.in), "") {
				t.Fatalf("chunks lost or changed text")
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitTextDropsBlankChunks(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("x", 4000) + strings.Repeat("\n", 200) + "tail"
	got := splitText(in, MaxTextLen)
	if len(got) != 2 || got[0] != strings.Repeat("x", 4000) || got[1] != "tail" {
		t.Fatalf("chunks = %d, last %q", len(got), got[len(got)-1])
	}
}

// TestSplitTextLinear: splitting measures each chunk's next limit units
// only, so the bytes it decodes stay within a small multiple of the input
// whatever its shape; measuring the whole rest of the text for every chunk
// (as it once did) decoded ~2 GB for 4 MB, and a 10 MB text took minutes.
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
		{"line breaks", "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := strings.Repeat(tt.unit, size/len(tt.unit))
			chunks, scanned := split(in, MaxTextLen)
			if limit := 3*len(in) + 16*MaxTextLen; scanned > limit {
				t.Fatalf("%d chunks of %d bytes: decoded %d bytes, want ≤ %d (linear)", len(chunks), len(in), scanned, limit)
			}
		})
	}
}

// FuzzSplitText: on any text and limit, splitText cuts where the splitter
// always did (referenceSplit, its earlier quadratic form), every chunk is
// non-empty and within the limit, and the chunks are the text in order with
// only whitespace between them. A blank text is one chunk within the limit
// (the reference returned what was left of it: "" for "  \n" at 2).
func FuzzSplitText(f *testing.F) {
	for _, s := range []string{"", " ", "привет, мир", "a\nb c\n\n\nd", "😀😀 😀\n", "ab cd ef", "x\u00a0y\u2028z"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, l uint8) {
		limit := 2 + int(l)%62 // ≥ 2: a rune (an emoji counts 2) always fits
		got := splitText(s, limit)
		if strings.TrimSpace(s) == "" {
			if len(got) != 1 || !strings.HasPrefix(s, got[0]) || textLen(got[0]) > limit {
				t.Fatalf("blank %q at %d: %q, want one chunk of it within the limit", s, limit, got)
			}
			return
		}
		if want := referenceSplit(s, limit); !slices.Equal(got, want) {
			t.Fatalf("splitText(%q, %d) = %q, want %q", s, limit, got, want)
		}
		rest := s
		for i, c := range got {
			if n := textLen(c); n == 0 || n > limit {
				t.Fatalf("chunk %d %q: %d units, want 1..%d", i, c, n, limit)
			}
			at := strings.Index(rest, c)
			if at < 0 || strings.TrimSpace(rest[:at]) != "" {
				t.Fatalf("chunk %d %q is not the text's next part after whitespace: %q", i, c, rest)
			}
			rest = rest[at+len(c):]
		}
		if strings.TrimSpace(rest) != "" {
			t.Fatalf("text after the last chunk dropped: %q", rest)
		}
	})
}

// referenceSplit is splitText as it was before it was made linear (it
// measured the whole rest of the text for every chunk): the fuzz test's
// oracle for where chunks end.
func referenceSplit(s string, limit int) []string {
	var out []string
	for textLen(s) > limit {
		end, _ := fit(s, limit)
		head := s[:end]
		cut, skip := breakAt(head)
		if cut <= 0 {
			cut, skip = max(len(head), firstRune(s)), 0
		}
		out = appendChunk(out, strings.TrimRightFunc(s[:cut], unicode.IsSpace))
		s = strings.TrimLeft(s[cut+skip:], "\n")
	}
	out = appendChunk(out, s)
	if len(out) == 0 {
		return []string{s}
	}
	return out
}

// BenchmarkSplitText: time per input size; linear, ns/op grows 4× from 1 MB
// to 4 MB (it grew 16× when quadratic: 4 MB took 1.9 s).
func BenchmarkSplitText(b *testing.B) {
	for _, mb := range []int{1, 4} {
		in := strings.Repeat("слово ", mb<<20/len("слово "))
		b.Run(strconv.Itoa(mb)+"MB", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				splitText(in, MaxTextLen)
			}
		})
	}
}
