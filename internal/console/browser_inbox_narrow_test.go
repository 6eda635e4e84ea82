package console

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/consoletest"
)

// inboxCaptionProbe measures Диалоги's table caption against the window
// and the scrolling region holding the table.
const inboxCaptionProbe = `(() => {
	const cap = document.querySelector('#inbox-caption'), region = cap.closest('.scroll');
	const c = cap.getBoundingClientRect(), r = region.getBoundingClientRect();
	const range = document.createRange(); range.selectNodeContents(cap);
	const t = range.getBoundingClientRect();
	return JSON.stringify({inner: window.innerWidth, capLeft: c.left, capRight: c.right, textLeft: t.left, textRight: t.right,
		regionLeft: r.left, regionRight: r.right, tableWidth: cap.closest('table').getBoundingClientRect().width,
		scrollWidth: document.documentElement.scrollWidth, text: cap.innerText});
})()`

// TestBrowserInboxNarrow: on a 390 px phone, Диалоги's caption is read
// whole (its text inside the window and the table's region), though the
// table itself scrolls sideways in its region; the page does not.
func TestBrowserInboxNarrow(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		t.Run(lang, func(t *testing.T) {
			base := inboxSite(t, sampleHandoffs())
			ctx := newTab(t)
			run(t, ctx, chromedp.EmulateViewport(390, 844))
			signIn(t, ctx, base, lang, "manager", consoletest.Password("manager"))
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
			for _, tab := range []string{"", "?tab=all", "?tab=closed"} {
				run(t, ctx, chromedp.Navigate(base+"/inbox"+tab), chromedp.WaitVisible(chromedp.CSS(`#inbox-caption`)))
				raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](inboxCaptionProbe))
				if err != nil {
					t.Fatal(err)
				}
				var m struct {
					Inner                                  int
					CapLeft, CapRight, TextLeft, TextRight float64
					RegionLeft, RegionRight, TableWidth    float64
					ScrollWidth                            int
					Text                                   string
				}
				if err := json.Unmarshal([]byte(raw), &m); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s %s: %s", lang, tab, raw)
				if m.TextLeft < m.RegionLeft-1 || m.TextRight > m.RegionRight+1 || m.TextRight > float64(m.Inner)+1 {
					t.Errorf("%s /inbox%s: the caption %q runs from %.0f to %.0f, past the visible region %.0f..%.0f (window %d)",
						lang, tab, m.Text, m.TextLeft, m.TextRight, m.RegionLeft, m.RegionRight, m.Inner)
				}
				if m.ScrollWidth > m.Inner {
					t.Errorf("%s /inbox%s: the page scrolls sideways: %d > %d", lang, tab, m.ScrollWidth, m.Inner)
				}
				scanAccessibility(t, ctx, lang+" /inbox"+tab+" at 390 px")
			}
			if lang == "ru" {
				screenshot(t, ctx, "narrow-inbox-"+lang)
			}
		})
	}
}
