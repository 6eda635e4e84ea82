package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/segment"
)

// overviewClient is one client row of the overview's data set.
type overviewClient struct {
	platform   string
	created    time.Time
	subscribed bool
	blocked    bool
}

func insertOverviewClients(t *testing.T, s *Store, clients []overviewClient) []int64 {
	t.Helper()
	ids := make([]int64, len(clients))
	for i, c := range clients {
		var blocked any
		if c.blocked {
			blocked = stampTime(c.created.Add(time.Hour))
		}
		if _, err := queryOne(s.db, "INSERT INTO clients (platform, platform_user_id, subscribed, blocked_at, created_at) "+
			"VALUES (?, ?, ?, ?, ?) RETURNING id", []any{c.platform, "u" + string(rune('a'+i)), c.subscribed, blocked,
			stampTime(c.created)}, &ids[i]); err != nil {
			t.Fatalf("insert client %d: %v", i, err)
		}
	}
	return ids
}

// TestClientOverview counts a known data set in Moscow time: 3 clients
// this week (2 Telegram, 1 VK), 2 older, 1 blocked, 3 subscribed, 2 open
// hand-offs of 3 (the days are TestOverviewCharts').
func TestClientOverview(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, msk)
	day := func(daysAgo int, hour int) time.Time {
		return time.Date(2026, 3, 10-daysAgo, hour, 15, 0, 0, msk)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			ids := insertOverviewClients(t, s, []overviewClient{
				{"telegram", day(0, 9), true, false},
				{"telegram", day(0, 1), true, false}, // 22:15 UTC the day before: today in Moscow
				{"vk", day(2, 18), false, true},
				{"telegram", day(10, 12), true, false},
				{"telegram", day(40, 12), false, false}, // before the chart
			})
			for i, status := range []string{"open", "closed", "open"} {
				if err := s.db.Exec("INSERT INTO handoffs (client_id, status) VALUES (?, ?)", ids[i], status).Error; err != nil {
					t.Fatal(err)
				}
			}
			o, err := s.ClientOverview(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			want := PlatformCounts{Total: 5, New: 3, Subscribed: 3, Blocked: 1}
			if o.Total != want {
				t.Errorf("total = %+v, want %+v", o.Total, want)
			}
			if len(o.Platforms) != 2 || o.Platforms[0] != (PlatformCounts{"telegram", 4, 2, 3, 0}) ||
				o.Platforms[1] != (PlatformCounts{"vk", 1, 1, 0, 1}) {
				t.Errorf("platforms = %+v", o.Platforms)
			}
			if o.OpenHandoffs != 2 {
				t.Errorf("open hand-offs = %d, want 2", o.OpenHandoffs)
			}
		})
	}
}

// TestClientOverviewEmpty: no clients is zeros, not an error.
func TestClientOverviewEmpty(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			o, err := b.open(t).ClientOverview(context.Background(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Platforms) != 0 || o.Total != (PlatformCounts{}) || o.OpenHandoffs != 0 {
				t.Errorf("empty overview = %+v", o)
			}
		})
	}
}

// TestActiveAndSegmentCampaigns: the overview lists scheduled, running and
// paused campaigns; each saved segment knows its campaigns; a segment an
// unfinished campaign uses cannot be deleted, one only finished campaigns
// used can.
func TestActiveAndSegmentCampaigns(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			for _, name := range []string{"adults", "old"} {
				if _, err := s.SaveSegment(ctx, segment.Definition{Name: name, Expression: "age >= 18"}); err != nil {
					t.Fatal(err)
				}
			}
			made := map[string]int64{}
			for _, c := range []struct {
				name, expr string
				state      broadcast.State
			}{
				{"draft", `segment("adults") and subscribed`, broadcast.Draft},
				{"running", `segment("adults")`, broadcast.Running},
				{"paused", `city == "Москва"`, broadcast.Paused},
				{"scheduled", `segment("old") or segment("adults")`, broadcast.Scheduled},
				{"done", `segment("old")`, broadcast.Done},
			} {
				out, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: c.name, Segment: c.expr, Text: "hi", State: c.state})
				if err != nil {
					t.Fatal(err)
				}
				made[c.name] = out.ID
			}
			active, err := s.ActiveCampaigns(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range active {
				names = append(names, c.Name)
			}
			if got := strings.Join(names, ","); got != "scheduled,paused,running" {
				t.Errorf("active campaigns = %s", got)
			}
			uses, err := s.SegmentCampaigns(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(uses["adults"]) != 3 || uses["adults"][0].ID != made["scheduled"] || len(uses["old"]) != 2 {
				t.Errorf("segment campaigns = %+v", uses)
			}
			err = s.DeleteSegment(ctx, "adults")
			if !errors.Is(err, ErrSegmentInUse) || !strings.Contains(err.Error(), `"running"`) {
				t.Errorf("delete a segment running campaigns use: %v", err)
			}
			if err := s.DeleteSegment(ctx, "old"); !errors.Is(err, ErrSegmentInUse) {
				t.Errorf("delete a segment a scheduled campaign uses: %v", err)
			}
			if err := s.db.Exec("UPDATE campaigns SET state = 'cancelled' WHERE id = ?", made["scheduled"]).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteSegment(ctx, "old"); err != nil {
				t.Errorf("delete a segment only finished campaigns use: %v", err)
			}
		})
	}
}

// TestFinishedCampaigns: the campaigns done or cancelled since a time, the
// latest first, at most limit; the ones under way or finished earlier are
// not among them.
func TestFinishedCampaigns(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			for _, c := range []struct {
				name     string
				state    broadcast.State
				finished time.Duration
			}{
				{"old", broadcast.Done, 10 * 24 * time.Hour},
				{"done", broadcast.Done, time.Hour},
				{"cancelled", broadcast.Cancelled, 2 * time.Hour},
				{"latest", broadcast.Done, time.Minute},
				{"running", broadcast.Running, 0},
			} {
				out, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: c.name, Segment: "age > 1", Text: "hi", State: c.state})
				if err != nil {
					t.Fatal(err)
				}
				if c.finished > 0 {
					if err := s.db.Exec("UPDATE campaigns SET finished_at = ? WHERE id = ?", stampTime(now.Add(-c.finished)), out.ID).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
			for limit, want := range map[int]string{5: "latest,done,cancelled", 2: "latest,done"} {
				got, err := s.FinishedCampaigns(ctx, now.Add(-7*24*time.Hour), limit)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, c := range got {
					names = append(names, c.Name)
				}
				if strings.Join(names, ",") != want {
					t.Errorf("limit %d: finished campaigns = %v, want %s", limit, names, want)
				}
			}
		})
	}
}
