package console

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
)

// The browser tests drive the real console in headless Chromium
// (internal/console/browsertest), the tests one after another (none calls
// t.Parallel).

func TestMain(m *testing.M) { browsertest.Main(m) }

var (
	newTab            = browsertest.NewTab
	run               = browsertest.Run
	byLabel           = browsertest.ByLabel
	button            = browsertest.Button
	signIn            = browsertest.SignIn
	readPage          = browsertest.ReadPage
	screenshot        = browsertest.Screenshot
	scanAccessibility = browsertest.ScanAccessibility
)

// site is a console served over real HTTP for the browser.
type site struct {
	auth *consoletest.Auth
	url  string
}

func newSite(t *testing.T) site {
	t.Helper()
	auth := consoletest.NewAuth()
	audit := newAuditLog(60) // two pages of Журнал
	audit.entries[0].Actor = "<script>alert(1)</script>"
	cfg := everyPageConfig(t, audit)
	cfg.Auth = auth
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return site{auth: auth, url: srv.URL}
}

func TestBrowserLogin(t *testing.T) {
	tests := []struct {
		lang, overview string
		menu           []string
	}{
		{"ru", "Обзор", []string{"Обзор", "Клиенты", "Сегменты", "Рассылки", "Сценарии", "Пользователи", "Журнал"}},
		{"en", "Overview", []string{"Overview", "Clients", "Segments", "Campaigns", "Scenarios", "Users", "Audit log"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s := newSite(t)
			ctx := newTab(t)
			signIn(t, ctx, s.url, tt.lang, "admin", consoletest.Password("admin"))
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
			p := readPage(t, ctx)
			if p.Path != "/" || p.H1 != tt.overview || p.Lang != tt.lang {
				t.Errorf("after login: %+v", p)
			}
			for _, item := range tt.menu {
				if !strings.Contains(p.Menu, item) {
					t.Errorf("menu %q lacks %q", p.Menu, item)
				}
			}
			if s.auth.Sessions() != 1 {
				t.Errorf("sessions = %d, want 1", s.auth.Sessions())
			}
		})
	}
}

func TestBrowserWrongPassword(t *testing.T) {
	s := newSite(t)
	ctx := newTab(t)
	signIn(t, ctx, s.url, "ru", "admin", "wrong")
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	p := readPage(t, ctx)
	if p.Status != http.StatusUnauthorized || p.Alert != "Неверное имя пользователя или пароль." || p.H1 != "Вход" {
		t.Errorf("wrong password: %+v", p)
	}
	if s.auth.Sessions() != 0 {
		t.Errorf("a wrong password opened a session")
	}
}

// TestBrowserCrossSiteRefused: a page on another site posting to the
// console's /logout or /login is refused with 403 (the session lives on).
func TestBrowserCrossSiteRefused(t *testing.T) {
	for _, target := range []string{"/logout", "/login"} {
		t.Run(strings.TrimPrefix(target, "/"), func(t *testing.T) {
			s := newSite(t)
			// The attacker's page is on "localhost", the console on
			// 127.0.0.1: different sites to the browser.
			evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html lang="en"><title>evil</title><form method="post" action="%s%s">
<input name="name" value="admin"><input name="password" value="%s"><button id="go">go</button></form>`,
					s.url, target, consoletest.Password("admin"))
			}))
			t.Cleanup(evil.Close)
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(evil.URL, "http://"))
			ctx := newTab(t)
			signIn(t, ctx, s.url, "ru", "admin", consoletest.Password("admin"))
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
			run(t, ctx,
				chromedp.Navigate("http://localhost:"+port+"/"),
				chromedp.Click(chromedp.CSS(`#go`)),
			)
			p := readPage(t, ctx)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Text, "отклонён") {
				t.Errorf("cross-site POST %s: %+v", target, p)
			}
			if s.auth.Sessions() != 1 {
				t.Errorf("sessions = %d after a refused cross-site POST, want 1", s.auth.Sessions())
			}
		})
	}
}

func TestBrowserOperatorForbidden(t *testing.T) {
	s := newSite(t)
	ctx := newTab(t)
	signIn(t, ctx, s.url, "ru", "operator", consoletest.Password("operator"))
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
	if p := readPage(t, ctx); strings.Contains(p.Menu, "Пользователи") || strings.Contains(p.Menu, "Рассылки") {
		t.Errorf("operator's menu shows admin or manager sections: %q", p.Menu)
	}
	for _, path := range []string{"/users", "/audit", "/campaigns"} {
		run(t, ctx, chromedp.Navigate(s.url+path))
		p := readPage(t, ctx)
		if p.Status != http.StatusForbidden || p.H1 != "Недостаточно прав" {
			t.Errorf("operator GET %s: %+v", path, p)
		}
	}
}

