package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/browsertest"
)

// textarea selects the textarea whose visible <label> reads label.
func textarea(label string) string {
	return `//textarea[@id=//label[normalize-space()="` + label + `"]/@for]`
}

// TestSegmentsFlow: a manager opens Сегменты, creates a segment by typing
// it (the count follows), sees a typo's error with its position, saves
// it and finds it in the list with its count; the audit log names the
// manager. Every page passes axe in both languages.
func TestSegmentsFlow(t *testing.T) {
	h := startHub(t, nil)
	seedOverview(t, h) // 3 clients in Москва, one named <script>
	ctx := h.signIn(t, "manager", "ru")
	browsertest.Run(t, ctx,
		chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="Сегменты"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Сегменты"]`),
		chromedp.Click(`//a[normalize-space()="Новый сегмент"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Новый сегмент"]`),
		browsertest.Type(textarea("Выражение"), `city == "Москва"`),
		chromedp.WaitVisible(`//span[@class="seg-live-count"][normalize-space()="3 клиента"]`),
		chromedp.WaitVisible(`//li[@class="seg-card"]`),
	)
	browsertest.ScanAccessibility(t, ctx, "ru /segments/new (count)")

	// A typo: the parser's error at line 1, column 22, no count.
	browsertest.Run(t, ctx,
		browsertest.Type(textarea("Выражение"), ` and agee >= 25`),
		chromedp.WaitVisible(`//div[contains(@class,"seg-error")]`),
	)
	p := browsertest.ReadPage(t, ctx)
	if !strings.Contains(p.Alert, "Ошибка в строке 1, столбце 22") || !strings.Contains(p.Alert, `unknown field "agee"`) {
		t.Errorf("typo: alert %q", p.Alert)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /segments/new (error)")

	// Fixed, named and saved: the list shows it with its count.
	browsertest.Run(t, ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('seg-expression').value = ''`),
		browsertest.Type(textarea("Выражение"), `city == "Москва" and age >= 25`),
		chromedp.WaitVisible(`//span[@class="seg-live-count"][normalize-space()="3 клиента"]`),
		browsertest.Type(browsertest.ByLabel("Имя"), "moscow-adults"),
		browsertest.Type(browsertest.ByLabel("Описание"), "Москва, 25+"),
		chromedp.Click(browsertest.Button("Сохранить")),
		chromedp.WaitVisible(`//p[@role="status"][contains(., "moscow-adults")]`),
		chromedp.WaitVisible(`//tr[@data-segment="moscow-adults"]//span[@class="seg-count-value"][normalize-space()="3 клиента"]`),
	)
	p = browsertest.ReadPage(t, ctx)
	if p.Path != "/segments?saved=moscow-adults" || !strings.Contains(p.Text, "Москва, 25+") {
		t.Errorf("after save: %+v", p)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /segments")
	browsertest.Screenshot(t, ctx, "segments-ru")

	// Its editor: count, sample cards (a client named <script> as text)
	// and the explanation.
	browsertest.Run(t, ctx,
		chromedp.Click(`//a[normalize-space()="moscow-adults"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Сегмент «moscow-adults»"]`),
		chromedp.WaitVisible(`//span[@class="seg-live-count"][normalize-space()="3 клиента"]`),
		chromedp.Click(`//summary[normalize-space()="Как это считается"]`),
		chromedp.WaitVisible(`//details[@class="seg-explain"]//pre`),
	)
	browsertest.ScanAccessibility(t, ctx, "ru /segments/moscow-adults")
	browsertest.Screenshot(t, ctx, "segment-edit-ru")

	users, ok := h.stores.ConsoleAuth.(*account.Service)
	if !ok {
		t.Fatal("no account service")
	}
	log, err := users.Audit(context.Background(), account.AuditFilter{Action: "segment.save", Limit: 10})
	if err != nil || len(log) != 1 || log[0].Actor != "manager" || log[0].Object != "segment moscow-adults" {
		t.Errorf("audit log %+v (%v), want segment.save of moscow-adults by manager", log, err)
	}

	// English: the same pages, scanned.
	en := h.signIn(t, "manager", "en")
	for _, path := range []string{"/segments", "/segments/new", "/segments/moscow-adults"} {
		browsertest.Run(t, en, chromedp.Navigate(h.url+path))
		if p := browsertest.ReadPage(t, en); p.Status != 200 || p.Lang != "en" || strings.Contains(p.Text, "[segments.") {
			t.Errorf("en %s: %+v", path, p)
		}
		browsertest.ScanAccessibility(t, en, "en "+path)
	}
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/segments"),
		chromedp.WaitVisible(`//span[@class="seg-count-value"][normalize-space()="3 clients"]`))

	// Operators may not open it.
	op := h.signIn(t, "operator", "ru")
	browsertest.Run(t, op, chromedp.Navigate(h.url+"/segments/moscow-adults"))
	if p := browsertest.ReadPage(t, op); p.Status != 403 {
		t.Errorf("operator: %+v", p)
	}
}

// TestSegmentDeleteRefused: a segment a paused campaign uses cannot be
// deleted (the campaign is named); one nothing uses is deleted after the
// confirmation.
func TestSegmentDeleteRefused(t *testing.T) {
	h := startHub(t, nil)
	seedOverview(t, h)
	db := hubDB(t, h)
	if _, err := db.Exec(`INSERT INTO segments (name, expression) VALUES ('moscow', 'city == "Москва"'), ('spare', 'age > 1')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE campaigns SET segment = 'segment("moscow")'`); err != nil {
		t.Fatal(err)
	}
	ctx := h.signIn(t, "manager", "ru")
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/segments/moscow"),
		// The live count comes in after the page and pushes the delete
		// button down: a click aimed before it lands misses the button, so
		// wait for it, as a person would.
		chromedp.WaitVisible(`//span[@class="seg-live-count"][normalize-space()="3 клиента"]`),
		chromedp.Click(browsertest.Button("Удалить сегмент")),
		chromedp.WaitVisible(`//h1[normalize-space()="Удалить сегмент «moscow»?"]`),
		chromedp.Click(browsertest.Button("Да, удалить")),
		chromedp.WaitVisible(`//p[@role="alert"][contains(., "нельзя удалить")]`),
	)
	if p := browsertest.ReadPage(t, ctx); !strings.Contains(p.Alert, "«Весна <b>» (на паузе)") {
		t.Errorf("refusal: %q", p.Alert)
	}
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/segments/spare"),
		chromedp.WaitVisible(`//span[@class="seg-live-count"][normalize-space()="5 клиентов"]`),
		chromedp.Click(browsertest.Button("Удалить сегмент")),
		// The confirmation is a page of its own: wait for it, so the next
		// click does not query the page being left.
		chromedp.WaitVisible(`//h1[normalize-space()="Удалить сегмент «spare»?"]`),
		chromedp.Click(browsertest.Button("Да, удалить")),
		chromedp.WaitVisible(`//p[@role="status"][contains(., "spare")]`),
	)
	if p := browsertest.ReadPage(t, ctx); strings.Contains(p.Text, "age > 1") || !strings.Contains(p.Text, "moscow") {
		t.Errorf("after delete: %q", p.Text)
	}
}
