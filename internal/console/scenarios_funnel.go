package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// ScenarioFunnels computes scenario funnels (*funnel.Service, the same
// service as `chathub funnel` and GET /api/scenarios/{id}/funnel).
type ScenarioFunnels interface {
	Funnel(ctx context.Context, q funnel.Query) (*funnel.Report, error)
}

// funnelPeriods are the periods the page offers (funnel.ParsePeriod's
// form); the first is the default.
var funnelPeriods = []string{funnel.DefaultPeriod, "24h", "30d", "90d", "all"}

// funnelPlatforms are the platforms the page filters by ("" is all).
var funnelPlatforms = []messenger.Platform{"", messenger.Telegram, messenger.VK, messenger.Terminal}

// funnelView is the data of a scenario's Воронка page.
type funnelView struct {
	ID, Title, Bot          string
	ScenarioHref, Action    string
	Period, Version, Source string
	Platform                string
	Periods, Platforms      []funnelOption
	Versions                []funnelOption
	// Bots are the bots that have the scenario, offered as a filter when
	// there are several (the bot chooses the file: steps and order).
	Bots []funnelOption
	// BadPeriod is set when ?since= did not parse (the default was used).
	BadPeriod bool
	Rows      []funnelRowView
	// Started is how many conversations entered the start step.
	Started int64
	// AsOf is when the counts were taken (HH:MM), "" when live.
	AsOf string
	// Legend says what stuck and dropped mean, with the waiting window
	// (STATE_TTL).
	Legend string
}

// funnelOption is one <option> of a filter.
type funnelOption struct {
	Value, Label string
	Selected     bool
}

// funnelRowView is one step of the table.
type funnelRowView struct {
	Step              string
	Question, Removed bool
	Entered, Answered int64
	Stuck, Dropped    int64
	Reminded, Back    int64
	OfStart, OfPrev   string
	Median            string
	// StuckHref and DroppedHref list those clients (Клиенты filtered by
	// stuck(...) / dropped(...) with the page's filters, so the list is
	// the conversations counted); the Save hrefs open those lists with
	// their "save as segment" form.
	StuckHref, DroppedHref         string
	StuckSaveHref, DroppedSaveHref string
}

// scenarioFunnel is Сценарии → a scenario → Воронка.
func (c *Console) scenarioFunnel(w http.ResponseWriter, r *http.Request) {
	b, g, ok := c.findScenario(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	lang := langOf(r.Context())
	q := r.URL.Query()
	v := funnelView{ID: g.ID, Title: g.Title, Bot: b.Name, ScenarioHref: scenarioHref(b.Name, g.ID, ""),
		Action: "/scenarios/" + url.PathEscape(g.ID) + "/funnel", Period: q.Get("since"),
		Version: q.Get("version"), Source: q.Get("source"), Platform: q.Get("platform")}
	if v.Period == "" {
		v.Period = funnelPeriods[0]
	}
	period, err := funnel.ParsePeriod(v.Period)
	if err != nil {
		v.BadPeriod, v.Period = true, funnelPeriods[0]
		period, _ = funnel.ParsePeriod(v.Period)
	}
	if !messenger.Platform(v.Platform).Valid() {
		v.Platform = ""
	}
	for _, p := range funnelPeriods {
		v.Periods = append(v.Periods, funnelOption{Value: p, Label: i18n.T(lang, "funnel.period."+p), Selected: p == v.Period})
	}
	for _, p := range funnelPlatforms {
		label := i18n.T(lang, "funnel.platform.all")
		if p != "" {
			label = string(p)
		}
		v.Platforms = append(v.Platforms, funnelOption{Value: string(p), Label: label, Selected: string(p) == v.Platform})
	}
	rep, err := c.cfg.Scenarios.Funnels.Funnel(r.Context(), funnel.Query{Scenario: g.ID, Bot: b.Name, Period: period,
		Version: v.Version, Platform: v.Platform, Source: v.Source})
	if errors.Is(err, funnel.ErrUnknownScenario) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.cfg.Logger.Error("console: funnel", "scenario", g.ID, "err", err)
		c.serverError(w, r)
		return
	}
	v.Started = int64(rep.Started)
	v.Legend = i18n.T(lang, "funnel.legend", periodText(lang, rep.OpenFor))
	if !rep.AsOf.IsZero() {
		v.AsOf = rep.AsOf.Local().Format("15:04")
	}
	v.Versions = versionOptions(lang, rep, v.Version)
	if len(rep.Bots) > 1 {
		for _, name := range rep.Bots {
			label := name
			if name == "" {
				label = i18n.T(lang, "scenarios.bot.default")
			}
			v.Bots = append(v.Bots, funnelOption{Value: name, Label: label, Selected: name == b.Name})
		}
	}
	f := segment.VisitFilter{Version: v.Version, Platform: v.Platform, Source: v.Source}
	if period > 0 {
		f.Since = fmt.Sprintf("ago(%q)", v.Period)
	}
	for _, s := range rep.Steps {
		v.Rows = append(v.Rows, newFunnelRow(lang, g.ID, s, f))
	}
	c.render(w, r, http.StatusOK, "funnel", "funnel.title", v)
}

// newFunnelRow formats one step; f is the page's choice of conversations.
func newFunnelRow(lang i18n.Lang, id string, s funnel.Step, f segment.VisitFilter) funnelRowView {
	row := funnelRowView{Step: s.ID, Question: s.Question, Removed: s.Removed, Entered: int64(s.Entered),
		Answered: int64(s.Answered), Stuck: int64(s.Stuck), Dropped: int64(s.Dropped), Reminded: int64(s.Reminded),
		Back: int64(s.CameBack), OfStart: percentText(lang, s.OfStart), OfPrev: percentText(lang, s.OfPrevious), Median: "—"}
	if s.Question && s.Answered > 0 {
		row.Median = duration(lang, s.MedianAnswer)
	}
	row.StuckHref = "/clients?segment=" + url.QueryEscape(fmt.Sprintf("stuck(%q, %q%s)", id, s.ID, f.Args()))
	row.StuckSaveHref = row.StuckHref + "&save=1"
	row.DroppedHref = "/clients?segment=" + url.QueryEscape(fmt.Sprintf("dropped(%q, %q%s)", id, s.ID, f.Args()))
	row.DroppedSaveHref = row.DroppedHref + "&save=1"
	return row
}

// percentText is p with one decimal and a percent sign; "—" for -1 (no
// base to compare with).
func percentText(lang i18n.Lang, p float64) string {
	if p < 0 {
		return "—"
	}
	return decimal(lang, p) + " %"
}

// versionOptions are the version filter's options: all versions, then
// each version that ran, newest first (the current one marked), and the
// asked-for version when no record has it.
func versionOptions(lang i18n.Lang, rep *funnel.Report, chosen string) []funnelOption {
	out := []funnelOption{{Value: "", Label: i18n.T(lang, "funnel.version.all"), Selected: chosen == ""}}
	seen := false
	for _, v := range rep.Versions {
		label := i18n.T(lang, "funnel.version.since", v.Version, v.Since.UTC().Format(i18n.T(lang, "funnel.date_layout")))
		if v.Version == rep.Current {
			label = i18n.T(lang, "funnel.version.current", v.Version)
		}
		out = append(out, funnelOption{Value: v.Version, Label: label, Selected: v.Version == chosen})
		seen = seen || v.Version == chosen
	}
	if chosen != "" && !seen {
		out = append(out, funnelOption{Value: chosen, Label: chosen, Selected: true})
	}
	return out
}
