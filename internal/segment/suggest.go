package segment

import (
	"fmt"
	"strings"
)

// maxSuggestLen bounds the names compared for "did you mean" hints.
const maxSuggestLen = 64

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to s,
// or "" when none is close enough to be a likely typo.
func didYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

// suggest returns the candidate closest to s by edit distance (with
// transpositions), or "".
func suggest(s string, candidates []string) string {
	if s == "" || len(s) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		if len(c) > maxSuggestLen || c == s {
			continue
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := min(3, (len([]rune(s))+1)/3)
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
