package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/browsertest"
)

// seedOverview gives the hub 5 clients: 3 this week (2 Telegram, one of
// them today, 1 VK who blocked the bot), 1 ten days ago, 1 forty days ago
// (before the 30-day charts, inside the 90-day ones); 4 subscribed; by
// source vk_ads (today, 3 and 40 days ago), site (4 days ago) and none (10
// days ago); 3 completions: portrait today and 3 days ago, feedback today;
// 2 open hand-offs of 3; a paused campaign with a ledger of 4 rows (2
// sent, 1 failed, 1 queued). The days are Moscow's (DEFAULT_TIMEZONE).
func seedOverview(t *testing.T, h *hub) {
	t.Helper()
	db := hubDB(t, h)
	ctx := context.Background()
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(msk)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, msk)
	// ago is noon daysAgo days back; today is a minute ago, but not before
	// today's midnight.
	ago := func(daysAgo int) time.Time { return midnight.AddDate(0, 0, -daysAgo).Add(12 * time.Hour) }
	today := now.Add(-time.Minute)
	if today.Before(midnight) {
		today = midnight
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO clients (platform, platform_user_id, first_name, city, age, subscribed, blocked_at, source, created_at) VALUES
			('telegram', 'o1', 'Анна', 'Москва', 30, true, NULL, 'vk_ads', $1),
			('telegram', 'o2', 'Борис', 'Москва', 41, true, NULL, 'vk_ads', $2),
			('vk', 'o3', 'Вера', 'Казань', 25, false, now(), 'site', $3),
			('telegram', 'o4', '<script>alert(1)</script>', 'Самара', 19, true, NULL, '', $4),
			('telegram', 'o5', 'Глеб', 'Москва', 52, true, NULL, 'vk_ads', $5)`,
		today, ago(3), ago(4), ago(10), ago(40)); err != nil {
		t.Fatalf("seed clients: %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO completions (client_id, scenario, step, created_at)
		SELECT id, CASE platform_user_id WHEN 'o3' THEN 'feedback' ELSE 'portrait' END, 'done',
			CASE platform_user_id WHEN 'o2' THEN $1::timestamptz ELSE $2::timestamptz END
		FROM clients WHERE platform_user_id IN ('o1', 'o2', 'o3')`, ago(3), today); err != nil {
		t.Fatalf("seed completions: %v", err)
	}
	stmts := []string{
		`INSERT INTO client_tags (client_id, tag) SELECT id, 'vip' FROM clients WHERE platform_user_id IN ('o1', 'o4')`,
		`INSERT INTO handoffs (client_id, status) SELECT id, CASE WHEN platform_user_id = 'o2' THEN 'closed' ELSE 'open' END
			FROM clients WHERE platform_user_id IN ('o1', 'o2', 'o3')`,
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	c, err := h.stores.CRM.CreateCampaign(ctx, broadcast.Campaign{Name: "Весна <b>", Segment: `city == "Москва"`,
		Text: "Привет", State: broadcast.Paused})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO deliveries (campaign_id, client_id, platform, platform_user_id, status, reason)
		SELECT $1, id, platform, platform_user_id,
			CASE platform_user_id WHEN 'o1' THEN 'sent' WHEN 'o2' THEN 'sent' WHEN 'o3' THEN 'failed' ELSE 'queued' END,
			CASE platform_user_id WHEN 'o3' THEN 'bad_request' ELSE '' END
		FROM clients WHERE platform_user_id IN ('o1', 'o2', 'o3', 'o4')`, c.ID); err != nil {
		t.Fatalf("seed the ledger: %v", err)
	}
}

// stat reads the number Обзор shows under data-stat=name.
func stat(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-stat="`+name+`"]`)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOverviewPage: Обзор shows the seeded clients' numbers, the charts
// of new clients by source and completions by scenario with their numbers
// as tables (checkOverviewCharts), the paused campaign's exact
// progress and the open hand-offs, in both languages, passing axe; an
// operator sees the same numbers without a link to the campaign.
func TestOverviewPage(t *testing.T) {
	h := startHub(t, nil)
	seedOverview(t, h)
	for _, lang := range []string{"ru", "en"} {
		ctx := h.signIn(t, "admin", lang)
		p := browsertest.ReadPage(t, ctx)
		if p.Path != "/" || p.H1 != map[string]string{"ru": "Обзор", "en": "Overview"}[lang] {
			t.Fatalf("%s: %+v", lang, p)
		}
		for name, want := range map[string]string{"total": "5", "new": "3", "subscribed": "4", "blocked": "1", "handoffs": "2"} {
			if got := stat(t, ctx, name); got != want {
				t.Errorf("%s %s = %q, want %q", lang, name, got, want)
			}
		}
		checkOverviewCharts(t, ctx, lang)
		progress := map[string]string{"ru": "отправлено 2 из 4; не доставлено или пропущено 1", "en": "2 sent of 4; 1 not delivered or skipped"}[lang]
		if !strings.Contains(p.Text, progress) || !strings.Contains(p.Text, "Весна <b>") {
			t.Errorf("%s: campaign progress %q missing in %q", lang, progress, p.Text)
		}
		browsertest.Run(t, ctx, chromedp.WaitVisible(`//a[@href="/campaigns/1" or starts-with(@href,"/campaigns/")][contains(., "Весна")]`))
		browsertest.ScanAccessibility(t, ctx, lang+" /")
		browsertest.Screenshot(t, ctx, "overview-"+lang)
	}
	op := h.signIn(t, "operator", "ru")
	if got := stat(t, op, "total"); got != "5" {
		t.Errorf("operator total = %q", got)
	}
	links, err := chromedp.Run(op, chromedp.Evaluate[int](`document.querySelectorAll('main a[href^="/campaigns/"]').length`))
	if err != nil || links != 0 {
		t.Errorf("operator sees %d campaign links (%v)", links, err)
	}
}

