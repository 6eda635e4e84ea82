package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/chathub/chathub/internal/store/postgres"
)

// OverviewCharter counts the console's Обзор charts (*postgres.Store
// implements it): the new clients per day by source and the scenario
// completions per day by scenario.
type OverviewCharter interface {
	OverviewCharts(ctx context.Context, now time.Time, loc *time.Location, days, top int) (postgres.OverviewCharts, error)
}

// Defaults of GET /api/overview/charts' parameters.
const (
	defaultChartDays = 30
	defaultChartTop  = 5
)

// overviewRoutes registers the overview's charts.
func (a *API) overviewRoutes() {
	a.route("GET /api/overview/charts", a.overviewCharts)
}

// chartsJSON are the charts as the API shows them: the days as dates in
// the time zone, each chart's series with a count per day.
type chartsJSON struct {
	Timezone    string          `json:"timezone"`
	Days        []string        `json:"days"`
	NewClients  dailySeriesJSON `json:"new_clients"`
	Completions dailySeriesJSON `json:"completions"`
}

// dailySeriesJSON is one chart: its total, the total of each day and the
// series, the top keys first and then, when keys were left out, "other".
type dailySeriesJSON struct {
	Total  int64        `json:"total"`
	Daily  []int64      `json:"daily"`
	Series []seriesJSON `json:"series"`
}

type seriesJSON struct {
	Key    string  `json:"key"`
	Other  bool    `json:"other,omitempty"`
	Total  int64   `json:"total"`
	Counts []int64 `json:"counts"`
}

func newDailySeriesJSON(d postgres.DailySeries) dailySeriesJSON {
	out := dailySeriesJSON{Total: d.Total, Daily: d.Daily, Series: make([]seriesJSON, 0, len(d.Series))}
	for _, s := range d.Series {
		out.Series = append(out.Series, seriesJSON{Key: s.Key, Other: s.Other, Total: s.Total, Counts: s.Counts})
	}
	return out
}

// overviewCharts answers GET /api/overview/charts?days=&top=.
func (a *API) overviewCharts(w http.ResponseWriter, r *http.Request) error {
	days, err := queryInt(r, "days", defaultChartDays, 1, postgres.MaxChartDays)
	if err != nil {
		return err
	}
	top, err := queryInt(r, "top", defaultChartTop, 1, postgres.MaxChartTop)
	if err != nil {
		return err
	}
	loc := a.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	oc, err := a.cfg.Overview.OverviewCharts(r.Context(), time.Now(), loc, days, top)
	if err != nil {
		return err
	}
	out := chartsJSON{Timezone: loc.String(), Days: make([]string, 0, len(oc.Days)),
		NewClients: newDailySeriesJSON(oc.Sources), Completions: newDailySeriesJSON(oc.Scenarios)}
	for _, d := range oc.Days {
		out.Days = append(out.Days, d.Format(time.DateOnly))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
