package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/segment"
)

// TestPeekSegment: a few clients of the segment, only of the segment,
// all of them when fewer exist (wrapping around), none of an empty one.
func TestPeekSegment(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			var clients []overviewClient
			for i := range 20 {
				clients = append(clients, overviewClient{platform: "telegram", created: time.Now(), subscribed: i%4 == 0})
			}
			insertOverviewClients(t, s, clients)
			if err := s.db.Exec("INSERT INTO client_tags (client_id, tag) SELECT id, 'vip' FROM clients").Error; err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				expr string
				n    int
				want int
			}{{"subscribed", 3, 3}, {"subscribed", 10, 5}, {"not subscribed", 0, DefaultSampleSize}, {"age > 200", 5, 0}} {
				seg, err := segment.Compile(tt.expr)
				if err != nil {
					t.Fatal(err)
				}
				for range 10 { // random starts
					got, err := s.PeekSegment(ctx, seg, tt.n)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != tt.want {
						t.Fatalf("%s n=%d: %d clients, want %d", tt.expr, tt.n, len(got), tt.want)
					}
					seen := map[int64]bool{}
					for _, c := range got {
						if c.Subscribed != (tt.expr == "subscribed") || seen[c.ID] || len(c.Tags) != 1 {
							t.Fatalf("%s: client %+v (seen %v)", tt.expr, c, seen[c.ID])
						}
						seen[c.ID] = true
					}
				}
			}
		})
	}
}
