package console

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeOverview is a hand-written OverviewStats and CampaignStats.
type fakeOverview struct {
	o         postgres.ClientOverview
	campaigns []broadcast.Campaign
	finished  []broadcast.Campaign
	since     time.Time
	stats     map[int64]broadcast.Stats
	err       error
	statsErr  map[int64]error // Stats fails for these campaigns
	askedLoc  *time.Location
	calls     int
	// askedDays and askedTop are the last OverviewCharts' arguments;
	// chartCalls counts the calls, chartsErr fails them.
	askedDays, askedTop int
	// ghost adds completions of a scenario no bot has ("gone").
	ghost      bool
	chartCalls int
	chartsErr  error
	// noRows makes OverviewCharts count nothing (every day zero).
	noRows bool
}

func (f *fakeOverview) ClientOverview(_ context.Context, now time.Time) (postgres.ClientOverview, error) {
	f.calls++
	return f.o, f.err
}

// OverviewCharts gives the days ending 6 December 2026 (Moscow): new
// clients from vk_ads (4 today, 2 two days ago), site (1 today), without a
// source (1 yesterday), and 3 others (today); completions of portrait (2
// today, 1 a week ago) and feedback (1 today). Days before are zeros.
func (f *fakeOverview) OverviewCharts(_ context.Context, now time.Time, loc *time.Location, days, top int) (postgres.OverviewCharts, error) {
	f.askedLoc, f.askedDays, f.askedTop = loc, days, top
	f.chartCalls++
	if f.chartsErr != nil {
		return postgres.OverviewCharts{}, f.chartsErr
	}
	msk := time.FixedZone("MSK", 3*3600)
	var oc postgres.OverviewCharts
	for i := range days {
		oc.Days = append(oc.Days, time.Date(2026, 12, 6-(days-1)+i, 0, 0, 0, 0, msk))
	}
	// back builds a series from counts by days ago.
	back := func(key string, other bool, byDaysAgo map[int]int64) postgres.Series {
		sr := postgres.Series{Key: key, Other: other, Counts: make([]int64, days)}
		for ago, n := range byDaysAgo {
			if ago < days {
				sr.Counts[days-1-ago] += n
				sr.Total += n
			}
		}
		return sr
	}
	sum := func(series ...postgres.Series) postgres.DailySeries {
		d := postgres.DailySeries{Series: series, Daily: make([]int64, days)}
		for _, sr := range series {
			for i, n := range sr.Counts {
				d.Daily[i] += n
				d.Total += n
			}
		}
		return d
	}
	if f.noRows {
		oc.Sources, oc.Scenarios = sum(), sum()
		return oc, nil
	}
	oc.Sources = sum(back("vk_ads", false, map[int]int64{0: 4, 2: 2}), back("site", false, map[int]int64{0: 1}),
		back("", false, map[int]int64{1: 1}), back("", true, map[int]int64{0: 3}))
	scenarios := []postgres.Series{back("portrait", false, map[int]int64{0: 2, 7: 1}), back("feedback", false, map[int]int64{0: 1})}
	if f.ghost {
		scenarios = append(scenarios, back("gone", false, map[int]int64{3: 1}))
	}
	oc.Scenarios = sum(scenarios...)
	return oc, nil
}

func (f *fakeOverview) ActiveCampaigns(context.Context) ([]broadcast.Campaign, error) {
	return f.campaigns, nil
}

func (f *fakeOverview) FinishedCampaigns(_ context.Context, since time.Time, limit int) ([]broadcast.Campaign, error) {
	f.since = since
	return f.finished[:min(limit, len(f.finished))], nil
}

func (f *fakeOverview) Stats(_ context.Context, id int64) (broadcast.Stats, error) {
	if err := f.statsErr[id]; err != nil {
		return broadcast.Stats{}, err
	}
	return f.stats[id], nil
}

