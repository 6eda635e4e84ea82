package console

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/store/postgres"
)

// OverviewStats is what Обзор reads of the store (*postgres.Store): the
// clients' counts and the campaigns under way.
type OverviewStats interface {
	// ClientOverview counts the clients as of now.
	ClientOverview(ctx context.Context, now time.Time) (postgres.ClientOverview, error)
	// ActiveCampaigns lists the scheduled, running and paused campaigns.
	ActiveCampaigns(ctx context.Context) ([]broadcast.Campaign, error)
	// FinishedCampaigns lists up to limit campaigns done or cancelled
	// since, the latest first.
	FinishedCampaigns(ctx context.Context, since time.Time, limit int) ([]broadcast.Campaign, error)
	// OverviewCharts counts the new clients by source and the scenario
	// completions by scenario on each of the days ending today in loc,
	// the top keys named and the rest summed.
	OverviewCharts(ctx context.Context, now time.Time, loc *time.Location, days, top int) (postgres.OverviewCharts, error)
}

// CampaignStats gives a campaign's exact counts from its ledger
// (*broadcast.Service).
type CampaignStats interface {
	Stats(ctx context.Context, id int64) (broadcast.Stats, error)
}

// OverviewPages is what Обзор needs beyond the session: its numbers. The
// zero value shows a page without numbers.
type OverviewPages struct {
	// Stats counts clients and lists the campaigns under way.
	Stats OverviewStats
	// Campaigns gives each campaign's progress.
	Campaigns CampaignStats
	// Location is the time zone of the chart's days (DEFAULT_TIMEZONE).
	// Default UTC.
	Location *time.Location
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// CacheFor keeps the clients' counts (not the campaigns' progress,
	// which is always read from the ledger) this long, so a dashboard
	// open in many tabs costs the database one count per period. Default
	// 0: counted on every request.
	CacheFor time.Duration

	cache *ovCache
}

// ovCache holds the last counts; the mutex is held while counting, so
// concurrent requests that find them stale wait for one count.
type ovCache struct {
	mu sync.Mutex
	o  postgres.ClientOverview
	at time.Time
	// charts are the charts' counts by period (days).
	charts map[int]ovChartsEntry
}

// ovChartsEntry is one period's charts and when they were counted.
type ovChartsEntry struct {
	c  postgres.OverviewCharts
	at time.Time
}

// clientOverview is the clients' counts as of now, from the cache while it
// is fresh; at is when they were counted.
func (p *OverviewPages) clientOverview(ctx context.Context, now time.Time) (o postgres.ClientOverview, at time.Time, err error) {
	if p.CacheFor <= 0 || p.cache == nil {
		o, err = p.Stats.ClientOverview(ctx, now)
		return o, now, err
	}
	p.cache.mu.Lock()
	defer p.cache.mu.Unlock()
	if !p.cache.at.IsZero() && now.Sub(p.cache.at) < p.CacheFor && now.Sub(p.cache.at) >= 0 {
		return p.cache.o, p.cache.at, nil
	}
	if o, err = p.Stats.ClientOverview(ctx, now); err != nil {
		return o, now, err
	}
	p.cache.o, p.cache.at = o, now
	return o, now, nil
}

// overviewCharts is the charts' counts for days ending now, from the
// cache while they are fresh.
func (p *OverviewPages) overviewCharts(ctx context.Context, now time.Time, loc *time.Location, days int) (postgres.OverviewCharts, error) {
	if p.CacheFor <= 0 || p.cache == nil {
		return p.Stats.OverviewCharts(ctx, now, loc, days, ovChartSeries)
	}
	p.cache.mu.Lock()
	defer p.cache.mu.Unlock()
	if e, ok := p.cache.charts[days]; ok && now.Sub(e.at) < p.CacheFor && now.Sub(e.at) >= 0 {
		return e.c, nil
	}
	c, err := p.Stats.OverviewCharts(ctx, now, loc, days, ovChartSeries)
	if err != nil {
		return c, err
	}
	if p.cache.charts == nil {
		p.cache.charts = map[int]ovChartsEntry{}
	}
	p.cache.charts[days] = ovChartsEntry{c: c, at: now}
	return c, nil
}

// ovMaxCampaigns is how many campaigns under way Обзор shows (each one's
// progress is a read of its ledger); the rest are counted with a link to
// Рассылки.
const ovMaxCampaigns = 10

// overviewRoutes registers Обзор's routes beyond the page itself.
func (c *Console) overviewRoutes(mux *http.ServeMux) {
	c.cfg.Overview.cache = &ovCache{}
}

