package console

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/console/consoletest"
)

// TestBrowserPollingSurvivesErrorsAndSessionEnd: while a campaign runs,
// a failing store leaves its page whole and the progress panel polling
// (it updates once the store is back); when the session ends, the next
// poll takes the tab to the sign-in page, and signing in returns to the
// campaign's page, not to the bare fragment.
func TestBrowserPollingSurvivesErrorsAndSessionEnd(t *testing.T) {
	f := sampleCampaigns()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Campaigns: campaignPages(f)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	ctx := newTab(t)
	signIn(t, ctx, srv.URL, "ru", "manager", consoletest.Password("manager"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Navigate(srv.URL+"/campaigns/2"),
		chromedp.WaitVisible(chromedp.CSS(`#campaign-progress`)),
	)

	f.mu.Lock()
	f.err = errors.New("database down")
	f.mu.Unlock()
	run(t, ctx, chromedp.Sleep(2500*time.Millisecond)) // two or three failing polls
	whole, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll('h1').length === 1 &&
		document.querySelectorAll('nav.menu').length === 1 &&
		document.querySelector('#campaign-progress[hx-trigger]') !== null`))
	if err != nil || !whole {
		t.Fatalf("after failing polls the page is not whole or the panel stopped polling (%v)", err)
	}
	f.mu.Lock()
	f.err = nil
	f.mu.Unlock()
	f.fill(2, 10, "sent", "sent", "sent", "sent", "sent", "sent", "sent", "sent")
	run(t, ctx, chromedp.WaitVisible(`//span[@id="progress-text" and contains(., "обработано 8 из 10")]`))

	auth.EndSessionsOf("manager")
	run(t, ctx, chromedp.WaitVisible(byLabel("Пароль")))
	if p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`)); err != nil ||
		p != "/login?next=%2Fcampaigns%2F2" {
		t.Errorf("after the session ended the tab is at %q (%v)", p, err)
	}
	run(t, ctx,
		browsertest.Type(byLabel("Имя пользователя"), "manager"),
		browsertest.Type(byLabel("Пароль"), consoletest.Password("manager")),
		chromedp.Click(button("Войти")),
		chromedp.WaitVisible(chromedp.CSS(`#campaign-progress`)),
	)
	if p := readPage(t, ctx); p.Path != "/campaigns/2" || p.H1 != "Новости" || p.Menu == "" {
		t.Errorf("signing in again: %+v", p)
	}
}