// newFakeOverview has 1 234 567 clients on two platforms, the charts of
// OverviewCharts, 3 open hand-offs, a running campaign named
// <script> with 1 234 of 5 000 sent and a scheduled one.
func newFakeOverview() *fakeOverview {
	f := &fakeOverview{
		o: postgres.ClientOverview{
			Total: postgres.PlatformCounts{Total: 1234567, New: 12, Subscribed: 1000, Blocked: 7},
			Platforms: []postgres.PlatformCounts{
				{Platform: "telegram", Total: 1234000, New: 10, Subscribed: 900, Blocked: 5},
				{Platform: "vk", Total: 567, New: 2, Subscribed: 100, Blocked: 2},
			},
			OpenHandoffs: 3,
		},
		stats: map[int64]broadcast.Stats{7: {Targeted: 5000, Sent: 1234, Queued: 3700, Failed: 66}},
	}
	start := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	f.campaigns = []broadcast.Campaign{
		{ID: 7, Name: "<script>alert(1)</script>", State: broadcast.Running},
		{ID: 8, Name: "Новый год", State: broadcast.Scheduled, StartAt: &start},
	}
	return f
}

func newOverviewConsole(t *testing.T, f *fakeOverview) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: f, Campaigns: f,
		Location: time.FixedZone("MSK", 3*3600)}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

