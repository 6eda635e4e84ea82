package console

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/console/consoletest"
)

// TestBrowserFunnel: from a scenario's page a manager opens its Воронка by
// the link's label, reads the table (counts labelled as unique
// conversations), filters it by period, platform and source through the
// labelled controls, follows a "stuck" number to those clients (the link
// carries the filters) and saves them as a stuck(...) segment; in Russian
// and English, with the axe scan. TestBrowserFunnelCounts checks the
// lists against the numbers on a real store.
func TestBrowserFunnel(t *testing.T) {
	type texts struct {
		link, h1, caption, stuckCol, period, periodValue, version, platform, source, show, stuckLink, saveStuck, saveName, saveSubmit string
	}
	langs := map[string]texts{
		"ru": {"Воронка", "Воронка: Знакомство", "считаются уникальные разговоры", "Застряли сейчас", "Разговоры, начатые за", "30 дней", "Версия сценария",
			"Платформа", "Источник (диплинк)", "Показать", "Клиенты, застрявшие на шаге: 2, шаг name", "Сохранить как сегмент: застрявшие на шаге name",
			"Название сегмента", "Сохранить сегмент"},
		"en": {"Funnel", "Funnel: Знакомство", "counts are unique conversations", "Stuck now", "Conversations started in", "30 days", "Scenario version",
			"Platform", "Source (deep link)", "Show", "Clients stuck at the step: 2, step name", "Save as a segment: stuck at step name",
			"Segment name", "Save segment"},
	}
	auth := consoletest.NewAuth()
	cfg := everyPageConfig(t, newAuditLog(1))
	cfg.Auth = auth
	st := &fakeFunnelStore{}
	cfg.Scenarios.Funnels = newFakeFunnels(t, st)
	clients := cfg.Clients.Saver.(*fakeClientPages)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	selectBy := func(label string) string {
		return `//select[@id=//label[normalize-space()="` + label + `"]/@for]`
	}
	for _, lang := range []string{"ru", "en"} {
		tx := langs[lang]
		t.Run(lang, func(t *testing.T) {
			ctx := newTab(t)
			signIn(t, ctx, srv.URL, lang, "admin", consoletest.Password("admin"))
			run(t, ctx,
				chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
				chromedp.Navigate(srv.URL+"/scenarios/portrait"),
			)
			p := readPage(t, ctx)
			if p.Status != 200 {
				t.Fatalf("scenario page: %+v", p)
			}
			run(t, ctx,
				chromedp.Click(`//a[normalize-space()="`+tx.link+`"]`),
				chromedp.WaitVisible(`//h1[normalize-space()="`+tx.h1+`"]`),
			)
			p = readPage(t, ctx)
			if p.Path != "/scenarios/portrait/funnel" || !strings.Contains(p.Text, tx.caption) || !strings.Contains(p.Text, tx.stuckCol) {
				t.Errorf("funnel page: %+v", p)
			}
			scanAccessibility(t, ctx, lang+" funnel")
			screenshot(t, ctx, "funnel-"+lang)

			run(t, ctx,
				chromedp.SetValue(selectBy(tx.period), "30d"),
				chromedp.SetValue(selectBy(tx.version), "0ld0ld0ld0ld0ld0"),
				chromedp.SetValue(selectBy(tx.platform), "vk"),
				browsertest.Type(byLabel(tx.source), "ads"),
				chromedp.Click(button(tx.show)),
				chromedp.WaitReady(`//option[@value="vk" and @selected]`),
			)
			p = readPage(t, ctx)
			if !strings.Contains(p.Path, "since=30d") || !strings.Contains(p.Path, "platform=vk") || !strings.Contains(p.Path, "source=ads") {
				t.Errorf("filtered: path %q", p.Path)
			}
			if q := st.query(); q.Platform != "vk" || q.Source != "ads" || q.Version != "0ld0ld0ld0ld0ld0" {
				t.Errorf("the funnel was asked %+v", q)
			}
			scanAccessibility(t, ctx, lang+" funnel filtered")

			run(t, ctx,
				chromedp.Click(`//a[@aria-label="`+tx.stuckLink+`"]`),
				chromedp.WaitVisible(chromedp.CSS(`#clients-status`)),
			)
			p = readPage(t, ctx)
			filtered := `stuck("portrait", "name", {since: ago("30d"), version: "0ld0ld0ld0ld0ld0", platform: "vk", source: "ads"})`
			if got, _ := url.QueryUnescape(strings.TrimPrefix(p.Path, "/clients?segment=")); got != filtered {
				t.Errorf("stuck link led to %q", p.Path)
			}

			run(t, ctx,
				chromedp.NavigateBack(),
				chromedp.WaitVisible(`//h1[normalize-space()="`+tx.h1+`"]`),
				chromedp.Click(`//a[@aria-label="`+tx.saveStuck+`"]`),
				chromedp.WaitVisible(byLabel(tx.saveName)),
				browsertest.Type(byLabel(tx.saveName), "stuck-name-"+lang),
				chromedp.Click(button(tx.saveSubmit)),
				chromedp.WaitVisible(`//*[@role="status" and contains(., "stuck-name-`+lang+`")]`),
			)
			clients.mu.Lock()
			saved := clients.saved[len(clients.saved)-1]
			clients.mu.Unlock()
			if saved.Name != "stuck-name-"+lang || saved.Expression != filtered {
				t.Errorf("saved %+v", saved)
			}

			// On a 390 px phone the table scrolls sideways in its region;
			// the page itself does not.
			run(t, ctx,
				chromedp.EmulateViewport(390, 844),
				chromedp.Navigate(srv.URL+"/scenarios/portrait/funnel"),
				chromedp.WaitVisible(`//h1[normalize-space()="`+tx.h1+`"]`),
			)
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if wide {
				t.Errorf("%s funnel at 390 px: the page scrolls sideways", lang)
			}
			scanAccessibility(t, ctx, lang+" funnel at 390 px")
			screenshot(t, ctx, "funnel-narrow-"+lang)
		})
	}
}
