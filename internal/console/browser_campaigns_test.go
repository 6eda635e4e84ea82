package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
)

// campaignSite is a console with Рассылки over fakes, served for the browser.
func campaignSite(t *testing.T) (string, *fakeCampaigns) {
	t.Helper()
	f := sampleCampaigns()
	c, err := New(Config{Auth: consoletest.NewAuth(), Campaigns: campaignPages(f)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, f
}

// TestBrowserCampaignConfirmAndRefuse: the draft named <script> shows as
// text; «Отменить рассылку» asks first, «Нет, вернуться» leaves it be; a
// move someone else made impossible meanwhile shows the reason (409) on the
// campaign's page.
func TestBrowserCampaignConfirmAndRefuse(t *testing.T) {
	base, f := campaignSite(t)
	ctx := newTab(t)
	signIn(t, ctx, base, "ru", "manager", consoletest.Password("manager"))
	// (Opened by its address: the list refreshes itself while campaign 2
	// runs, and a click during a refresh may land on the replaced table.)
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Navigate(base+"/campaigns/3"),
		chromedp.WaitVisible(button("Запустить")),
	)
	if p := readPage(t, ctx); p.H1 != "<script>alert(1)</script>" || !strings.Contains(p.Text, "<script>alert(2)</script>") {
		t.Errorf("draft page: %+v", p)
	}

	// Ask to cancel, then change one's mind: nothing moves.
	run(t, ctx,
		chromedp.Click(button("Отменить рассылку")),
		chromedp.WaitVisible(`//h2[normalize-space()="Отменить рассылку?"]`),
		chromedp.Click(`//a[normalize-space()="Нет, вернуться"]`),
		chromedp.WaitVisible(button("Запустить")),
	)
	if len(f.actors()) != 0 {
		t.Errorf("changing one's mind moved the campaign: %v", f.actors())
	}

	// Ask to start; meanwhile someone cancels it; confirming shows why not.
	run(t, ctx,
		chromedp.Click(button("Запустить")),
		chromedp.WaitVisible(button("Да, запустить")),
	)
	scanAccessibility(t, ctx, "ru campaign confirm")
	screenshot(t, ctx, "campaign-confirm-ru")
	if err := f.Cancel(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	run(t, ctx,
		chromedp.Click(button("Да, запустить")),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)),
	)
	p := readPage(t, ctx)
	if p.Alert != "Рассылку нельзя запустить: её статус — «Отменена»." || p.Path != "/campaigns/3" {
		t.Errorf("refused start: %+v", p)
	}
	if strings.Contains(p.Text, "Запустить") {
		t.Errorf("a cancelled campaign still offers start: %q", p.Text)
	}
	scanAccessibility(t, ctx, "ru campaign refused")
	screenshot(t, ctx, "campaign-refused-ru")
	if c, _ := f.Get(context.Background(), 3); c.State != broadcast.Cancelled {
		t.Errorf("campaign 3 is %s", c.State)
	}
}

// TestBrowserCampaignPolling: a running campaign's page polls its progress
// and, when the campaign finishes, reloads itself into the final page that
// no longer polls.
func TestBrowserCampaignPolling(t *testing.T) {
	base, f := campaignSite(t)
	ctx := newTab(t)
	signIn(t, ctx, base, "en", "manager", consoletest.Password("manager"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Navigate(base+"/campaigns/2"),
		chromedp.WaitVisible(`//h2[normalize-space()="Progress"]`),
	)
	scanAccessibility(t, ctx, "en running campaign")
	// Two more sends and the end: the page follows by itself.
	f.mu.Lock()
	for i := 4; i < 10; i++ {
		f.ledger[2][i].Status = broadcast.StatusSent
	}
	c := f.campaigns[2]
	c.State = broadcast.Done
	f.campaigns[2] = c
	f.mu.Unlock()
	run(t, ctx, chromedp.WaitVisible(`//h2[normalize-space()="Results"]`))
	p := readPage(t, ctx)
	if p.Status != http.StatusOK || !strings.Contains(p.Text, "100% — 10 of 10 handled") || !strings.Contains(p.Text, "Done") {
		t.Errorf("after finishing: %+v", p)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[hx-trigger]').length`))
	if err != nil || n != 0 {
		t.Errorf("the finished page has %d polling elements (%v)", n, err)
	}
}

// TestBrowserCampaignListRefresh: the list refreshes its table while a
// campaign runs and stops once none does.
func TestBrowserCampaignListRefresh(t *testing.T) {
	base, f := campaignSite(t)
	ctx := newTab(t)
	signIn(t, ctx, base, "en", "manager", consoletest.Password("manager"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Navigate(base+"/campaigns"),
		chromedp.WaitVisible(`//td[contains(., "Sent 4 of 10")]`),
	)
	f.mu.Lock()
	for i := 4; i < 10; i++ {
		f.ledger[2][i].Status = broadcast.StatusSent
	}
	c := f.campaigns[2]
	c.State = broadcast.Done
	f.campaigns[2] = c
	f.mu.Unlock()
	run(t, ctx, chromedp.WaitVisible(`//td[contains(., "Sent 10 of 10")]`))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[hx-trigger]').length`))
	if err != nil || n != 0 {
		t.Errorf("the list still refreshes itself (%d, %v)", n, err)
	}
	if p := readPage(t, ctx); p.Path != "/campaigns" || !strings.Contains(p.Text, "Done") {
		t.Errorf("after the refresh: %+v", p)
	}
	scanAccessibility(t, ctx, "en /campaigns refreshed")
}