// overviewView is Обзор's data; Ready is false when the console has no
// numbers to show (OverviewPages not configured).
type overviewView struct {
	Ready     bool
	Total     ovCounts
	Platforms []ovCounts
	// Charts are the day-by-day charts of the chosen period; nil (and
	// logged) when counting them failed, so the page still shows the rest.
	Charts    *ovCharts
	Campaigns []ovCampaign
	// Finished are the campaigns finished lately, with their results
	// (overview_finished.go).
	Finished []tourFinishedCampaign
	// Handoffs is the number of open hand-off requests, formatted.
	Handoffs    string
	HandoffsNum int64
	// MoreCampaigns counts the campaigns under way beyond ovMaxCampaigns.
	MoreCampaigns int64
	// AsOf is when the clients were counted (AsOfISO for <time>).
	AsOf, AsOfISO string
	// Links is true when the user may open campaigns (managers, admins).
	Links bool
	// Inbox is the hand-off tile (open requests, over the SLA, time to the
	// first reply); nil without the hand-off service.
	Inbox *ovInbox
}

// ovInbox is Обзор's hand-off tile, numbers formatted.
type ovInbox struct {
	Open, Waiting, OverSLA string
	OverSLANum             int64
	P50, P90               string
	Replies                int64
	SLA                    string
	Days                   int64
}

// overviewInbox reads the hand-off numbers for Обзор's tile; nil (and
// logged) when the service fails, so the page still shows the rest.
func (c *Console) overviewInbox(ctx context.Context, lang i18n.Lang, now time.Time) *ovInbox {
	h := c.cfg.Handoffs
	if h == nil {
		return nil
	}
	st, err := h.Stats(ctx, now.Add(-handoffStatsPeriod))
	if err != nil {
		c.cfg.Logger.Error("console: overview hand-off stats", "err", err)
		return nil
	}
	t := &ovInbox{Open: ovNumber(lang, int64(st.Open)), Waiting: ovNumber(lang, int64(st.Waiting)),
		OverSLA: ovNumber(lang, int64(st.OverSLA)), OverSLANum: int64(st.OverSLA),
		Replies: int64(st.Overall.Count), SLA: waitingText(lang, h.SLA()), Days: int64(handoffStatsPeriod / (24 * time.Hour))}
	if st.Overall.Count > 0 {
		t.P50, t.P90 = waitingText(lang, st.Overall.P50), waitingText(lang, st.Overall.P90)
	}
	return t
}

// ovCounts is one row of the clients' counts, numbers formatted.
type ovCounts struct {
	Platform, Label                 string
	Total, New, Subscribed, Blocked string
}

// ovCampaign is one campaign under way.
type ovCampaign struct {
	ID                      int64
	Name, State, StateLabel string
	Progress                string // «отправлено 1 234 из 5 000»
	Done, Targeted          int64
	Percent                 int
	// Scheduled is true for a campaign not started; StartsAt says when.
	Scheduled bool
	StartsAt  string
	Failed    string
}

// overview is Обзор.
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	p := c.cfg.Overview
	if p.Stats == nil {
		c.render(w, r, http.StatusOK, "overview", "overview.title", overviewView{})
		return
	}
	lang := langOf(r.Context())
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	o, at, err := c.cfg.Overview.clientOverview(r.Context(), now())
	if err != nil {
		c.cfg.Logger.Error("console: overview counts", "err", err)
		c.serverError(w, r)
		return
	}
	active, err := p.Stats.ActiveCampaigns(r.Context())
	if err != nil {
		c.cfg.Logger.Error("console: overview campaigns", "err", err)
		c.serverError(w, r)
		return
	}
	v := overviewView{Ready: true, Total: ovCountsOf(lang, o.Total),
		Handoffs: ovNumber(lang, o.OpenHandoffs), HandoffsNum: o.OpenHandoffs,
		AsOf: at.UTC().Format(i18n.T(lang, "overview.time_layout")), AsOfISO: at.UTC().Format(time.RFC3339),
		Links: userFrom(r.Context()).Role.AtLeast(account.RoleManager)}
	days := ovPeriodOf(r.URL.Query())
	if oc, err := p.overviewCharts(r.Context(), now(), loc, days); err != nil {
		c.cfg.Logger.Error("console: overview charts", "days", days, "err", err)
	} else {
		v.Charts = newOvCharts(lang, oc, days, c.scenarioTitles(r.Context()))
	}
	v.Finished = c.tourFinished(r.Context(), lang, loc, now())
	if v.Links {
		v.Inbox = c.overviewInbox(r.Context(), lang, now())
	}
	for _, pc := range o.Platforms {
		v.Platforms = append(v.Platforms, ovCountsOf(lang, pc))
	}
	if len(active) > ovMaxCampaigns {
		v.MoreCampaigns = int64(len(active) - ovMaxCampaigns)
		active = active[:ovMaxCampaigns]
	}
	// A campaign whose statistics fail is shown without its progress: one
	// failing Stats call does not take Обзор down (logged once a page).
	var failed []int64
	var firstErr error
	for _, camp := range active {
		oc, err := c.overviewCampaign(r.Context(), lang, loc, camp)
		if err != nil {
			failed = append(failed, camp.ID)
			if firstErr == nil {
				firstErr = err
			}
			oc = ovCampaign{ID: camp.ID, Name: camp.Name, State: string(camp.State),
				StateLabel: ovLabel(lang, "overview.state.", string(camp.State))}
		}
		v.Campaigns = append(v.Campaigns, oc)
	}
	if firstErr != nil {
		c.cfg.Logger.Error("console: overview campaign stats", "campaigns", failed, "err", firstErr)
	}
	c.render(w, r, http.StatusOK, "overview", "overview.title", v)
}

