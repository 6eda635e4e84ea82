package i18n

import (
	"strconv"
	"strings"
)

// Number writes n with l's digit grouping: «1 234 567» (no-break spaces) in
// Russian, "1,234,567" in English.
func Number(l Lang, n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if l == Ru {
		sep = "\u00a0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
