package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// chartRow is one seeded row: a client who came by source (or a completion
// of scenario) at.
type chartRow struct {
	key string
	at  time.Time
}

// seedCharts inserts a client per source row and, for each completion
// row, a completion of its scenario by the first client.
func seedCharts(t *testing.T, s *Store, sources, completions []chartRow) {
	t.Helper()
	var first int64
	for i, r := range sources {
		var id int64
		if _, err := queryOne(s.db, "INSERT INTO clients (platform, platform_user_id, source, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			[]any{"telegram", fmt.Sprintf("c%d", i), r.key, stampTime(r.at)}, &id); err != nil {
			t.Fatalf("insert client %d: %v", i, err)
		}
		if i == 0 {
			first = id
		}
	}
	for i, r := range completions {
		if err := s.db.Exec("INSERT INTO completions (client_id, scenario, step, created_at) VALUES (?, ?, 'done', ?)",
			first, r.key, stampTime(r.at)).Error; err != nil {
			t.Fatalf("insert completion %d: %v", i, err)
		}
	}
}

// series is a compact form of a Series for comparing: the key ("*" for
// other) and the counts by day.
type seriesWant struct {
	key    string
	counts []int64
}

func compact(d DailySeries) []seriesWant {
	var out []seriesWant
	for _, s := range d.Series {
		k := s.Key
		if s.Other {
			k = "*"
		}
		out = append(out, seriesWant{k, s.Counts})
	}
	return out
}