// overviewCampaign is camp with its progress from the ledger (none asked for a
// scheduled campaign: its ledger is empty until it starts).
func (c *Console) overviewCampaign(ctx context.Context, lang i18n.Lang, loc *time.Location, camp broadcast.Campaign) (ovCampaign, error) {
	oc := ovCampaign{ID: camp.ID, Name: camp.Name, State: string(camp.State),
		StateLabel: ovLabel(lang, "overview.state.", string(camp.State))}
	if camp.State == broadcast.Scheduled {
		oc.Scheduled = true
		if camp.StartAt != nil {
			oc.StartsAt = camp.StartAt.UTC().Format(i18n.T(lang, "overview.time_layout"))
		}
		return oc, nil
	}
	if c.cfg.Overview.Campaigns == nil {
		return oc, nil
	}
	st, err := c.cfg.Overview.Campaigns.Stats(ctx, camp.ID)
	if err != nil {
		return oc, err
	}
	oc.Targeted = int64(st.Targeted)
	oc.Done = int64(st.Targeted - st.Queued)
	if st.Targeted > 0 {
		oc.Percent = int(oc.Done * 100 / oc.Targeted)
	}
	oc.Progress = i18n.T(lang, "overview.campaign.progress", ovNumber(lang, int64(st.Sent)), ovNumber(lang, oc.Targeted))
	if st.Failed+st.Blocked+st.Skipped > 0 {
		oc.Failed = i18n.T(lang, "overview.campaign.not_sent", ovNumber(lang, int64(st.Failed+st.Blocked+st.Skipped)))
	}
	return oc, nil
}

// ovCountsOf formats one row of counts; the platform's label comes from
// the catalog ("overview.platform.telegram"), raw when it has none.
func ovCountsOf(lang i18n.Lang, p postgres.PlatformCounts) ovCounts {
	return ovCounts{Platform: string(p.Platform), Label: ovLabel(lang, "overview.platform.", string(p.Platform)),
		Total: ovNumber(lang, p.Total), New: ovNumber(lang, p.New),
		Subscribed: ovNumber(lang, p.Subscribed), Blocked: ovNumber(lang, p.Blocked)}
}

// ovLabel is the catalog's label prefix+value, or value when it has none.
func ovLabel(lang i18n.Lang, prefix, value string) string {
	if i18n.Has(lang, prefix+value) {
		return i18n.T(lang, prefix+value)
	}
	return value
}

// ovNumber formats n with the language's digit groups: «1 234 567» (a
// no-break space) in Russian, "1,234,567" in English.
func ovNumber(lang i18n.Lang, n int64) string {
	return i18n.Number(lang, n)
}

// scenarioTitles are the titles of every bot's scenarios by id (the first
// bot's, when two bots title one id differently); nil without scenarios.
func (c *Console) scenarioTitles(ctx context.Context) map[string]string {
	if c.cfg.Scenarios.Catalog == nil {
		return nil
	}
	out := map[string]string{}
	for _, b := range c.cfg.Scenarios.Catalog.ScenarioBots(ctx) {
		for _, g := range b.Scenarios {
			if _, ok := out[g.ID]; !ok && g.Title != "" {
				out[g.ID] = g.Title
			}
		}
	}
	return out
}
