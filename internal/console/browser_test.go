package console

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/consoletest"
)

// The browser tests drive the real console in headless Chromium: one
// browser for the whole test binary (its start is the slow part), a fresh
// browser context (own cookies) per test, the tests one after another
// (none calls t.Parallel), each bounded by browserTestTimeout.

// axeSource is axe-core, vendored for tests only (testdata/axe.min.js,
// MPL-2.0); it is injected into each page by the accessibility scan.
//
//go:embed testdata/axe.min.js
var axeSource string

const browserTestTimeout = 2 * time.Minute

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

// chromiumPath finds the browser: CHATHUB_CHROMIUM, else chromium (or
// chromium-browser, google-chrome) on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHATHUB_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CHATHUB_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (apt-get install chromium, or set CHATHUB_CHROMIUM)")
}

// browserRequired: in CI a missing browser fails the tests instead of
// skipping them.
func browserRequired() bool {
	return os.Getenv("CI") != "" && os.Getenv("CI") != "0" || os.Getenv("CHATHUB_REQUIRE_BROWSER") == "1"
}

func startBrowser(path string) (context.Context, func(), error) {
	dir, err := os.MkdirTemp("", "chathub-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // required as root (CI containers)
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	cancel := func() { cancelCtx(); cancelAlloc(); _ = os.RemoveAll(dir) }
	// Starting Chromium on a loaded 2-core machine can take a while.
	// The first call starts the browser, which lives as long as that call's
	// context: no timeout on it, so the wait is bounded here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("start %s: %w", path, err)
		}
	case <-time.After(time.Minute):
		cancel()
		return nil, nil, fmt.Errorf("start %s: no answer within a minute", path)
	}
	return ctx, cancel, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// newTab returns a tab in a fresh browser context (no cookies) bounded by
// browserTestTimeout; the test fails (CI) or skips (locally) without a
// browser.
func newTab(t *testing.T) context.Context {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		if browserRequired() {
			t.Fatalf("browser tests required (CI or CHATHUB_REQUIRE_BROWSER=1): %v", err)
		}
		t.Skipf("browser tests skipped: %v", err)
	}
	browser.once.Do(func() { browser.ctx, browser.cancel, browser.err = startBrowser(path) })
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	tab, cancelTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab)
	// The first call opens the tab, which lives as long as that call's
	// context: the tab's own, so the wait is bounded here.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(tab) }()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open a browser tab: %v", err)
		}
	case <-time.After(stepTimeout):
		t.Fatalf("open a browser tab: no answer within %s", stepTimeout)
	}
	ctx, cancel := context.WithTimeout(tab, browserTestTimeout)
	t.Cleanup(cancel)
	return ctx
}

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
	c, err := New(Config{Auth: auth, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return site{auth: auth, url: srv.URL}
}

// stepTimeout bounds one run of actions (a page load and its waits), so
// a page that never shows what a test waits for fails in seconds, not at
// browserTestTimeout; generous for a loaded 2-core machine.
const stepTimeout = 30 * time.Second

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// byLabel selects the input whose visible <label> reads label.
func byLabel(label string) string {
	return fmt.Sprintf(`//input[@id=//label[normalize-space()=%q]/@for]`, label)
}

// button selects the button reading text.
func button(text string) string { return fmt.Sprintf(`//button[normalize-space()=%q]`, text) }

// signIn logs in through the form by its visible labels.
func signIn(t *testing.T, ctx context.Context, base, lang, name, password string) {
	t.Helper()
	labels := map[string][3]string{"ru": {"Имя пользователя", "Пароль", "Войти"}, "en": {"User name", "Password", "Sign in"}}[lang]
	run(t, ctx,
		chromedp.Navigate(base+"/login?lang="+lang),
		chromedp.SendKeys(byLabel(labels[0]), name),
		chromedp.SendKeys(byLabel(labels[1]), password),
		chromedp.Click(button(labels[2])),
	)
}

// pageState is what a test reads of the loaded page.
type pageState struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
	Lang   string `json:"lang"`
	H1     string `json:"h1"`
	Menu   string `json:"menu"`
	Alert  string `json:"alert"`
	Text   string `json:"text"`
}

// readPage waits for the page's <h1> and reads its state; Status is the
// HTTP status of the document's (last full) navigation.
func readPage(t *testing.T, ctx context.Context) pageState {
	t.Helper()
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`h1`)))
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
			path: location.pathname + location.search,
			status: (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0,
			lang: document.documentElement.lang,
			h1: document.querySelector('h1').innerText,
			menu: (document.querySelector('nav.menu') || {innerText: ''}).innerText,
			alert: (document.querySelector('[role=alert]') || {innerText: ''}).innerText,
			text: document.body.innerText})`))
	if err != nil {
		t.Fatal(err)
	}
	var p pageState
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
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
// section, including the not-yet pages answered with 404.
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
	if p.Path != "/clients" || p.H1 != "Раздел «Клиенты» ещё не готов" {
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

// screenshot saves the viewport as NAME.png into CHATHUB_SCREENSHOTS when
// set (docs/CONSOLE.md's pictures: CHATHUB_SCREENSHOTS=$PWD/docs/console
// go test -run BrowserEveryPage ./internal/console/).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CHATHUB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeResult is the part of axe.run's result the scan reads.
type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	} `json:"violations"`
}

// scanAccessibility injects axe-core into the page and fails on serious or
// critical violations.
func scanAccessibility(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](axeSource))
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](
		`axe.run(document, {resultTypes: ['violations']}).then(r => ({violations: r.violations}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: axe %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// TestBrowserEveryPage opens every page in both languages as the role that
// sees it, checks its language and heading, and scans it with axe-core.
func TestBrowserEveryPage(t *testing.T) {
	s := newSite(t)
	type visit struct {
		path   string
		status int
		h1     map[string]string
	}
	pages := []visit{
		{"/", 200, map[string]string{"ru": "Обзор", "en": "Overview"}},
		{"/clients", 404, map[string]string{"ru": "Раздел «Клиенты» ещё не готов", "en": "The Clients section is not ready yet"}},
		{"/segments", 404, map[string]string{"ru": "Раздел «Сегменты» ещё не готов", "en": "The Segments section is not ready yet"}},
		{"/campaigns", 404, map[string]string{"ru": "Раздел «Рассылки» ещё не готов", "en": "The Campaigns section is not ready yet"}},
		{"/scenarios", 404, map[string]string{"ru": "Раздел «Сценарии» ещё не готов", "en": "The Scenarios section is not ready yet"}},
		{"/users", 404, map[string]string{"ru": "Раздел «Пользователи» ещё не готов", "en": "The Users section is not ready yet"}},
		{"/audit", 200, map[string]string{"ru": "Журнал", "en": "Audit log"}},
		{"/audit?before=11", 200, map[string]string{"ru": "Журнал", "en": "Audit log"}},
		{"/audit?actor=nobody", 200, map[string]string{"ru": "Журнал", "en": "Audit log"}},
		{"/no-such-page", 404, map[string]string{"ru": "Страница не найдена", "en": "Page not found"}},
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
					t.Errorf("%s %s: %+v", lang, v.path, p)
				}
				if strings.Contains(p.Text, "[") {
					t.Errorf("%s %s shows a missing message key: %q", lang, v.path, p.Text)
				}
				scanAccessibility(t, ctx, lang+" "+v.path)
				switch v.path {
				case "/":
					screenshot(t, ctx, "overview-"+lang)
				case "/audit":
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