// overviewChart is what a person reads of one of Обзор's charts: its
// legend, its table (once opened) and, for the check against the picture,
// the counts the bars stand for.
type overviewChart struct {
	Name    string     `json:"name"`    // the SVG's accessible name (its <title>)
	Legend  []string   `json:"legend"`  // «vk_ads 2»
	Visible bool       `json:"visible"` // the table is shown
	Head    []string   `json:"head"`
	Rows    [][]string `json:"rows"`
	Bars    int        `json:"bars"`  // the sum of the bars' segments
	Today   int        `json:"today"` // today's bar
	Width   float64    `json:"width"` // the figure's width in CSS px
	SVGW    float64    `json:"svgw"`  // the chart's drawn width
}

// readOverviewChart opens the table of the chart under the heading (by
// its visible «Таблица»/"Table") and reads the chart.
func readOverviewChart(t *testing.T, ctx context.Context, heading, table string) overviewChart {
	t.Helper()
	figure := fmt.Sprintf(`//figure[.//h3[normalize-space()=%q]]`, heading)
	summary := figure + fmt.Sprintf(`//summary[starts-with(normalize-space(), %q)]`, table)
	browsertest.Run(t, ctx, chromedp.WaitVisible(summary))
	open := evaluate[bool](t, ctx, fmt.Sprintf(`document.evaluate(%q, document, null, 9, null).singleNodeValue.closest('details').open`, summary))
	if !open {
		browsertest.Run(t, ctx, chromedp.Click(summary))
	}
	browsertest.Run(t, ctx, chromedp.WaitVisible(figure+`//table`))
	raw := evaluate[string](t, ctx, fmt.Sprintf(`(() => {
		const f = document.evaluate(%q, document, null, 9, null).singleNodeValue;
		const svg = f.querySelector('svg[role=img]'), t = f.querySelector('table');
		const days = [...svg.querySelectorAll('g[data-day]')];
		return JSON.stringify({
			name: document.getElementById(svg.getAttribute('aria-labelledby').split(' ')[0]).textContent,
			legend: [...f.querySelectorAll('ul li')].map(li => li.innerText.trim().replace(/\s+/g, ' ')),
			visible: t.getClientRects().length > 0,
			head: [...t.tHead.rows[0].cells].map(c => c.innerText.trim()),
			rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim())),
			bars: [...svg.querySelectorAll('rect[data-count]')].reduce((a, r) => a + +r.dataset.count, 0),
			today: +days[days.length - 1].dataset.total,
			width: f.getBoundingClientRect().width,
			svgw: svg.getBoundingClientRect().width,
		});
	})()`, figure))
	var c overviewChart
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// column is the table's column named name, as numbers (0 for a cell that
// is not one).
func (c overviewChart) column(name string) []int {
	i := -1
	for j, h := range c.Head {
		if h == name {
			i = j
		}
	}
	if i < 0 {
		return nil
	}
	out := make([]int, len(c.Rows))
	for r, row := range c.Rows {
		out[r], _ = strconv.Atoi(strings.ReplaceAll(strings.ReplaceAll(row[i], "\u00a0", ""), ",", ""))
	}
	return out
}

func sum(ns []int) int {
	n := 0
	for _, v := range ns {
		n += v
	}
	return n
}

// checkOverviewCharts reads both charts of the seeded hub by their visible
// labels in lang, for 30 days and then 90, checks their numbers against
// the seed (legend, table, bars), scans the page with the tables open and,
// in a 390 px window, checks that the charts fit.
func checkOverviewCharts(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	l := map[string]map[string]string{
		"ru": {"sources": "Новые клиенты по источникам", "scenarios": "Завершения сценариев", "table": "Таблица",
			"none": "без источника", "new": "Всего новых", "done": "Всего завершений", "day": "День", "90": "90 дней", "30": "30 дней",
			"name": "Новые клиенты по источникам за последние 30 дней"},
		"en": {"sources": "New clients by source", "scenarios": "Scenario completions", "table": "Table",
			"none": "no source", "new": "All new", "done": "All completions", "day": "Day", "90": "90 days", "30": "30 days",
			"name": "New clients by source in the last 30 days"},
	}[lang]
	src := readOverviewChart(t, ctx, l["sources"], l["table"])
	if src.Name != l["name"] || !src.Visible || len(src.Rows) != 30 {
		t.Errorf("%s sources chart %q, table shown %v with %d rows; want %q, 30 days", lang, src.Name, src.Visible, len(src.Rows), l["name"])
	}
	if want := []string{"vk_ads 2", l["none"] + " 1", "site 1"}; strings.Join(src.Legend, "|") != strings.Join(want, "|") {
		t.Errorf("%s sources legend %q, want %q", lang, src.Legend, want)
	}
	if want := []string{l["day"], "vk_ads", l["none"], "site", l["new"]}; strings.Join(src.Head, "|") != strings.Join(want, "|") {
		t.Errorf("%s sources table head %q, want %q", lang, src.Head, want)
	}
	vk, total := src.column("vk_ads"), src.column(l["new"])
	if len(vk) != 30 || vk[29] != 1 || vk[26] != 1 || sum(vk) != 2 || sum(src.column("site")) != 1 || src.column("site")[25] != 1 ||
		src.column(l["none"])[19] != 1 || sum(total) != 4 || total[29] != 1 {
		t.Errorf("%s sources table: vk_ads %v, total %v", lang, vk, total)
	}
	if src.Bars != 4 || src.Today != 1 {
		t.Errorf("%s sources bars add up to %d, today %d; want 4 and 1", lang, src.Bars, src.Today)
	}
	scn := readOverviewChart(t, ctx, l["scenarios"], l["table"])
	done := scn.column(l["done"])
	// Scenarios are named by their titles (portrait is «Знакомство»).
	if strings.Join(scn.Legend, "|") != "Знакомство 2|Оценка обслуживания 1" || len(done) != 30 || done[29] != 2 || done[26] != 1 ||
		sum(done) != 3 || scn.column("Оценка обслуживания")[29] != 1 || scn.Bars != 3 || scn.Today != 2 {
		t.Errorf("%s completions: legend %q, total per day %v, bars %d, today %d", lang, scn.Legend, done, scn.Bars, scn.Today)
	}
	browsertest.ScanAccessibility(t, ctx, lang+" / with the charts' tables open")

	// 90 days: the client of 40 days ago is in.
	browsertest.Run(t, ctx, chromedp.Click(fmt.Sprintf(`//nav//a[normalize-space()=%q]`, l["90"])),
		chromedp.WaitVisible(fmt.Sprintf(`//nav//a[@aria-current="page"][normalize-space()=%q]`, l["90"])))
	src = readOverviewChart(t, ctx, l["sources"], l["table"])
	if len(src.Rows) != 90 || src.Legend[0] != "vk_ads 3" || sum(src.column(l["new"])) != 5 || src.column("vk_ads")[49] != 1 || src.Bars != 5 {
		t.Errorf("%s 90 days: %d rows, legend %q, total %d, bars %d", lang, len(src.Rows), src.Legend, sum(src.column(l["new"])), src.Bars)
	}
	browsertest.Screenshot(t, ctx, "overview-charts-"+lang)

	// A phone: the charts fit the window, the page does not scroll sideways.
	browsertest.Run(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload())
	for _, h := range []string{l["sources"], l["scenarios"]} {
		c := readOverviewChart(t, ctx, h, l["table"])
		if c.Width > 390 || c.SVGW > c.Width || c.SVGW < 300 {
			t.Errorf("%s %s at 390 px: figure %.0f px, chart %.0f px", lang, h, c.Width, c.SVGW)
		}
	}
	if w := evaluate[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("%s Обзор at 390 px scrolls sideways: %d px", lang, w)
	}
	browsertest.ScanAccessibility(t, ctx, lang+" / at 390 px")
	browsertest.Screenshot(t, ctx, "overview-charts-narrow-"+lang)
	browsertest.Run(t, ctx, chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(strings.TrimSuffix(evaluate[string](t, ctx, `location.origin`), "/")+"/"),
		chromedp.WaitVisible(fmt.Sprintf(`//nav//a[@aria-current="page"][normalize-space()=%q]`, l["30"])))
}