func TestBrowserLogout(t *testing.T) {
	s := newSite(t)
	ctx := newTab(t)
	signIn(t, ctx, s.url, "ru", "manager", consoletest.Password("manager"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Click(button("Выйти")),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
	)
	p := readPage(t, ctx)
	if !strings.HasPrefix(p.Path, "/login") || !strings.Contains(p.Text, "Вы вышли из консоли.") {
		t.Errorf("after logout: %+v", p)
	}
	if s.auth.Sessions() != 0 {
		t.Errorf("logout left %d sessions", s.auth.Sessions())
	}
	run(t, ctx, chromedp.Navigate(s.url+"/clients"))
	if p := readPage(t, ctx); !strings.HasPrefix(p.Path, "/login") || p.H1 != "Вход" {
		t.Errorf("after logout /clients shows %+v, want the login page", p)
	}
}

// TestBrowserMenuNavigation: a menu link (boosted by htmx) opens its
// section.
func TestBrowserMenuNavigation(t *testing.T) {
	s := newSite(t)
	ctx := newTab(t)
	signIn(t, ctx, s.url, "ru", "admin", consoletest.Password("admin"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="Клиенты"]`),
		chromedp.WaitVisible(`//h1[contains(., "Клиенты")]`),
	)
	p := readPage(t, ctx)
	if p.Path != "/clients" || p.H1 != "Клиенты" {
		t.Errorf("menu → Клиенты: %+v", p)
	}
	current, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`nav.menu [aria-current=page]`)))
	if err != nil {
		t.Fatal(err)
	}
	if current != "Клиенты" {
		t.Errorf("current menu item %q", current)
	}
}

// everyPageMissingKey matches a message key the catalog lacks, shown in
// brackets ("[clients.title]").
var everyPageMissingKey = regexp.MustCompile(`\[[a-z_]+(\.[a-z0-9_]+)+\]`)

// everyPageMenuPath is the path of the menu section labelled label in
// Russian ("" for none).
func everyPageMenuPath(label string) string {
	for _, s := range sections {
		if label != "" && i18n.T(i18n.Ru, s.key) == label {
			return s.path
		}
	}
	return ""
}

