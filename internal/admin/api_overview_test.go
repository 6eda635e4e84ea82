package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeCharter is a hand-written OverviewCharter: two days of vk_ads and
// others, one of portrait; it records what it was asked.
type fakeCharter struct {
	mu        sync.Mutex
	days, top int
	loc       *time.Location
	err       error
}

func (f *fakeCharter) OverviewCharts(_ context.Context, _ time.Time, loc *time.Location, days, top int) (postgres.OverviewCharts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.days, f.top, f.loc = days, top, loc
	if f.err != nil {
		return postgres.OverviewCharts{}, f.err
	}
	return postgres.OverviewCharts{
		Days: []time.Time{time.Date(2026, 12, 5, 0, 0, 0, 0, loc), time.Date(2026, 12, 6, 0, 0, 0, 0, loc)},
		Sources: postgres.DailySeries{Daily: []int64{3, 1}, Total: 4, Series: []postgres.Series{
			{Key: "vk_ads", Counts: []int64{2, 1}, Total: 3}, {Other: true, Counts: []int64{1, 0}, Total: 1}}},
		Scenarios: postgres.DailySeries{Daily: []int64{0, 0}},
	}, nil
}

func newOverviewAPIEnv(t *testing.T, f *fakeCharter) *apiEnv {
	t.Helper()
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{seg: newFakeSegments(), camp: newFakeCampaigns(), logs: &syncBuffer{}}
	api, err := NewAPI(APIConfig{
		Token: testToken, Segments: e.seg, SavedSegments: e.seg, Campaigns: e.camp, Control: e.camp, Reports: e.camp,
		Overview: f, Location: msk, Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Logger: slog.New(slog.DiscardHandler)})
	s.Handle("/api/", api)
	e.srv = httptest.NewServer(s.mux)
	t.Cleanup(e.srv.Close)
	return e
}

// TestAPIOverviewCharts: the charts of Обзор as JSON, the days as dates in
// DEFAULT_TIMEZONE; days and top are checked.
func TestAPIOverviewCharts(t *testing.T) {
	t.Parallel()
	f := &fakeCharter{}
	e := newOverviewAPIEnv(t, f)
	tests := []struct {
		query     string
		status    int
		field     string
		days, top int
	}{
		{"", 200, "", 30, 5},
		{"?days=7&top=3", 200, "", 7, 3},
		{"?days=366&top=20", 200, "", 366, 20},
		{"?days=0", 400, "days", 0, 0},
		{"?days=367", 400, "days", 0, 0},
		{"?days=week", 400, "days", 0, 0},
		{"?top=21", 400, "top", 0, 0},
	}
	for _, tt := range tests {
		resp, b := e.do(t, "GET", "/api/overview/charts"+tt.query, "")
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: status %d (%s), want %d", tt.query, resp.StatusCode, b, tt.status)
		}
		if tt.status != 200 {
			if body := decode[errorBody](t, b); body.Field != tt.field {
				t.Errorf("%s: field %q, want %q", tt.query, body.Field, tt.field)
			}
			continue
		}
		f.mu.Lock()
		days, top, loc := f.days, f.top, f.loc
		f.mu.Unlock()
		if days != tt.days || top != tt.top || loc.String() != "Europe/Moscow" {
			t.Errorf("%s: asked %d days, top %d, %v", tt.query, days, top, loc)
		}
		got := decode[chartsJSON](t, b)
		want := chartsJSON{Timezone: "Europe/Moscow", Days: []string{"2026-12-05", "2026-12-06"},
			NewClients: dailySeriesJSON{Total: 4, Daily: []int64{3, 1}, Series: []seriesJSON{
				{Key: "vk_ads", Total: 3, Counts: []int64{2, 1}}, {Other: true, Total: 1, Counts: []int64{1, 0}}}},
			Completions: dailySeriesJSON{Daily: []int64{0, 0}, Series: []seriesJSON{}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", tt.query, got, want)
		}
	}
	f.err = errors.New("database down")
	if resp, b := e.do(t, "GET", "/api/overview/charts", ""); resp.StatusCode != 500 || decode[errorBody](t, b).Error == "database down" {
		t.Errorf("a failing store: %d %s", resp.StatusCode, b)
	}
}

// TestAPIOverviewChartsOff: without a store the route does not exist.
func TestAPIOverviewChartsOff(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	if resp, _ := e.do(t, "GET", "/api/overview/charts", ""); resp.StatusCode != 404 {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}
