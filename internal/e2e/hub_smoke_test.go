package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
)

func chromedpWaitMenu() chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`nav.menu`))
}

// TestHubSignsIn: the whole hub serves the console; each account signs in
// and lands on Обзор.
func TestHubSignsIn(t *testing.T) {
	h := startHub(t, nil)
	for name := range accounts {
		ctx := h.signIn(t, name, "ru")
		if p := browsertest.ReadPage(t, ctx); p.H1 != "Обзор" || p.Status != 200 {
			t.Errorf("%s after sign-in: %+v", name, p)
		}
	}
}
