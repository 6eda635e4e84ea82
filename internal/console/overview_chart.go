package console

import (
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/store/postgres"
)

// The new-clients chart's geometry, in SVG user units: one bar per day,
// room on the left for the scale and below for the dates.
const (
	ovChartBar    = 16
	ovChartGap    = 4
	ovChartLeft   = 44
	ovChartTop    = 8
	ovChartHeight = 140
	ovChartBottom = 24
	ovChartRight  = 24 // room for the last date
)

// ovChart is the server-rendered SVG bar chart of new clients per day,
// with the numbers again as a table for screen readers.
type ovChart struct {
	Width, Height, Left, Top, Base int
	// Title is the chart's accessible name; Summary its description
	// (the total and the busiest day).
	Title, Summary string
	Bars           []ovBar
	// Max is the scale's top value (formatted); Empty when no client came.
	Max   string
	Empty bool
	// Ticks are the date labels under some of the bars.
	Ticks []ovTick
}

// ovBar is one day's bar.
type ovBar struct {
	X, Y, W, H int
	Date       string // «6.12», "Dec 6"
	ISO        string // 2026-12-06
	Count      int64
	Label      string // «6.12: 3 клиента»
	CountText  string
}

// ovTick is a date under the bars.
type ovTick struct {
	X    int
	Text string
}

// newOvChart lays out days (oldest first) as bars scaled to the busiest day.
func newOvChart(lang i18n.Lang, days []postgres.DayCount) ovChart {
	ch := ovChart{Left: ovChartLeft, Top: ovChartTop, Base: ovChartTop + ovChartHeight,
		Width: ovChartLeft + len(days)*(ovChartBar+ovChartGap) + ovChartRight, Height: ovChartTop + ovChartHeight + ovChartBottom,
		Title: i18n.Plural(lang, "overview.chart.title", int64(len(days)))}
	var max, total int64
	busiest := -1
	for i, d := range days {
		total += d.Count
		if d.Count > max {
			max, busiest = d.Count, i
		}
	}
	ch.Empty = max == 0
	ch.Max = ovNumber(lang, max)
	layout := i18n.T(lang, "overview.chart.day_layout")
	for i, d := range days {
		h := 0
		if max > 0 {
			h = int(d.Count * ovChartHeight / max)
			if d.Count > 0 && h < 2 {
				h = 2 // a day with clients is never an invisible bar
			}
		}
		x := ovChartLeft + i*(ovChartBar+ovChartGap)
		date := d.Day.Format(layout)
		b := ovBar{X: x, Y: ovChartTop + ovChartHeight - h, W: ovChartBar, H: h, Date: date,
			ISO: d.Day.Format("2006-01-02"), Count: d.Count, CountText: ovNumber(lang, d.Count)}
		b.Label = date + ": " + i18n.Plural(lang, "overview.clients", d.Count)
		ch.Bars = append(ch.Bars, b)
		if (len(days)-1-i)%7 == 0 { // every week back from today
			ch.Ticks = append(ch.Ticks, ovTick{X: x + ovChartBar/2, Text: date})
		}
	}
	if ch.Empty {
		ch.Summary = i18n.T(lang, "overview.chart.none")
	} else {
		ch.Summary = i18n.T(lang, "overview.chart.summary", i18n.Plural(lang, "overview.clients", total),
			ch.Bars[busiest].Date, i18n.Plural(lang, "overview.clients", max))
	}
	return ch
}
