package telegram

import (
	"strings"
	"testing"
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
