package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// seedClients stores subscribed Telegram clients of the hub's bot by
// first name and city, with user ids from 1001 on.
func (h *hub) seedClients(t *testing.T, people [][2]string) {
	t.Helper()
	ctx := context.Background()
	for i, p := range people {
		key := messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.Itoa(1001 + i)}
		ch := &crm.Changes{Now: time.Now(), Consent: true, Profile: &messenger.Profile{FirstName: p[0]},
			Set: []crm.FieldValue{{Field: "city", Value: p[1]}}}
		if _, err := h.stores.CRM.ApplyChanges(ctx, key, ch); err != nil {
			t.Fatalf("seed %s: %v", p[0], err)
		}
	}
}

// byID selects the element with id.
func byID(id string) string { return `//*[@id="` + id + `"]` }

// containing waits until the element with id shows text.
func containing(id, text string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(`//*[@id="` + id + `"][contains(., "` + text + `")]`)
}

// inButton selects the input labelled label in the composer's button row
// n («Кнопка n»).
func inButton(n int, label string) string {
	return `//fieldset[legend[normalize-space()="Кнопка ` + strconv.Itoa(n) + `"]]//input[@id=//label[normalize-space()="` + label + `"]/@for]`
}

var campaignPath = regexp.MustCompile(`^/campaigns/(\d+)$`)

// TestComposeCampaign: a manager opens «Новая рассылка», types a segment
// and sees its count, sees a typo's error with its position, writes a text
// with a template field and sees it for real clients of the segment, runs
// the dry-run summary and creates the draft, which lands on the campaign's
// page and is stored with what was typed (and audited under the manager).
func TestComposeCampaign(t *testing.T) {
	h := startHub(t, nil)
	h.seedClients(t, [][2]string{{"Анна", "Самара"}, {"Борис", "Самара"}, {"Вера", "Москва"}})
	ctx := h.signIn(t, "manager", "ru")
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/campaigns/new"),
		chromedp.WaitVisible(`//h1[normalize-space()="Новая рассылка"]`),
	)
	if p := browsertest.ReadPage(t, ctx); p.Status != 200 || !strings.Contains(p.Menu, "Рассылки") {
		t.Fatalf("the composer: %+v", p)
	}
	browsertest.ScanAccessibility(t, ctx, "compose-ru")
	browsertest.Screenshot(t, ctx, "compose-ru")

	segmentBox := `//textarea[@id=//label[normalize-space()="Выражение сегмента"]/@for]`
	textBox := `//textarea[@id=//label[normalize-space()="Текст"]/@for]`
	browsertest.Run(t, ctx,
		browsertest.Type(segmentBox, `citi == "Самара"`),
		containing("compose-count", "Ошибка в строке 1, позиции 1"),
	)
	browsertest.Run(t, ctx,
		// Correct the typo as a person would: erase back to it.
		browsertest.Type(segmentBox, strings.Repeat(kb.Backspace, len([]rune(`i == "Самара"`)))+`y == "Самара"`),
		containing("compose-count", "В сегменте сейчас 2 клиента."),
	)
	browsertest.Run(t, ctx,
		browsertest.Type(textBox, "Здравствуйте, {{ .client.first_name }}! Скидка 10% до конца месяца."),
		containing("compose-preview", "Здравствуйте, Анна! Скидка 10% до конца месяца."),
		containing("compose-preview", "Здравствуйте, Борис!"),
		containing("compose-preview", "Как выглядит в Telegram"),
	)
	if p := browsertest.ReadPage(t, ctx); strings.Contains(p.Text, "Здравствуйте, Вера") {
		t.Errorf("the preview shows a client outside the segment")
	}
	browsertest.Run(t, ctx,
		chromedp.Click(browsertest.Button("Проверить рассылку")),
		containing("compose-summary", "Отправится 2 из 2 клиентов."),
		containing("compose-summary", "Никто не будет пропущен."),
	)
	browsertest.ScanAccessibility(t, ctx, "compose-preview-ru")
	browsertest.Run(t, ctx, chromedp.ScrollIntoView(byID("compose-name")))
	browsertest.Screenshot(t, ctx, "compose-preview-ru")

	browsertest.Run(t, ctx,
		browsertest.Type(browsertest.ByLabel("Название"), "Скидка для Самары"),
		browsertest.Type(inButton(1, "Надпись"), "Каталог"),
		browsertest.Type(inButton(1, "Ссылка"), "https://example.com/catalog"),
		// The preview redraws with the new button (the label's change
		// event): let it land before the click is aimed below it.
		containing("compose-preview", "Каталог"),
		chromedp.Click(browsertest.Button("Создать черновик")),
		chromedp.WaitNotPresent(byID("compose-text")),
	)
	var path string
	for deadline := time.Now().Add(browsertest.StepTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var err error
		if path, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil {
			t.Fatal(err)
		}
		if campaignPath.MatchString(path) {
			break
		}
	}
	m := campaignPath.FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("after creating: at %q, want /campaigns/{id}", path)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	c, err := h.stores.CRM.GetCampaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Скидка для Самары" || c.Segment != `city == "Самара"` || c.State != broadcast.Draft ||
		c.Text != "Здравствуйте, {{ .client.first_name }}! Скидка 10% до конца месяца." ||
		len(c.Buttons) != 1 || c.Buttons[0] != (broadcast.Button{Text: "Каталог", URL: "https://example.com/catalog"}) ||
		c.Platforms != nil || c.StartAt != nil || c.IgnoreFrequencyCap || c.IgnoreQuietHours {
		t.Errorf("stored %+v", c)
	}
	log, err := h.stores.ConsoleAuth.(*account.Service).Audit(context.Background(), account.AuditFilter{Action: "campaign.create", Limit: 5})
	if err != nil || len(log) != 1 || log[0].Actor != "manager" || log[0].Object != "campaign "+m[1] {
		t.Errorf("audit log %+v, %v", log, err)
	}

	// The draft opens in the composer with its values; a changed name is
	// saved and audited as an edit.
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/campaigns/"+m[1]+"/edit"),
		chromedp.WaitVisible(`//h1[normalize-space()="Изменение рассылки"]`),
		containing("compose-count", "В сегменте сейчас 2 клиента."),
		containing("compose-preview", "Здравствуйте, Анна!"),
		browsertest.Type(browsertest.ByLabel("Название"), kb.End+" (черновик 2)"),
		chromedp.Click(browsertest.Button("Сохранить")),
		chromedp.WaitNotPresent(byID("compose-text")),
	)
	if c, err := h.stores.CRM.GetCampaign(context.Background(), id); err != nil || c.Name != "Скидка для Самары (черновик 2)" ||
		c.Segment != `city == "Самара"` || len(c.Buttons) != 1 || c.State != broadcast.Draft {
		t.Errorf("after the edit: %+v, %v", c, err)
	}
	log, err = h.stores.ConsoleAuth.(*account.Service).Audit(context.Background(), account.AuditFilter{Action: "campaign.edit", Limit: 5})
	if err != nil || len(log) != 1 || log[0].Actor != "manager" {
		t.Errorf("edit audit %+v, %v", log, err)
	}
}

