package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/segment"
)

// TestSegmentLongChainsRun checks that long chains of alternatives run on
// both databases: one expression of 340 terms, and five saved segments of
// 340 terms each joined by or (1,700 terms, past SQLite's 1,000 levels of
// expression depth if written flat).
func TestSegmentLongChainsRun(t *testing.T) {
	t.Parallel()
	terms := make([]string, 340)
	for i := range terms {
		terms[i] = "age==" + strconv.Itoa(i)
	}
	long := strings.Join(terms, " or ")
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			var refs []string
			for _, name := range []string{"a", "b", "c", "d", "e"} {
				if _, err := s.SaveSegment(ctx, segment.Definition{Name: name, Expression: long}); err != nil {
					t.Fatal(err)
				}
				refs = append(refs, `segment("`+name+`")`)
			}
			for _, src := range []string{long, strings.Join(refs, " or "), "not (" + strings.Join(refs, " or ") + ")"} {
				seg, err := s.CompileSegment(ctx, src)
				if err != nil {
					t.Fatalf("CompileSegment: %v", err)
				}
				if _, err := s.CountSegment(ctx, seg); err != nil {
					t.Errorf("count %.40s…: %v", src, err)
				}
			}
		})
	}
}