func TestOverviewNumbers(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	auth, h := newOverviewConsole(t, f)
	w := do(h, "GET", "/", auth.Login("manager"), nil, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`data-stat="total">1` + "\u00a0" + `234` + "\u00a0" + `567<`,
		`data-stat="new">12<`, `data-stat="subscribed">1` + "\u00a0" + `000<`, `data-stat="blocked">7<`,
		`data-stat="handoffs">3<`,
		`<th scope="row">ВКонтакте</th><td>567</td><td>2</td><td>100</td><td>2</td>`,
		// the charts: accessible SVGs and their numbers as tables
		`role="img" aria-labelledby="ov-src-title ov-src-desc"`,
		`<title id="ov-src-title">Новые клиенты по источникам за последние 30 дней</title>`,
		`Всего 11 клиентов, больше всего 6.12 — 8 клиентов.`,
		`<th scope="col">День</th><th scope="col">vk_ads</th><th scope="col">site</th><th scope="col">без источника</th><th scope="col">другие</th><th scope="col">Всего новых</th>`,
		`<th scope="row"><time datetime="2026-12-06">6.12</time></th><td>4</td><td>1</td><td>0</td><td>3</td><td>8</td>`,
		`<th scope="row"><time datetime="2026-11-07">7.11</time></th><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td>`,
		`<title id="ov-scn-title">Завершения сценариев за последние 30 дней</title>`,
		`Всего 4 завершения, больше всего 6.12 — 3 завершения.`,
		`<title>6.12, portrait: 2 завершения</title>`,
		`<a href="/?days=30#ov-daily" aria-current="page">30 дней</a>`,
		`<a href="/?days=7#ov-daily">7 дней</a>`,
		// progress from the ledger, exact, linked for a manager; the name escaped
		`отправлено 1` + "\u00a0" + `234 из 5` + "\u00a0" + `000; не доставлено или пропущено 66`,
		`<progress max="5000" value="1300"`,
		`<a href="/campaigns/7">&lt;script&gt;alert(1)&lt;/script&gt;</a>`,
		`начнётся 24.12.2026 09:00 UTC`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a campaign name is not escaped")
	}
	if n := len(regexp.MustCompile(`<g class="ov-day"`).FindAllString(body, -1)); n != 60 {
		t.Errorf("%d bars, want 30 a chart", n)
	}
	// The busiest day's stack fills the scale: vk_ads 4 of 8 is the lower
	// half (y 88 to 168), the others on top up to the scale's top (y 8).
	for _, want := range []string{`y="88" width="16" height="80" fill="url(#ov-src-p0)" data-key="vk_ads" data-count="4"`,
		`y="8" width="16" height="60" fill="url(#ov-src-p3)" data-key="" data-count="3"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the busiest day's stack lacks %s", want)
		}
	}
	if f.askedLoc == nil || f.askedLoc.String() != "MSK" || f.askedDays != 30 || f.askedTop != ovChartSeries {
		t.Errorf("charts asked for %v, %d days, top %d", f.askedLoc, f.askedDays, f.askedTop)
	}
}

// TestOverviewRoles: every role sees Обзор; an operator sees the campaigns'
// progress but no link to the campaign controls.
func TestOverviewRoles(t *testing.T) {
	t.Parallel()
	auth, h := newOverviewConsole(t, newFakeOverview())
	for _, tt := range []struct {
		role  string
		links bool
	}{{"operator", false}, {"manager", true}, {"admin", true}} {
		w := do(h, "GET", "/?lang=en", auth.Login(tt.role), nil, nil)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, "1,234 sent of 5,000") {
			t.Errorf("%s: status %d, progress missing", tt.role, w.Code)
		}
		if got := strings.Contains(body, `href="/campaigns/7"`); got != tt.links {
			t.Errorf("%s: campaign link %v, want %v", tt.role, got, tt.links)
		}
	}
}

func TestOverviewEmptyAndFailing(t *testing.T) {
	t.Parallel()
	f := &fakeOverview{o: postgres.ClientOverview{}, noRows: true}
	auth, h := newOverviewConsole(t, f)
	body := do(h, "GET", "/", auth.Login("operator"), nil, nil).Body.String()
	for _, want := range []string{i18n.T(i18n.Ru, "overview.no_clients"), i18n.T(i18n.Ru, "overview.chart.none"),
		i18n.T(i18n.Ru, "overview.scenarios.none"), i18n.T(i18n.Ru, "overview.campaigns.none"),
		`<th scope="row"><time datetime="2026-12-06">6.12</time></th><td>0</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("empty overview lacks %q", want)
		}
	}
	if strings.Contains(body, `class="ov-seg"`) || strings.Contains(body, `class="ov-legend"`) {
		t.Error("an empty chart has bars or a legend")
	}
	// Failing charts leave the rest of the page.
	f.chartsErr = errors.New("charts down")
	if w := do(h, "GET", "/", auth.Login("operator"), nil, nil); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), i18n.T(i18n.Ru, "overview.charts.failed")) ||
		strings.Contains(w.Body.String(), "charts down") {
		t.Errorf("failing charts: %d", w.Code)
	}
	f.chartsErr = nil
	f.err = errors.New("database down")
	if w := do(h, "GET", "/", auth.Login("operator"), nil, nil); w.Code != http.StatusInternalServerError ||
		strings.Contains(w.Body.String(), "database down") {
		t.Errorf("failing store: %d %q", w.Code, w.Body.String())
	}
}

func TestOvNumber(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n      int64
		ru, en string
	}{{0, "0", "0"}, {999, "999", "999"}, {1000, "1\u00a0000", "1,000"}, {1234567, "1\u00a0234\u00a0567", "1,234,567"},
		{-12345, "-12\u00a0345", "-12,345"}} {
		if got := ovNumber(i18n.Ru, tt.n); got != tt.ru {
			t.Errorf("ru %d = %q", tt.n, got)
		}
		if got := ovNumber(i18n.En, tt.n); got != tt.en {
			t.Errorf("en %d = %q", tt.n, got)
		}
	}
}