// TestBrowserEveryPage opens every page in both languages as the role that
// sees it, checks its language and heading, and scans it with axe-core.
func TestBrowserEveryPage(t *testing.T) {
	s := newSite(t)
	type visit struct {
		path   string
		status int
		h1     map[string]string
		// menu is the current menu item (aria-current) in Russian, "" none.
		menu string
	}
	same := func(h string) map[string]string { return map[string]string{"ru": h, "en": h} }
	pages := []visit{
		{"/", 200, map[string]string{"ru": "Обзор", "en": "Overview"}, "Обзор"},
		{"/clients", 200, map[string]string{"ru": "Клиенты", "en": "Clients"}, "Клиенты"},
		{"/clients?q=Клиент2", 200, map[string]string{"ru": "Клиенты", "en": "Clients"}, "Клиенты"},
		{"/clients/3", 200, same("Клиент3"), "Клиенты"},
		{"/clients/3/delete", 200, map[string]string{"ru": "Удаление клиента", "en": "Delete client"}, "Клиенты"},
		{"/inbox", 200, map[string]string{"ru": "Диалоги", "en": "Conversations"}, "Диалоги"},
		{"/inbox?tab=closed", 200, map[string]string{"ru": "Диалоги", "en": "Conversations"}, "Диалоги"},
		{"/inbox/1", 200, same("Анна Петровна"), "Диалоги"},
		{"/inbox/4", 200, same("Мария"), "Диалоги"},
		{"/segments", 200, map[string]string{"ru": "Сегменты", "en": "Segments"}, "Сегменты"},
		{"/segments/new", 200, map[string]string{"ru": "Новый сегмент", "en": "New segment"}, "Сегменты"},
		{"/segments/moscow", 200, map[string]string{"ru": "Сегмент «moscow»", "en": "Segment “moscow”"}, "Сегменты"},
		{"/campaigns", 200, map[string]string{"ru": "Рассылки", "en": "Campaigns"}, "Рассылки"},
		{"/campaigns/new", 200, map[string]string{"ru": "Новая рассылка", "en": "New campaign"}, "Рассылки"},
		{"/campaigns/1", 200, same("Весенняя распродажа"), "Рассылки"},
		{"/campaigns/3?confirm=cancel", 200, same("<script>alert(1)</script>"), "Рассылки"},
		{"/scenarios", 200, map[string]string{"ru": "Сценарии", "en": "Scenarios"}, "Сценарии"},
		{"/scenarios/portrait", 200, map[string]string{"ru": "Сценарий «Знакомство»", "en": "Scenario “Знакомство”"}, "Сценарии"},
		{"/scenarios/portrait/funnel", 200, map[string]string{"ru": "Воронка: Знакомство", "en": "Funnel: Знакомство"}, "Сценарии"},
		{"/scenarios/portrait/play", 200, map[string]string{"ru": "Песочница: «Знакомство»", "en": "Playground: “Знакомство”"}, "Сценарии"},
		{"/users", 200, map[string]string{"ru": "Пользователи", "en": "Users"}, "Пользователи"},
		{"/users/operator/remove", 200, map[string]string{"ru": "Удалить пользователя?", "en": "Remove the user?"}, "Пользователи"},
		{"/audit", 200, map[string]string{"ru": "Журнал", "en": "Audit log"}, "Журнал"},
		{"/audit?before=11", 200, map[string]string{"ru": "Журнал", "en": "Audit log"}, "Журнал"},
		{"/audit?actor=nobody", 200, map[string]string{"ru": "Журнал", "en": "Audit log"}, "Журнал"},
		{"/profile", 200, map[string]string{"ru": "Профиль", "en": "Profile"}, ""},
		{"/no-such-page", 404, map[string]string{"ru": "Страница не найдена", "en": "Page not found"}, ""},
	}
	for _, lang := range []string{"ru", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx := newTab(t)
			// Signed out: the login page, and the form with an error.
			run(t, ctx, chromedp.Navigate(s.url+"/login?lang="+lang))
			p := readPage(t, ctx)
			if p.Lang != lang || p.H1 != map[string]string{"ru": "Вход", "en": "Sign in"}[lang] {
				t.Errorf("login page: %+v", p)
			}
			scanAccessibility(t, ctx, lang+" /login")
			if lang == "ru" {
				screenshot(t, ctx, "login-"+lang)
			}
			signIn(t, ctx, s.url, lang, "admin", "wrong")
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
			scanAccessibility(t, ctx, lang+" /login (error)")
			if lang == "ru" {
				screenshot(t, ctx, "login-error-"+lang)
			}

			signIn(t, ctx, s.url, lang, "admin", consoletest.Password("admin"))
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
			for _, v := range pages {
				run(t, ctx, chromedp.Navigate(s.url+v.path))
				p := readPage(t, ctx)
				if p.Status != v.status || p.H1 != v.h1[lang] || p.Lang != lang {
					t.Errorf("%s %s: status %d, lang %q, h1 %q; want %d, %q", lang, v.path, p.Status, p.Lang, p.H1, v.status, v.h1[lang])
				}
				if k := everyPageMissingKey.FindString(p.Text); k != "" {
					t.Errorf("%s %s shows a missing message key %s", lang, v.path, k)
				}
				current, err := chromedp.Run(ctx, chromedp.Evaluate[string](
					`Array.from(document.querySelectorAll('nav.menu [aria-current=page]'), a => a.getAttribute('href')).join(' ')`))
				if err != nil {
					t.Fatal(err)
				}
				if want := everyPageMenuPath(v.menu); current != want {
					t.Errorf("%s %s: the menu marks %q current, want %q", lang, v.path, current, want)
				}
				scanAccessibility(t, ctx, lang+" "+v.path)
				// Обзор's pictures are taken on the whole hub (internal/e2e,
				// TestOverviewPage), with real numbers.
				if v.path == "/audit" && lang == "ru" {
					screenshot(t, ctx, "audit-"+lang)
				}
			}
			// The 403 page, as an operator in a fresh browser context.
			op := newTab(t)
			signIn(t, op, s.url, lang, "operator", consoletest.Password("operator"))
			run(t, op, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)), chromedp.Navigate(s.url+"/users"))
			p = readPage(t, op)
			if p.Status != 403 || p.H1 != map[string]string{"ru": "Недостаточно прав", "en": "Not allowed"}[lang] {
				t.Errorf("%s operator /users: %+v", lang, p)
			}
			scanAccessibility(t, op, lang+" 403")
			if lang == "ru" {
				screenshot(t, op, "forbidden-"+lang)
			}
		})
	}
}

// TestBrowserAuditLog: an admin opens Журнал from the menu, sees a
// hostile actor as text, pages to older entries and filters by action.
func TestBrowserAuditLog(t *testing.T) {
	const actionSelect = `//select[@id=//label[normalize-space()="Действие"]/@for]`
	s := newSite(t)
	ctx := newTab(t)
	signIn(t, ctx, s.url, "ru", "admin", consoletest.Password("admin"))
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
		chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="Журнал"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Журнал"]`),
	)
	p := readPage(t, ctx)
	if p.Path != "/audit" || !strings.Contains(p.Text, "<script>alert(1)</script>") {
		t.Errorf("Журнал: %+v, want the actor <script>… shown as text", p)
	}
	run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Дальше"]`),
		chromedp.WaitVisible(`//a[normalize-space()="К новым записям"]`),
	)
	if p := readPage(t, ctx); p.Path != "/audit?before=11" || !strings.Contains(p.Text, "campaign 10") || strings.Contains(p.Text, "campaign 11") {
		t.Errorf("older page: %+v", p)
	}
	run(t, ctx,
		chromedp.Navigate(s.url+"/audit"),
		chromedp.WaitVisible(actionSelect),
		chromedp.SetValue(actionSelect, "login.failed"),
		chromedp.Click(button("Показать")),
		chromedp.WaitVisible(`//a[normalize-space()="Сбросить фильтр"]`),
	)
	p = readPage(t, ctx)
	if p.Path != "/audit?actor=&action=login.failed" || strings.Contains(p.Text, "spring sale") || !strings.Contains(p.Text, "client 10.0.0.1") {
		t.Errorf("filtered by action: %+v", p)
	}
}
