package segment

import (
	"fmt"

	"github.com/chathub/chathub/internal/spelling"
)

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to s,
// or "" when none is close enough to be a likely typo.
func didYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

// suggest returns the candidate closest to s, or "" (see spelling.Closest).
func suggest(s string, candidates []string) string { return spelling.Closest(s, candidates) }