// TestOverviewCache: with CacheFor the clients and each period's charts
// are counted once per CacheFor; the page says when.
func TestOverviewCache(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: f, Campaigns: f, CacheFor: 10 * time.Second,
		Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.Login("operator")
	for _, step := range []struct {
		advance time.Duration
		calls   int
		asOf    string
	}{{0, 1, "06.12.2026 09:00"}, {5 * time.Second, 1, "06.12.2026 09:00"}, {6 * time.Second, 2, `datetime="2026-12-06T09:00:11Z"`}} {
		now = now.Add(step.advance)
		body := do(c.Handler(), "GET", "/", tok, nil, nil).Body.String()
		if f.calls != step.calls || !strings.Contains(body, step.asOf) {
			t.Errorf("after %v: %d counts, want %d; as of %q missing", step.advance, f.calls, step.calls, step.asOf)
		}
		if f.chartCalls != step.calls {
			t.Errorf("after %v: %d chart counts, want %d", step.advance, f.chartCalls, step.calls)
		}
	}
	// Another period is counted once too, by itself.
	for range 2 {
		do(c.Handler(), "GET", "/?days=7", tok, nil, nil)
	}
	if f.chartCalls != 3 || f.askedDays != 7 {
		t.Errorf("%d chart counts after a second period twice, want 3", f.chartCalls)
	}
}

// TestOverviewManyCampaigns: at most ovMaxCampaigns campaigns are shown
// (each is a read of its ledger), the rest counted with a link.
func TestOverviewManyCampaigns(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	f.campaigns = nil
	for i := range 13 {
		f.campaigns = append(f.campaigns, broadcast.Campaign{ID: int64(100 + i), Name: "c", State: broadcast.Paused})
	}
	auth, h := newOverviewConsole(t, f)
	body := do(h, "GET", "/", auth.Login("manager"), nil, nil).Body.String()
	if n := strings.Count(body, "<li data-campaign="); n != ovMaxCampaigns {
		t.Errorf("%d campaigns shown, want %d", n, ovMaxCampaigns)
	}
	if !strings.Contains(body, `<a href="/campaigns">и ещё 3 рассылки</a>`) {
		t.Error("the rest are not counted")
	}
}

// TestOverviewFailingCampaignStats: one campaign whose Stats fails is shown
// without its progress; the page and the other campaigns stay.
func TestOverviewFailingCampaignStats(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	f.campaigns = append(f.campaigns, broadcast.Campaign{ID: 9, Name: "Второй", State: broadcast.Running})
	f.stats[9] = broadcast.Stats{Targeted: 10, Sent: 4, Queued: 6}
	f.statsErr = map[int64]error{7: errors.New("database down")}
	auth, h := newOverviewConsole(t, f)
	w := do(h, "GET", "/", auth.Login("manager"), nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	if !strings.Contains(body, `<li data-campaign="7">`) || strings.Contains(body, `<progress max="5000"`) {
		t.Error("the failing campaign is not shown without its progress")
	}
	if !strings.Contains(body, `<progress max="10" value="4"`) || strings.Contains(body, "database down") {
		t.Error("the other campaign lost its progress, or the error leaked")
	}
}

// TestOverviewPeriods: ?days= picks one of the offered periods (others
// fall back to 30 days); the charts then have that many bars, one date
// under each of 7 days and one a week (two weeks) back from today under
// longer periods, and the switch marks the period shown.
func TestOverviewPeriods(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		query       string
		days, ticks int
		current     string
	}{
		{"", 30, 5, `<a href="/?days=30#ov-daily" aria-current="page">30 дней</a>`},
		{"?days=7", 7, 7, `<a href="/?days=7#ov-daily" aria-current="page">7 дней</a>`},
		{"?days=90", 90, 7, `<a href="/?days=90#ov-daily" aria-current="page">90 дней</a>`},
		{"?days=13", 30, 5, `<a href="/?days=30#ov-daily" aria-current="page">30 дней</a>`},
		{"?days=-1", 30, 5, `<a href="/?days=30#ov-daily" aria-current="page">30 дней</a>`},
		{"?days=7&lang=en", 7, 7, `<a href="/?days=7#ov-daily" aria-current="page">7 days</a>`},
	} {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			f := newFakeOverview()
			auth, h := newOverviewConsole(t, f)
			body := do(h, "GET", "/"+tt.query, auth.Login("operator"), nil, nil).Body.String()
			if f.askedDays != tt.days {
				t.Errorf("asked for %d days, want %d", f.askedDays, tt.days)
			}
			if n := strings.Count(body, `<g class="ov-day"`); n != 2*tt.days {
				t.Errorf("%d bars, want %d a chart", n, tt.days)
			}
			if n := strings.Count(body, `<text class="ov-tick"`); n != 2*tt.ticks {
				t.Errorf("%d dates, want %d a chart", n, tt.ticks)
			}
			if !strings.Contains(body, tt.current) || strings.Count(body, `aria-current="page">`) != 2 { // the menu's and the period's
				t.Errorf("the switch does not mark %s", tt.current)
			}
		})
	}
}