// TestComposeEnglishAndRoles: the composer in English passes the
// accessibility scan; an operator gets 403.
func TestComposeEnglishAndRoles(t *testing.T) {
	h := startHub(t, nil)
	ctx := h.signIn(t, "manager", "en")
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/campaigns/new?lang=en"),
		chromedp.WaitVisible(`//h1[normalize-space()="New campaign"]`),
	)
	browsertest.ScanAccessibility(t, ctx, "compose-en")
	browsertest.Screenshot(t, ctx, "compose-en")
	op := h.signIn(t, "operator", "ru")
	browsertest.Run(t, op, chromedp.Navigate(h.url+"/campaigns/new"))
	if p := browsertest.ReadPage(t, op); p.Status != 403 {
		t.Errorf("operator: %+v, want 403", p)
	}
}

// TestComposeEtiquetteWarning: with the hub in quiet hours now, the
// dry-run summary says in plain words who waits and until when, and the
// form describes the etiquette in force.
func TestComposeEtiquetteWarning(t *testing.T) {
	utc3 := time.FixedZone("UTC+3", 3*3600)
	now := time.Now().In(utc3)
	from, until := now.Add(-2*time.Hour).Format("15:04"), now.Add(2*time.Hour).Format("15:04")
	h := startHub(t, func(cfg *config.Config) {
		cfg.Broadcast.QuietHours = from + "-" + until
		cfg.Broadcast.DefaultTimezone = "Europe/Moscow"
	})
	h.seedClients(t, [][2]string{{"Анна", "Самара"}, {"Борис", "Самара"}})
	ctx := h.signIn(t, "manager", "ru")
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/campaigns/new"),
		containing("main", "Тихие часы "+from+"–"+until+" по времени клиента (Europe/Moscow"),
		browsertest.Type(`//textarea[@id="compose-segment"]`, `city == "Самара"`),
		containing("compose-count", "В сегменте сейчас 2 клиента."),
		chromedp.Click(browsertest.Button("Проверить рассылку")),
		containing("compose-summary", "Сейчас тихие часы у 2 клиентов: им отправится после "+until+" по их времени."),
	)
}
