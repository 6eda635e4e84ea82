package console

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/consoletest"
)

// TestBrowserOverviewLanguageKeepsPeriod: a manager who picked a period on
// Обзор and switches the language by the switch's link stays on that
// period; the completions chart names scenarios by their titles; with the
// axe scan in both languages.
func TestBrowserOverviewLanguageKeepsPeriod(t *testing.T) {
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: newFakeOverview(), Campaigns: newFakeOverview(),
		Location: time.FixedZone("MSK", 3*3600)},
		Scenarios: ScenarioPages{Catalog: fakeCatalog{bots: []ScenarioBot{{Scenarios: shippedScenarios(t)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	ctx := newTab(t)
	signIn(t, ctx, srv.URL, "ru", "admin", consoletest.Password("admin"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Click(`//a[normalize-space()="7 дней"]`),
		chromedp.WaitVisible(`//a[normalize-space()="7 дней" and @aria-current="page"]`),
	)
	scanAccessibility(t, ctx, "ru overview 7 days")
	run(t, ctx,
		chromedp.Click(`//a[normalize-space()="English" and @hreflang="en"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Overview"]`),
	)
	p := readPage(t, ctx)
	if !strings.Contains(p.Path, "days=7") {
		t.Errorf("after switching to English: %s", p.Path)
	}
	run(t, ctx, chromedp.WaitVisible(`//a[normalize-space()="7 days" and @aria-current="page"]`))
	if !strings.Contains(p.Text, "Знакомство") {
		t.Errorf("the completions chart does not name the portrait scenario by its title:\n%s", p.Text)
	}
	scanAccessibility(t, ctx, "en overview 7 days")
	run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Русский" and @hreflang="ru"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Обзор"]`),
		chromedp.WaitVisible(`//a[normalize-space()="7 дней" and @aria-current="page"]`),
	)
}
