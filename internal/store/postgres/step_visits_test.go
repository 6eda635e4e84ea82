package postgres

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestStepVisits: the dialog's write records entered, passed, answered and
// dropped visits, once per update id, and the funnel counts them.
func TestStepVisits(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			sc := "visits_" + newKey().ID
			run := at(0).UnixMicro()
			v := func(ev crm.VisitEvent, step, next string) crm.StepVisit {
				return crm.StepVisit{Scenario: sc, Version: "v1", Run: run, Step: step, Event: ev, Next: next}
			}
			record := func(k int, upd string, visits ...crm.StepVisit) {
				t.Helper()
				key := keyN(k)
				if err := s.RecordChanges(ctx, key, &crm.Changes{Now: at(len(upd)), UpdateID: upd, Visits: visits}); err != nil {
					t.Fatalf("RecordChanges: %v", err)
				}
			}
			base := int(keySeq.Add(10))
			// Conversation 1: hello passed, name entered (twice: a redelivery),
			// name answered, city entered then dropped.
			record(base, "u", v(crm.VisitPass, "hello", "name"), v(crm.VisitEnter, "name", ""))
			record(base, "u", v(crm.VisitPass, "hello", "name"), v(crm.VisitEnter, "name", ""))
			record(base, "uu", v(crm.VisitAnswer, "name", "city"), v(crm.VisitEnter, "city", ""))
			record(base, "uuu", v(crm.VisitDrop, "city", ""))
			// Conversation 2: waits at name.
			record(base+1, "u", v(crm.VisitPass, "hello", "name"), v(crm.VisitEnter, "name", ""))
			got, err := s.FunnelSteps(ctx, crm.FunnelQuery{Scenario: sc, Since: at(0)})
			if err != nil {
				t.Fatal(err)
			}
			want := []crm.FunnelStepCount{
				{Step: "city", Entered: 1, Dropped: 1},
				{Step: "hello", Entered: 2, Answered: 2},
				{Step: "name", Entered: 2, Answered: 1, Stuck: 1, MedianAnswer: at(2).Sub(at(1))},
			}
			if !slices.Equal(got, want) {
				t.Fatalf("funnel = %+v\nwant %+v", got, want)
			}
			for _, tt := range []struct {
				src  string
				want int
			}{
				{`stuck("` + sc + `", "name")`, base + 1},
				{`dropped("` + sc + `", "city")`, base},
				{`stuck("` + sc + `", "city")`, 0},
			} {
				seg, err := s.CompileSegment(ctx, tt.src)
				if err != nil {
					t.Fatal(err)
				}
				seg = seg.At(at(10))
				ids, err := s.SegmentIDs(ctx, seg, 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				var wantIDs []int64
				for _, k := range []int{base, base + 1} {
					c, err := s.GetClient(ctx, keyN(k))
					if err != nil {
						t.Fatal(err)
					}
					act, err := s.SegmentActivity(ctx, seg, c.ID)
					if err != nil {
						t.Fatal(err)
					}
					if ok, err := seg.Match(c, act); err != nil || ok != (k == tt.want) {
						t.Errorf("%s: Match(client %d) = %t, %v", tt.src, k, ok, err)
					}
					if k == tt.want {
						wantIDs = append(wantIDs, c.ID)
					}
				}
				if !slices.Equal(ids, wantIDs) {
					t.Errorf("%s: ids %v, want %v", tt.src, ids, wantIDs)
				}
			}
		})
	}
}

// keyN is the chat key of test client n.
func keyN(n int) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: "v" + strconv.Itoa(n)}
}
