package telegram

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxTextLen is Telegram's limit on one message text. Telegram counts UTF-16
// code units, so an emoji outside the BMP counts twice.
const MaxTextLen = 4096

// textLen is the length of s as Telegram counts it.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts s into chunks of at most limit UTF-16 units: at the last
// line break of a chunk when it lies in the chunk's second half, else at its
// last space or line break, else (one long word) between two runes. The
// separator a chunk ends at is dropped, and so are trailing whitespace of a
// chunk, line breaks that would start the next one and whitespace-only
// chunks; a text of whitespace only is one chunk of at most limit units.
//
// It takes time linear in len(s): each chunk measures only the next limit
// units, never the whole rest of the text.
func splitText(s string, limit int) []string {
	out, _ := split(s, limit)
	return out
}

// split is splitText; scanned counts the bytes its length checks decoded,
// the work that grows with the input (the tests check it stays within a
// small multiple of len(s)).
func split(s string, limit int) (out []string, scanned int) {
	in := s
	for {
		end, read := fit(s, limit)
		scanned += read
		if end == len(s) {
			break
		}
		head := s[:end]
		cut, skip := breakAt(head)
		if cut <= 0 {
			cut, skip = max(len(head), firstRune(s)), 0
		}
		out = appendChunk(out, strings.TrimRightFunc(s[:cut], unicode.IsSpace))
		s = strings.TrimLeft(s[cut+skip:], "\n")
	}
	out = appendChunk(out, s)
	if len(out) == 0 { // whitespace only: its first chunk, as it is
		end, _ := fit(in, limit)
		return []string{in[:max(end, firstRune(in))]}, scanned
	}
	return out, scanned
}

func appendChunk(out []string, chunk string) []string {
	if strings.TrimSpace(chunk) == "" {
		return out
	}
	return append(out, chunk)
}

// fit is end, the byte length of the longest prefix of s within limit
// UTF-16 units, and read, how many bytes of s it decoded to find it: the
// prefix and the one rune past it.
func fit(s string, limit int) (end, read int) {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if n += utf16.RuneLen(r); n > limit {
			return i, i + size
		}
		i += size
	}
	return len(s), len(s)
}

// breakAt picks where to end head: the byte index of a separator and its size.
func breakAt(head string) (int, int) {
	nl := strings.LastIndexByte(head, '\n')
	if nl >= len(head)/2 {
		return nl, 1
	}
	sp := strings.LastIndexFunc(head, unicode.IsSpace)
	if sp > nl {
		_, size := utf8.DecodeRuneInString(head[sp:])
		return sp, size
	}
	return nl, 1
}

// firstRune is the byte size of s's first rune (so a chunk is never empty).
func firstRune(s string) int {
	_, size := utf8.DecodeRuneInString(s)
	return size
}