// evilSource renames the fake's second source to markup, as a forged deep
// link could (a source is whatever followed /start).
type evilSource struct{ *fakeOverview }

const evilKey = `<img src=x onerror=alert(1)>"'&`

func (e evilSource) OverviewCharts(ctx context.Context, now time.Time, loc *time.Location, days, top int) (postgres.OverviewCharts, error) {
	oc, err := e.fakeOverview.OverviewCharts(ctx, now, loc, days, top)
	oc.Sources.Series[1].Key = evilKey
	return oc, err
}

// TestOverviewChartsEscaped: a source is shown as text everywhere: in the
// bars' titles and attributes, the legend and the table.
func TestOverviewChartsEscaped(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: evilSource{f}, Campaigns: f}})
	if err != nil {
		t.Fatal(err)
	}
	body := do(c.Handler(), "GET", "/", auth.Login("operator"), nil, nil).Body.String()
	if strings.Contains(body, "<img") || strings.Contains(body, `"'&`) {
		t.Fatal("a source's markup is not escaped")
	}
	escaped := `&lt;img src=x onerror=alert(1)&gt;&#34;&#39;&amp;`
	for _, want := range []string{`data-key="` + escaped + `"`, `<title>6.12, ` + escaped + `: 1 клиент</title>`,
		`<th scope="col">` + escaped + `</th>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(body, escaped); n < 4 {
		t.Errorf("the source shown %d times, want bar, legend, table", n)
	}
}

// TestOverviewScenarioTitles: the completions chart names scenarios by
// their titles, an id no bot has by the id.
func TestOverviewScenarioTitles(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	f.ghost = true
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: f, Campaigns: f, Location: time.FixedZone("MSK", 3*3600)},
		Scenarios: ScenarioPages{Catalog: fakeCatalog{bots: []ScenarioBot{{Scenarios: shippedScenarios(t)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	body := do(c.Handler(), "GET", "/", auth.Login("manager"), nil, nil).Body.String()
	for _, want := range []string{`<title>6.12, Знакомство: 2 завершения</title>`, `<th scope="col">Оценка обслуживания</th>`,
		`<th scope="col">gone</th>`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, `<th scope="col">portrait</th>`) {
		t.Error("the chart shows the id of a scenario that has a title")
	}
}

// TestOverviewLanguageKeepsPeriod: the language switch links to the same
// period (?days=), and to the default one without it.
func TestOverviewLanguageKeepsPeriod(t *testing.T) {
	t.Parallel()
	auth, h := newOverviewConsole(t, newFakeOverview())
	tok := auth.Login("manager")
	if body := do(h, "GET", "/?days=7", tok, nil, nil).Body.String(); !strings.Contains(body, `<a href="/?days=7&amp;lang=en" hreflang="en"`) {
		t.Errorf("the switch to English loses ?days=7")
	}
	if body := do(h, "GET", "/?days=90&lang=en", tok, nil, nil).Body.String(); !strings.Contains(body, `<a href="/?days=90&amp;lang=ru" hreflang="ru"`) {
		t.Errorf("the switch to Russian loses ?days=90")
	}
	if body := do(h, "GET", "/", tok, nil, nil).Body.String(); !strings.Contains(body, `<a href="/?lang=en" hreflang="en"`) {
		t.Errorf("the switch to English is not /?lang=en without a period")
	}
}
