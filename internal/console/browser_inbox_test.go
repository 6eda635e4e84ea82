package console

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/handoff"
)

// inboxSite is a console with Диалоги over f (and the shipped scenarios
// to return a chat to) served for the browser.
func inboxSite(t *testing.T, f *fakeHandoffs) string {
	t.Helper()
	c, err := New(Config{Auth: consoletest.NewAuth(), Handoffs: f, Scenarios: everyPageScenarios(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// byFieldLabel selects the textarea or select whose <label> reads label.
func byFieldLabel(tag, label string) string {
	return `//` + tag + `[@id=//label[normalize-space()="` + label + `"]/@for]`
}

// inboxLabels are the visible texts the walk goes by, per language.
var inboxLabels = map[string]map[string]string{
	"ru": {"menu": "Диалоги", "late": "ПРОСРОЧЕНО", "take": "Взять", "taken": "Запрос ваш.", "mine": "Мои", "back": "← Все диалоги",
		"reply": "Ответ клиенту", "send": "Отправить", "sent": "Ответ отправлен.", "blocked": "Клиент заблокировал бота",
		"return": "Вернуть боту", "what": "Что сделает бот", "returned": "Чат возвращён боту."},
	"en": {"menu": "Conversations", "late": "OVERDUE", "take": "Take", "taken": "The request is yours.", "mine": "Mine", "back": "← All conversations",
		"reply": "Reply to the client", "send": "Send", "sent": "Reply sent.", "blocked": "The client blocked the bot",
		"return": "Back to the bot", "what": "What the bot does", "returned": "The chat is back with the bot."},
}

// TestBrowserInbox walks Диалоги as a manager in both languages: the
// waiting tab marks a request past the SLA in red and in words, the
// request's page takes it (then under Мои), a reply is sent and a blocked
// one says so, a client's new message appears without a reload, and the
// chat goes back to the bot with a chosen scenario.
func TestBrowserInbox(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		t.Run(lang, func(t *testing.T) {
			l := inboxLabels[lang]
			f := sampleHandoffs()
			base := inboxSite(t, f)
			ctx := newTab(t)
			signIn(t, ctx, base, lang, "manager", consoletest.Password("manager"))
			run(t, ctx,
				chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
				chromedp.Click(`//nav[@class="menu"]//a[starts-with(normalize-space(), "`+l["menu"]+`")]`),
				chromedp.WaitVisible(`//a[normalize-space()="Анна Петровна"]`),
			)
			late, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
				const row = document.querySelector('tr[data-request="1"]');
				const w = row.querySelector('.waiting');
				return [row.innerText, getComputedStyle(w).color];
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(late[0], l["late"]) || late[1] != "rgb(164, 22, 26)" {
				t.Errorf("the request past the SLA: %q in %s, want %q in red", late[0], late[1], l["late"])
			}
			scanAccessibility(t, ctx, lang+" /inbox")
			screenshot(t, ctx, "inbox-"+lang)

			run(t, ctx,
				chromedp.Click(`//a[normalize-space()="Анна Петровна"]`),
				chromedp.WaitVisible(`//h1[normalize-space()="Анна Петровна"]`),
				chromedp.Click(button(l["take"])),
				chromedp.WaitVisible(`//*[@role="status" and contains(., "`+l["taken"]+`")]`),
			)
			// Typing updates the counter.
			run(t, ctx, browsertest.Type(byFieldLabel("textarea", l["reply"]), "Здравствуйте"))
			if n, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#reply-count [data-count]`))); err != nil || n != "12" {
				t.Errorf("the counter reads %q after 12 characters (%v)", n, err)
			}
			run(t, ctx,
				chromedp.Click(button(l["send"])),
				chromedp.WaitVisible(`//*[@role="status" and normalize-space()="`+l["sent"]+`"]`),
				chromedp.WaitVisible(`//ol[@class="transcript"]//p[normalize-space()="Здравствуйте"]`),
			)
			f.mu.Lock()
			f.failWith = handoff.FailBlocked
			f.mu.Unlock()
			run(t, ctx,
				browsertest.Type(byFieldLabel("textarea", l["reply"]), "Вы здесь?"),
				chromedp.Click(button(l["send"])),
				chromedp.WaitVisible(`//*[@role="alert" and contains(., "`+l["blocked"]+`")]`),
			)
			scanAccessibility(t, ctx, lang+" /inbox/1")
			// The client writes: it shows without a reload.
			f.clientSays(1, "Да, я тут")
			run(t, ctx, chromedp.WaitVisible(`//ol[@class="transcript"]/li[1]//p[normalize-space()="Да, я тут"]`))
			screenshot(t, ctx, "inbox-request-"+lang)

			run(t, ctx,
				chromedp.Click(`//a[normalize-space()="`+l["back"]+`"]`),
				chromedp.WaitVisible(`//nav[@class="tabs"]`),
				chromedp.Click(`//nav[@class="tabs"]//a[contains(., "`+l["mine"]+`")]`),
				chromedp.WaitVisible(`//a[@aria-current="page" and contains(., "`+l["mine"]+`")]`),
				chromedp.WaitVisible(`//a[normalize-space()="Анна Петровна"]`),
				chromedp.Click(`//a[normalize-space()="Анна Петровна"]`),
				chromedp.WaitVisible(byFieldLabel("select", l["what"])),
				chromedp.SetValue(byFieldLabel("select", l["what"]), "portrait"),
				chromedp.Click(button(l["return"])),
				chromedp.WaitVisible(`//*[@role="status" and normalize-space()="`+l["returned"]+`"]`),
			)
			if got := f.done(); !slices.Contains(got, "manager return 1 portrait") || !slices.Contains(got, "manager take 1") {
				t.Errorf("actions: %v", got)
			}
		})
	}
}

// TestBrowserInboxTakeRace: another manager takes the request while the
// page is open; «Взять» then says who was first.
func TestBrowserInboxTakeRace(t *testing.T) {
	f := sampleHandoffs()
	base := inboxSite(t, f)
	ctx := newTab(t)
	signIn(t, ctx, base, "ru", "manager", consoletest.Password("manager"))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)), chromedp.Navigate(base+"/inbox/2"),
		chromedp.WaitVisible(button("Взять")))
	f.mu.Lock()
	f.requests[2].Manager, f.requests[2].Status = "petr", handoff.StatusAssigned
	f.mu.Unlock()
	run(t, ctx, chromedp.Click(button("Взять")),
		chromedp.WaitVisible(`//*[@role="alert" and normalize-space()="Этот запрос уже взял(а) petr."]`))
	if p := readPage(t, ctx); p.Path != "/inbox/2" {
		t.Errorf("after the lost race the address is %q", p.Path)
	}
}

// TestBrowserInboxOperatorForbidden: an operator has no Диалоги in the
// menu and gets 403 at its address.
func TestBrowserInboxOperatorForbidden(t *testing.T) {
	base := inboxSite(t, sampleHandoffs())
	ctx := newTab(t)
	signIn(t, ctx, base, "ru", "operator", consoletest.Password("operator"))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
	if p := readPage(t, ctx); strings.Contains(p.Menu, "Диалоги") {
		t.Errorf("operator's menu: %q", p.Menu)
	}
	for _, path := range []string{"/inbox", "/inbox/1"} {
		run(t, ctx, chromedp.Navigate(base+path))
		if p := readPage(t, ctx); p.Status != http.StatusForbidden || p.H1 != "Недостаточно прав" {
			t.Errorf("operator GET %s: %+v", path, p)
		}
	}
}
