// Package spelling finds the likely intended word for a misspelt one, for
// the "did you mean" hints of scenario and segment errors.
package spelling

import "strings"

// maxLen bounds the strings compared: longer ones get no suggestion.
const maxLen = 64

// Closest returns the candidate closest to s by edit distance (with
// transpositions, case-insensitive), or "" when none is close enough to be a
// likely typo (a distance of at most a third of s's length, and at most 3)
// or s is empty, too long, or itself a candidate's exact spelling.
func Closest(s string, candidates []string) string {
	if s == "" || len(s) > maxLen {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		if len(c) > maxLen || c == s {
			continue
		}
		d := distance(strings.ToLower(s), strings.ToLower(c))
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

// distance is the optimal-string-alignment distance between a and b in runes.
func distance(a, b string) int {
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
