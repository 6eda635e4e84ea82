package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/segment"
)

// everyPageMissingKey matches a message key the catalog lacks, shown in
// brackets ("[clients.title]").
var everyPageMissingKey = regexp.MustCompile(`\[[a-z_]+(\.[a-z0-9_]+)+\]`)

// everyPageOverflow lists (up to 5) elements reaching past the window's
// right edge that are not inside a scrolling box, with their right edge.
const everyPageOverflow = `(() => {
	const w = window.innerWidth, out = [];
	const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
		const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
	for (const el of document.body.querySelectorAll('*')) {
		const r = el.getBoundingClientRect();
		if (r.width > 0 && r.right > w + 1 && !scrolls(el)) {
			out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' →' + Math.round(r.right));
			if (out.length >= 5) break;
		}
	}
	return JSON.stringify({scroll: document.documentElement.scrollWidth, inner: w, wide: out});
})()`

// everyPageSeed gives the hub three clients who talked to the Telegram bot
// (one shared a phone), a saved segment and a draft campaign; it returns
// the first client's id, the segment's name and the campaign's id.
func everyPageSeed(t *testing.T, h *hub) (client int64, seg string, campaign int64) {
	t.Helper()
	ctx := context.Background()
	tg := telegramtest.NewDriver(h.fake)
	people := []telegramtest.User{
		{ID: 6001, FirstName: "Людмила", LastName: "Соколова", Username: "lyuda_s", LanguageCode: "ru"},
		{ID: 6002, FirstName: "Константин", LastName: "Меньшиковоклюквенный", LanguageCode: "ru"},
		{ID: 6003, FirstName: "Anna", LanguageCode: "en"},
	}
	for _, u := range people {
		h.fake.SetUser(u)
		tg.Start(t, u.ID, "")
		tg.Replies(t, u.ID, 1)
		tg.Press(t, u.ID, "Да, согласен")
		tg.Replies(t, u.ID, 1)
		tg.Text(t, u.ID, u.FirstName)
		tg.Replies(t, u.ID, 1)
	}
	tg.ShareContact(t, 6001, "+79991234567")
	tg.Replies(t, 6001, 1)
	cl, err := h.stores.CRM.GetClient(ctx, messenger.ChatKey{Platform: messenger.Telegram, ID: "6001"})
	if err != nil || cl == nil {
		t.Fatalf("the Telegram client is not stored: %v", err)
	}
	if _, err := h.stores.CRM.SaveSegment(ctx, segment.Definition{Name: "telegram_ru", Expression: `platform == "telegram"`,
		Description: "Все клиенты из Telegram"}); err != nil {
		t.Fatalf("save segment: %v", err)
	}
	svc, err := app.BroadcastService(h.cfg, h.stores.CRM, h.stores.Catalog(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Create(ctx, broadcast.Campaign{Name: "Декабрьские новости", Segment: `segment("telegram_ru")`,
		Text: "Привет, {{ .client.first_name }}! Декабрьские новости."})
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	return cl.ID, "telegram_ru", c.ID
}

// TestHubEveryPage: on the whole hub, an admin opens every page and main
// subpage in Russian and English in a 390 px wide window: each answers
// 200 in the right language with the right heading, shows no missing
// message key, passes the accessibility scan and does not overflow
// sideways.
func TestHubEveryPage(t *testing.T) {
	h := startHub(t, nil)
	client, seg, campaign := everyPageSeed(t, h)
	cid, kid := strconv.FormatInt(client, 10), strconv.FormatInt(campaign, 10)
	same := func(s string) map[string]string { return map[string]string{"ru": s, "en": s} }
	pages := []struct {
		path string
		h1   map[string]string
		shot string // screenshot name's stem at 390 px ("" none)
	}{
		{"/", map[string]string{"ru": "Обзор", "en": "Overview"}, ""},
		{"/clients", map[string]string{"ru": "Клиенты", "en": "Clients"}, "narrow-clients"},
		{"/clients/" + cid, same("Людмила Соколова"), ""},
		{"/clients/" + cid + "/delete", map[string]string{"ru": "Удаление клиента", "en": "Delete client"}, ""},
		{"/segments", map[string]string{"ru": "Сегменты", "en": "Segments"}, ""},
		{"/segments/new", map[string]string{"ru": "Новый сегмент", "en": "New segment"}, ""},
		{"/segments/" + seg, map[string]string{"ru": "Сегмент «" + seg + "»", "en": "Segment “" + seg + "”"}, ""},
		{"/campaigns", map[string]string{"ru": "Рассылки", "en": "Campaigns"}, ""},
		{"/campaigns/new", map[string]string{"ru": "Новая рассылка", "en": "New campaign"}, ""},
		{"/campaigns/" + kid, same("Декабрьские новости"), "narrow-campaign"},
		{"/campaigns/" + kid + "/edit", map[string]string{"ru": "Изменение рассылки", "en": "Edit campaign"}, ""},
		{"/scenarios", map[string]string{"ru": "Сценарии", "en": "Scenarios"}, ""},
		{"/scenarios/portrait", map[string]string{"ru": "Сценарий «Знакомство»", "en": "Scenario “Знакомство”"}, ""},
		{"/scenarios/portrait/play", map[string]string{"ru": "Песочница: «Знакомство»", "en": "Playground: “Знакомство”"}, ""},
		{"/users", map[string]string{"ru": "Пользователи", "en": "Users"}, ""},
		{"/users/operator/remove", map[string]string{"ru": "Удалить пользователя?", "en": "Remove the user?"}, ""},
		{"/audit", map[string]string{"ru": "Журнал", "en": "Audit log"}, ""},
		{"/profile", map[string]string{"ru": "Профиль", "en": "Profile"}, ""},
	}
	for _, lang := range []string{"ru", "en"} {
		t.Run(lang, func(t *testing.T) {
			tab := h.signIn(t, "admin", lang)
			browsertest.Run(t, tab, chromedp.EmulateViewport(390, 844))
			for _, pg := range pages {
				browsertest.Run(t, tab, chromedp.Navigate(h.url+pg.path))
				p := browsertest.ReadPage(t, tab)
				if p.Status != 200 || p.Lang != lang || p.H1 != pg.h1[lang] {
					t.Errorf("%s %s: status %d, lang %q, h1 %q; want 200, %q", lang, pg.path, p.Status, p.Lang, p.H1, pg.h1[lang])
				}
				if k := everyPageMissingKey.FindString(p.Text); k != "" {
					t.Errorf("%s %s shows a missing message key %s", lang, pg.path, k)
				}
				browsertest.ScanAccessibility(t, tab, lang+" "+pg.path)
				var o struct {
					Scroll, Inner int
					Wide          []string
				}
				if err := json.Unmarshal([]byte(evaluate[string](t, tab, everyPageOverflow)), &o); err != nil {
					t.Fatal(err)
				}
				if o.Scroll > o.Inner {
					t.Errorf("%s %s overflows a 390 px window: scrollWidth %d > %d; past the edge: %v", lang, pg.path, o.Scroll, o.Inner, o.Wide)
				}
				if pg.path == "/audit" {
					everyPageAuditLabels(t, tab, lang)
				}
				if pg.shot != "" && lang == "ru" {
					browsertest.Screenshot(t, tab, fmt.Sprintf("%s-%s", pg.shot, lang))
				}
			}
		})
	}
}

// everyPageAuditLabels checks that Журнал shows every entry's action by
// its label (none raw) and offers every action the hub can write, labelled.
func everyPageAuditLabels(t *testing.T, tab context.Context, lang string) {
	t.Helper()
	raw := evaluate[int](t, tab, `document.querySelectorAll('main td > code').length`)
	rows := evaluate[int](t, tab, `document.querySelectorAll('main tbody tr').length`)
	if raw != 0 || rows == 0 {
		t.Errorf("%s Журнал: %d rows, %d actions shown raw", lang, rows, raw)
	}
	var offered []string
	if err := json.Unmarshal([]byte(evaluate[string](t, tab, `JSON.stringify(Array.from(
		document.querySelectorAll('main select option'), o => o.value && o.textContent !== o.value ? o.value : '').filter(Boolean))`)), &offered); err != nil {
		t.Fatal(err)
	}
	if want := account.AuditActions(); !slices.Equal(offered, want) {
		t.Errorf("%s Журнал offers %v labelled, want %v", lang, offered, want)
	}
}
