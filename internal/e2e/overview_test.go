package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/browsertest"
)

// seedOverview gives the hub 5 clients: 3 this week (2 Telegram, one of
// them today, 1 VK who blocked the bot), 1 ten days ago, 1 before the
// chart; 4 subscribed; 2 open hand-offs of 3; a paused campaign with a
// ledger of 4 rows (2 sent, 1 failed, 1 queued).
func seedOverview(t *testing.T, h *hub) {
	t.Helper()
	db := hubDB(t, h)
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO clients (platform, platform_user_id, first_name, city, age, subscribed, blocked_at, created_at) VALUES
			('telegram', 'o1', 'Анна', 'Москва', 30, true, NULL, now() - interval '1 minute'),
			('telegram', 'o2', 'Борис', 'Москва', 41, true, NULL, now() - interval '3 days'),
			('vk', 'o3', 'Вера', 'Казань', 25, false, now(), now() - interval '4 days'),
			('telegram', 'o4', '<script>alert(1)</script>', 'Самара', 19, true, NULL, now() - interval '10 days'),
			('telegram', 'o5', 'Глеб', 'Москва', 52, true, NULL, now() - interval '40 days')`,
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

// TestOverviewPage: Обзор shows the seeded clients' numbers, the chart of
// 30 days with its numbers as a table, the paused campaign's exact
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
		bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](
			`[...document.querySelectorAll('svg[role=img] rect.ov-bar')].map(r => +r.dataset.count)`))
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, n := range bars {
			sum += n
		}
		if len(bars) != 30 || sum != 4 || bars[29] != 1 {
			t.Errorf("%s chart bars %v: want 30 days, 4 clients, 1 today", lang, bars)
		}
		title, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`document.getElementById(document.querySelector('svg[role=img]').getAttribute('aria-labelledby').split(' ')[0]).textContent`))
		if err != nil || !strings.Contains(title, "30") {
			t.Errorf("%s chart title %q (%v)", lang, title, err)
		}
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
