package console

import (
	"net/url"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/store/postgres"
)

// Обзор's day-by-day charts: new clients by source and scenario
// completions by scenario, as stacked bars over the chosen period, drawn as
// SVG on the server (no script) with the numbers again as a table.

// ovPeriods are the periods (days) Обзор offers; ovDefaultPeriod is shown
// without ?days=.
var ovPeriods = []int{7, 30, 90}

const ovDefaultPeriod = 30

// ovChartSeries is how many sources or scenarios a chart names; the rest are
// one series, «другие».
const ovChartSeries = 5

// ovPeriodOf is the period ?days= asks for, ovDefaultPeriod when it is
// not one of ovPeriods.
func ovPeriodOf(q url.Values) int {
	n, err := strconv.Atoi(q.Get("days"))
	if err != nil {
		return ovDefaultPeriod
	}
	for _, p := range ovPeriods {
		if p == n {
			return n
		}
	}
	return ovDefaultPeriod
}

// The charts' geometry, in SVG user units: the bars share a plot of about
// ovPlotWidth whatever the period, with room on the left for the scale and
// below for the dates.
const (
	ovPlotWidth   = 600
	ovMaxBar      = 40
	ovChartLeft   = 56
	ovChartTop    = 8
	ovChartHeight = 160
	ovChartBottom = 24
	ovChartRight  = 24 // room for the last date
)

// ovSeriesMarks are how series i is drawn: its colour (class ov-c<i>) and a
// mark over it (stripes, dots, …), so that neighbours differ by more than
// colour.
var ovSeriesMarks = []string{"", "stripes", "dots", "hlines", "cross"}

// ovOtherColor is «другие»'s colour class number (grey, no mark).
const ovOtherColor = 9

// ovCharts are Обзор's charts for one period.
type ovCharts struct {
	Days      int
	Periods   []ovPeriod
	Sources   ovStacked
	Scenarios ovStacked
}

// ovPeriod is one choice of the period switch.
type ovPeriod struct {
	Days    int
	Label   string
	Href    string
	Current bool
}

// ovStacked is one stacked bar chart, its legend and its table.
type ovStacked struct {
	// ID prefixes the chart's element ids ("ov-src").
	ID string
	// Heading is the figure's heading; Title the chart's accessible name
	// with the period; Summary its description (total, busiest day).
	Heading, Title, Summary string
	// Unit heads the table's total column («Всего»), DayHeader its
	// first; TableLabel opens the table («Таблица»).
	Unit, DayHeader, TableLabel    string
	Width, Height, Left, Top, Base int
	// Max is the scale's top value (formatted); Empty when no count.
	Max   string
	Empty bool
	// Legend lists the series, bottom of the stack first.
	Legend []ovLegend
	Days   []ovDay
	Ticks  []ovTick
}

// ovLegend is one series: its label, total and how it is drawn.
type ovLegend struct {
	Key     string
	Other   bool
	Label   string
	Total   string
	Pattern string // the SVG pattern's id
	Color   int
	Mark    string
}

// ovDay is one day's bar: its segments bottom up and its table row.
type ovDay struct {
	X, W      int
	Date, ISO string
	Total     int64
	TotalText string
	Label     string // «6.12: 3 клиента»
	Segments  []ovSegment
	Cells     []string // the series' counts, formatted, in legend order
}

// ovSegment is one series' part of a day's bar.
type ovSegment struct {
	X, Y, W, H int
	Key        string
	Pattern    string
	Count      int64
	Label      string // «6.12, vk_ads: 3 клиента»
}

// ovTick is a date under the bars.
type ovTick struct {
	X    int
	Text string
}

// newOvCharts lays out both charts of oc for a period of days; titles
// names the scenarios (by id; an id without a title is shown as is).
func newOvCharts(lang i18n.Lang, oc postgres.OverviewCharts, days int, titles map[string]string) *ovCharts {
	c := &ovCharts{Days: days}
	for _, p := range ovPeriods {
		c.Periods = append(c.Periods, ovPeriod{Days: p, Label: i18n.Plural(lang, "overview.period", int64(p)),
			Href: "/?days=" + strconv.Itoa(p) + "#ov-daily", Current: p == days})
	}
	c.Sources = newOvStacked(lang, "ov-src", oc.Days, oc.Sources, ovChartText{
		heading: "overview.sources.heading", title: "overview.sources.title", count: "overview.clients",
		none: "overview.chart.none", unit: "overview.sources.unit", empty: "overview.sources.empty"})
	c.Scenarios = newOvStacked(lang, "ov-scn", oc.Days, oc.Scenarios, ovChartText{
		heading: "overview.scenarios.heading", title: "overview.scenarios.title", count: "overview.completions",
		none: "overview.scenarios.none", unit: "overview.scenarios.unit", names: titles})
	return c
}