// TestOverviewCharts counts a known data set per day in a time zone, with
// the top keys named and the rest summed, days without rows as zeros, on
// both dialects.
func TestOverviewCharts(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	mskAt := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, msk)
	}
	berlinAt := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 30, 0, 0, berlin) }
	tests := []struct {
		name               string
		now                time.Time
		loc                *time.Location
		days, top          int
		sources, completes []chartRow
		wantFirst          time.Time
		wantSources        []seriesWant
		wantScenarios      []seriesWant
		wantTotals         [2]int64
	}{{
		name: "three days, top two of three sources and the rest as other",
		now:  mskAt(3, 10, 12, 0), loc: msk, days: 3, top: 2,
		sources: []chartRow{
			{"vk_ads", mskAt(3, 10, 9, 0)}, {"vk_ads", mskAt(3, 10, 1, 0)}, // 22:00 UTC the day before: today in Moscow
			{"vk_ads", mskAt(3, 8, 23, 59)}, {"site", mskAt(3, 8, 0, 0)}, {"site", mskAt(3, 10, 11, 0)},
			{"", mskAt(3, 9, 12, 0)},
			{"vk_ads", mskAt(3, 7, 23, 59)}, // before the period
		},
		completes: []chartRow{
			{"portrait", mskAt(3, 10, 0, 30)}, {"portrait", mskAt(3, 8, 12, 0)}, {"feedback", mskAt(3, 8, 13, 0)},
		},
		wantFirst: mskAt(3, 8, 0, 0),
		wantSources: []seriesWant{
			{"vk_ads", []int64{1, 0, 2}}, {"site", []int64{1, 0, 1}}, {"*", []int64{0, 1, 0}},
		},
		wantScenarios: []seriesWant{{"portrait", []int64{1, 0, 1}}, {"feedback", []int64{1, 0, 0}}},
		wantTotals:    [2]int64{6, 3},
	}, {
		name: "no rows: every day zero, no series",
		now:  mskAt(3, 10, 12, 0), loc: msk, days: 7, top: 5,
		sources:       []chartRow{{"old", mskAt(1, 1, 12, 0)}},
		wantFirst:     mskAt(3, 4, 0, 0),
		wantSources:   nil,
		wantScenarios: nil,
	}, {
		name: "ties by key, a client without a source is its own series",
		now:  mskAt(3, 10, 12, 0), loc: msk, days: 1, top: 5,
		sources:     []chartRow{{"b", mskAt(3, 10, 1, 0)}, {"a", mskAt(3, 10, 2, 0)}, {"", mskAt(3, 10, 3, 0)}, {"", mskAt(3, 10, 4, 0)}},
		wantFirst:   mskAt(3, 10, 0, 0),
		wantSources: []seriesWant{{"", []int64{2}}, {"a", []int64{1}}, {"b", []int64{1}}},
		wantTotals:  [2]int64{4, 0},
	}, {
		// Berlin moves to summer time on 29 March 2026: that day has 23
		// hours, so the database counts by hour.
		name: "across a daylight-saving change",
		now:  berlinAt(30, 10), loc: berlin, days: 3, top: 1,
		sources: []chartRow{
			{"site", berlinAt(28, 23)}, {"site", berlinAt(29, 0)}, {"site", berlinAt(29, 23)},
			{"site", berlinAt(30, 0)}, {"vk", berlinAt(30, 9)},
		},
		wantFirst:   time.Date(2026, 3, 28, 0, 0, 0, 0, berlin),
		wantSources: []seriesWant{{"site", []int64{1, 2, 1}}, {"*", []int64{0, 0, 1}}},
		wantTotals:  [2]int64{5, 0},
	}, {
		// 1 March to 31 October 2026: both changes inside, so the period
		// is a whole number of 24-hour days but a summer midnight is not
		// one after the first midnight. A client at 00:30 on 1 July
		// (22:30 UTC on 30 June) is on 1 July.
		name: "across both daylight-saving changes",
		now:  time.Date(2026, 10, 31, 12, 0, 0, 0, berlin), loc: berlin, days: 245, top: 1,
		sources:   []chartRow{{"site", time.Date(2026, 7, 1, 0, 30, 0, 0, berlin)}},
		wantFirst: time.Date(2026, 3, 1, 0, 0, 0, 0, berlin),
		wantSources: []seriesWant{{"site", func() []int64 {
			c := make([]int64, 245)
			c[122] = 1 // 1 July is day 31+30+31+30 = 122 after 1 March
			return c
		}()}},
		wantTotals: [2]int64{1, 0},
	}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					s := b.open(t)
					seedCharts(t, s, tt.sources, tt.completes)
					got, err := s.OverviewCharts(context.Background(), tt.now, tt.loc, tt.days, tt.top)
					if err != nil {
						t.Fatal(err)
					}
					if len(got.Days) != tt.days || !got.Days[0].Equal(tt.wantFirst) {
						t.Fatalf("days %v, want %d from %v", got.Days, tt.days, tt.wantFirst)
					}
					if g := compact(got.Sources); !reflect.DeepEqual(g, tt.wantSources) {
						t.Errorf("sources %v, want %v", g, tt.wantSources)
					}
					if g := compact(got.Scenarios); !reflect.DeepEqual(g, tt.wantScenarios) {
						t.Errorf("scenarios %v, want %v", g, tt.wantScenarios)
					}
					if got.Sources.Total != tt.wantTotals[0] || got.Scenarios.Total != tt.wantTotals[1] {
						t.Errorf("totals %d, %d; want %v", got.Sources.Total, got.Scenarios.Total, tt.wantTotals)
					}
					for _, d := range []DailySeries{got.Sources, got.Scenarios} {
						if len(d.Daily) != tt.days {
							t.Errorf("daily %v: want %d days, zeros included", d.Daily, tt.days)
						}
						var sum int64
						for i, n := range d.Daily {
							var col int64
							for _, sr := range d.Series {
								col += sr.Counts[i]
							}
							if col != n {
								t.Errorf("day %d: series sum %d, daily %d", i, col, n)
							}
							sum += n
						}
						if sum != d.Total {
							t.Errorf("daily sums to %d, total %d", sum, d.Total)
						}
					}
				})
			}
		})
	}
}

// TestOverviewChartsLimits: a period or top out of range is ErrChartPeriod.
func TestOverviewChartsLimits(t *testing.T) {
	t.Parallel()
	s := openSQLiteTemp(t)
	for _, c := range [][2]int{{0, 5}, {MaxChartDays + 1, 5}, {7, 0}, {7, MaxChartTop + 1}} {
		if _, err := s.OverviewCharts(context.Background(), time.Now(), nil, c[0], c[1]); !errors.Is(err, ErrChartPeriod) {
			t.Errorf("days %d top %d: %v", c[0], c[1], err)
		}
	}
	if _, err := s.OverviewCharts(context.Background(), time.Now(), nil, MaxChartDays, MaxChartTop); err != nil {
		t.Errorf("the longest period: %v", err)
	}
}
