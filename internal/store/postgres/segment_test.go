package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/segment/segmenttest"
)

// seedPersonas applies DOMAIN.md's personas and returns their ids by
// persona name ("anna", "oleg", "marina", "marina-zotova", "sergey", "maria").
func seedPersonas(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, p := range segmenttest.Personas(segmenttest.Base) {
		var c *crm.Client
		for i := range p.Changes {
			c = apply(t, s, p.Key, &p.Changes[i])
		}
		ids[strings.TrimPrefix(p.Key.ID, "persona-")] = c.ID
	}
	return ids
}

// compileAt compiles src against s's saved segments, pinned at segmenttest.Base.
func compileAt(t *testing.T, s *Store, src string) *segment.Segment {
	t.Helper()
	seg, err := s.CompileSegment(context.Background(), src)
	if err != nil {
		t.Fatalf("CompileSegment(%q): %v", src, err)
	}
	return seg.At(segmenttest.Base)
}

// personaIDs maps persona names to sorted ids.
func personaIDs(ids map[string]int64, names ...string) []int64 {
	out := make([]int64, 0, len(names))
	for _, n := range names {
		out = append(out, ids[n])
	}
	slices.Sort(out)
	return out
}

func TestSegmentQueries(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ids := seedPersonas(t, s)
			tests := []struct {
				src  string
				want []string
			}{
				{`city == "Москва" and age >= 25 and "fitness" in attributes.interests and subscribed and last_seen_at > ago("30d")`, []string{"marina", "maria"}},
				{`not ("minor" in tags) and gender != "male"`, []string{"anna", "marina", "marina-zotova", "maria"}},
				{`subscribed and not blocked`, []string{"anna", "oleg", "marina", "maria"}},
				{`completed("portrait")`, []string{"marina"}},
				{`completed("feedback", "thanks", ago("7d")) and answered("feedback", "csat") and attributes.csat <= 3`, []string{"sergey"}},
				{`"vip" in tags or attributes.role == "owner"`, []string{"oleg"}},
				{`region startsWith "Свердловск" and children_count >= 2`, []string{"marina-zotova"}},
				{`occupation contains "бухгалтер" and attributes.income >= 50000`, []string{"anna"}},
				{`birth_date < date("1970-01-01")`, []string{"maria"}},
				{`age in 25..30 and income_level != "premium"`, []string{"marina", "sergey"}},
				{`city == "'; DROP TABLE clients;--" or city == nil`, []string{"marina-zotova", "sergey"}},
			}
			ctx := context.Background()
			for _, tt := range tests {
				seg := compileAt(t, s, tt.src)
				want := personaIDs(ids, tt.want...)
				var got []int64
				if err := s.EachSegmentBatch(ctx, seg, 1, func(b []int64) error { got = append(got, b...); return nil }); err != nil {
					t.Fatalf("%s: %v", tt.src, err)
				}
				n, err := s.CountSegment(ctx, seg)
				if err != nil || n != int64(len(want)) || !slices.Equal(got, want) {
					t.Errorf("%s\n count %d (%v), ids %v; want %v", tt.src, n, err, got, want)
				}
			}
			if n := count(t, s, "SELECT COUNT(*) FROM clients"); n != int64(len(ids)) {
				t.Errorf("clients = %d after the injection attempt, want %d", n, len(ids))
			}
		})
	}
}

func TestSegmentSampleAndPages(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ids := seedPersonas(t, s)
			ctx := context.Background()
			seg := compileAt(t, s, `gender == "female"`)
			want := personaIDs(ids, "anna", "marina", "marina-zotova", "maria")
			sample, err := s.SampleSegment(ctx, seg, 2)
			if err != nil || len(sample) != 2 || sample[0].ID == sample[1].ID {
				t.Fatalf("SampleSegment(2) = %d clients, %v", len(sample), err)
			}
			for _, c := range sample {
				if !slices.Contains(want, c.ID) || c.Gender != "female" {
					t.Errorf("sampled client %d (%s) is not in the segment", c.ID, c.Gender)
				}
			}
			if all, err := s.SampleSegment(ctx, seg, 0); err != nil || len(all) != min(DefaultSampleSize, len(want)) {
				t.Errorf("SampleSegment(0) = %d clients, %v", len(all), err)
			}
			page1, err := s.SegmentIDs(ctx, seg, 0, 3)
			if err != nil || !slices.Equal(page1, want[:3]) {
				t.Fatalf("page 1 = %v, %v; want %v", page1, err, want[:3])
			}
			page2, err := s.SegmentIDs(ctx, seg, page1[2], 3)
			if err != nil || !slices.Equal(page2, want[3:]) {
				t.Fatalf("page 2 = %v, %v; want %v", page2, err, want[3:])
			}
			boom := errors.New("stop")
			calls := 0
			err = s.EachSegmentBatch(ctx, seg, 2, func([]int64) error { calls++; return boom })
			if !errors.Is(err, boom) || calls != 1 {
				t.Errorf("EachSegmentBatch stopped after %d calls with %v, want 1 and the callback's error", calls, err)
			}
			if _, err := s.CountSegment(ctx, nil); err == nil {
				t.Error("CountSegment(nil) succeeded")
			}
		})
	}
}