// ovChartText are the catalog keys of one chart's texts: empty names the
// series whose key is "" (a client without a source); names, when set,
// label series by key (scenario titles).
type ovChartText struct {
	heading, title, count, none, unit, empty string
	names                                    map[string]string
}

// newOvStacked lays out days (oldest first) as stacked bars of d's series
// scaled to the busiest day.
func newOvStacked(lang i18n.Lang, id string, days []time.Time, d postgres.DailySeries, tx ovChartText) ovStacked {
	n := len(days)
	step := ovPlotWidth / max(n, 1)
	bar := min(max(step-max(step/5, 1), 2), ovMaxBar)
	ch := ovStacked{ID: id, Heading: i18n.T(lang, tx.heading), Title: i18n.Plural(lang, tx.title, int64(n)),
		Unit: i18n.T(lang, tx.unit), DayHeader: i18n.T(lang, "overview.daily.day"),
		TableLabel: i18n.T(lang, "overview.chart.table"), Left: ovChartLeft, Top: ovChartTop, Base: ovChartTop + ovChartHeight,
		Width: ovChartLeft + n*step + ovChartRight, Height: ovChartTop + ovChartHeight + ovChartBottom}
	for i, s := range d.Series {
		l := ovLegend{Key: s.Key, Other: s.Other, Total: ovNumber(lang, s.Total), Pattern: id + "-p" + strconv.Itoa(i)}
		switch {
		case s.Other:
			l.Label, l.Color = i18n.T(lang, "overview.chart.other"), ovOtherColor
		case s.Key == "" && tx.empty != "":
			l.Label, l.Color, l.Mark = i18n.T(lang, tx.empty), i%len(ovSeriesMarks), ovSeriesMarks[i%len(ovSeriesMarks)]
		default:
			l.Label, l.Color, l.Mark = s.Key, i%len(ovSeriesMarks), ovSeriesMarks[i%len(ovSeriesMarks)]
			if name := tx.names[s.Key]; name != "" {
				l.Label = name
			}
		}
		ch.Legend = append(ch.Legend, l)
	}
	var top int64
	busiest := -1
	for i, t := range d.Daily {
		if t > top {
			top, busiest = t, i
		}
	}
	ch.Empty = top == 0
	ch.Max = ovNumber(lang, top)
	layout := i18n.T(lang, "overview.chart.day_layout")
	every := 14
	switch {
	case n <= 10:
		every = 1
	case n <= 45:
		every = 7
	}
	for i, day := range days {
		var total int64
		if i < len(d.Daily) {
			total = d.Daily[i]
		}
		x := ovChartLeft + i*step + (step-bar)/2
		date := day.Format(layout)
		od := ovDay{X: x, W: bar, Date: date, ISO: day.Format("2006-01-02"), Total: total,
			TotalText: ovNumber(lang, total), Label: date + ": " + i18n.Plural(lang, tx.count, total)}
		var below int64
		for j, s := range d.Series {
			count := s.Counts[i]
			od.Cells = append(od.Cells, ovNumber(lang, count))
			if count == 0 || top == 0 {
				continue
			}
			// Each segment's top is where the running sum is on the scale,
			// so the segments add up to the day's bar without rounding gaps.
			y0 := ovChartTop + ovChartHeight - int(below*ovChartHeight/top)
			below += count
			y1 := ovChartTop + ovChartHeight - int(below*ovChartHeight/top)
			if y0-y1 < 1 {
				y1 = y0 - 1 // a count is never an invisible segment
			}
			od.Segments = append(od.Segments, ovSegment{X: x, Y: y1, W: bar, H: y0 - y1, Key: s.Key, Pattern: ch.Legend[j].Pattern,
				Count: count, Label: date + ", " + ch.Legend[j].Label + ": " + i18n.Plural(lang, tx.count, count)})
		}
		ch.Days = append(ch.Days, od)
		if (n-1-i)%every == 0 { // back from today
			ch.Ticks = append(ch.Ticks, ovTick{X: x + bar/2, Text: date})
		}
	}
	if ch.Empty {
		ch.Summary = i18n.T(lang, tx.none)
	} else {
		ch.Summary = i18n.T(lang, "overview.chart.summary", i18n.Plural(lang, tx.count, d.Total),
			ch.Days[busiest].Date, i18n.Plural(lang, tx.count, top))
	}
	return ch
}