func TestSegmentActivity(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ids := seedPersonas(t, s)
			ctx := context.Background()
			seg := compileAt(t, s, `completed("feedback") and answered("feedback", "csat")`)
			act, err := s.SegmentActivity(ctx, seg, ids["sergey"])
			if err != nil {
				t.Fatal(err)
			}
			if len(act.Answers) != 1 || act.Answers[0].Step != "csat" || act.Answers[0].Field != "attributes.csat" ||
				len(act.Completions) != 1 || act.Completions[0].Step != "thanks" || act.Completions[0].Version != "v1" {
				t.Fatalf("activity = %+v", act)
			}
			sergey := get(t, s, segmenttest.Personas(segmenttest.Base)[4].Key)
			if ok, err := seg.Match(sergey, act); err != nil || !ok {
				t.Errorf("Match(Сергей) = %t, %v", ok, err)
			}
			other, err := s.SegmentActivity(ctx, compileAt(t, s, `completed("portrait")`), ids["sergey"])
			if err != nil || len(other.Answers)+len(other.Completions) != 0 {
				t.Errorf("activity of another scenario = %+v, %v", other, err)
			}
			none, err := s.SegmentActivity(ctx, compileAt(t, s, `subscribed`), ids["sergey"])
			if err != nil || none == nil || len(none.Answers) != 0 {
				t.Errorf("activity for a segment without activity = %+v, %v", none, err)
			}
		})
	}
}

func TestSavedSegments(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			seedPersonas(t, s)
			ctx := context.Background()
			save := func(name, expr string) (*segment.Definition, error) {
				return s.SaveSegment(ctx, segment.Definition{Name: name, Expression: expr, Description: "для теста"})
			}
			adults, err := save("adults", `age >= 18`)
			if err != nil || adults.Name != "adults" || adults.CreatedAt.IsZero() || !adults.CreatedAt.Equal(adults.UpdatedAt) {
				t.Fatalf("save adults = %+v, %v", adults, err)
			}
			if _, err := save("moscow-adults", `segment("adults") and city == "Москва"`); err != nil {
				t.Fatal(err)
			}
			seg := compileAt(t, s, `segment("moscow-adults") and subscribed`)
			if got, err := s.CountSegment(ctx, seg); err != nil || got != 2 {
				t.Errorf("count of segment(moscow-adults) = %d, %v; want 2 (Марина, Мария)", got, err)
			}
			// Replacing a referenced segment changes what uses it.
			updated, err := save("adults", `age >= 30`)
			if err != nil || !updated.CreatedAt.Equal(adults.CreatedAt) || updated.Expression != "age >= 30" {
				t.Fatalf("update adults = %+v, %v", updated, err)
			}
			if got, _ := s.CountSegment(ctx, compileAt(t, s, `segment("moscow-adults")`)); got != 1 {
				t.Errorf("after the update segment(moscow-adults) counts %d, want 1 (Мария)", got)
			}
			testSavedSegmentErrors(t, s, save)
			list, err := s.ListSegments(ctx)
			if err != nil || len(list) != 2 || list[0].Name != "adults" || list[1].Name != "moscow-adults" || list[1].Description != "для теста" {
				t.Fatalf("ListSegments = %+v, %v", list, err)
			}
			if err := s.DeleteSegment(ctx, "adults"); !errors.Is(err, ErrSegmentInUse) || !strings.Contains(err.Error(), "moscow-adults") {
				t.Errorf("delete a segment in use: %v", err)
			}
			if err := s.DeleteSegment(ctx, "nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("delete a missing segment: %v", err)
			}
			for _, name := range []string{"moscow-adults", "adults"} {
				if err := s.DeleteSegment(ctx, name); err != nil {
					t.Fatalf("delete %s: %v", name, err)
				}
			}
			if _, err := s.GetSegment(ctx, "adults"); !errors.Is(err, ErrNotFound) {
				t.Errorf("get after delete: %v", err)
			}
		})
	}
}

// testSavedSegmentErrors checks that bad saves are refused and store nothing.
func testSavedSegmentErrors(t *testing.T, s *Store, save func(name, expr string) (*segment.Definition, error)) {
	t.Helper()
	ctx := context.Background()
	bad := []struct{ name, expr, want string }{
		{"typo", `agee >= 18`, `segment:1:1: unknown field "agee" (did you mean "age"?)`},
		{"dangling", `segment("nowhere")`, `unknown saved segment "nowhere"`},
		{"adults", `segment("moscow-adults")`, "cycle: moscow-adults → adults → moscow-adults"},
		{"self", `segment("self") or subscribed`, "cycle: self → self"},
		{"bad name", `subscribed`, `segment name "bad name"`},
		{"count", `subscribed`, `segment name "count": reserved segment name`},
		{"sample", `subscribed`, `segment name "sample": reserved segment name`},
	}
	for _, tt := range bad {
		_, err := save(tt.name, tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("save %q %q: %v, want %q", tt.name, tt.expr, err, tt.want)
		}
	}
	var se *segment.Error
	if _, err := save("typo", `agee >= 18`); !errors.As(err, &se) || se.Column != 1 {
		t.Errorf("bad expression error is not a *segment.Error with a position: %v", err)
	}
	if d, err := s.GetSegment(ctx, "adults"); err != nil || d.Expression != "age >= 30" {
		t.Errorf("a refused save changed adults: %+v, %v", d, err)
	}
	if _, err := save("count", `subscribed`); !errors.Is(err, segment.ErrReservedName) {
		t.Errorf("save under a route name: %v, want segment.ErrReservedName", err)
	}
	for _, name := range []string{"typo", "dangling", "self", "count", "sample"} {
		if _, err := s.GetSegment(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("refused segment %q was stored: %v", name, err)
		}
	}
}
