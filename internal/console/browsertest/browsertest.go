// Package browsertest drives the web console in headless Chromium for
// tests (chromedp; Debian's chromium package): one browser per test
// binary, a fresh browser context per test, helpers that find things by
// their visible labels, screenshots for docs/CONSOLE.md and an axe-core
// accessibility scan. Only test binaries import it.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive the real console in headless Chromium: one
// browser for the whole test binary (its start is the slow part), a fresh
// browser context (own cookies) per test, the tests one after another
// (none calls t.Parallel), each bounded by TestTimeout.

// axeSource is axe-core, vendored for tests only (axe.min.js,
// MPL-2.0); it is injected into each page by the accessibility scan.
//
//go:embed axe.min.js
var axeSource string

const TestTimeout = 2 * time.Minute

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

// Main runs a test binary's tests and then closes the shared browser:
// call it from TestMain (func TestMain(m *testing.M) { browsertest.Main(m) }).
func Main(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// NewTab returns a tab in a fresh browser context (no cookies) bounded by
// TestTimeout; the test fails (CI) or skips (locally) without a
// browser.
func NewTab(t *testing.T) context.Context {
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
	case <-time.After(StepTimeout):
		t.Fatalf("open a browser tab: no answer within %s", StepTimeout)
	}
	ctx, cancel := context.WithTimeout(tab, TestTimeout)
	t.Cleanup(cancel)
	return ctx
}

// StepTimeout bounds one run of actions (a page load and its waits), so
// a page that never shows what a test waits for fails in seconds, not at
// TestTimeout; generous for a loaded 2-core machine.
const StepTimeout = 30 * time.Second

// Run runs actions in the tab of ctx, one after the other, within
// StepTimeout, and fails the test at the first that fails, naming it (its
// place in the list) and the page it was on: its address and the start of
// its main text.
func Run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	for i, a := range actions {
		if err := chromedp.Do(step, a); err != nil {
			t.Fatalf("browser: action %d of %d: %v; %s", i+1, len(actions), err, pageNow(ctx))
		}
	}
}

// pageNow describes the page of ctx's tab for a failure: its address and
// the start of its visible main text (a few seconds at most to read them).
func pageNow(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	at, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return fmt.Sprintf("the page could not be read: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main") || document.body || {innerText: ""}).innerText.slice(0, 400)`))
	if err != nil {
		return fmt.Sprintf("page %s, its text could not be read: %v", at, err)
	}
	return fmt.Sprintf("page %s: %q", at, text)
}

// ByLabel selects the input whose visible <label> reads label.
func ByLabel(label string) string {
	return fmt.Sprintf(`//input[@id=//label[normalize-space()=%q]/@for]`, label)
}

// Button selects the button reading text.
func Button(text string) string { return fmt.Sprintf(`//button[normalize-space()=%q]`, text) }

// SignIn logs in through the form by its visible labels.
func SignIn(t *testing.T, ctx context.Context, base, lang, name, password string) {
	t.Helper()
	labels := map[string][3]string{"ru": {"Имя пользователя", "Пароль", "Войти"}, "en": {"User name", "Password", "Sign in"}}[lang]
	Run(t, ctx,
		chromedp.Navigate(base+"/login?lang="+lang),
		Type(ByLabel(labels[0]), name),
		Type(ByLabel(labels[1]), password),
		chromedp.Click(Button(labels[2])),
	)
}

// PageState is what a test reads of the loaded page.
type PageState struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
	Lang   string `json:"lang"`
	H1     string `json:"h1"`
	Menu   string `json:"menu"`
	Alert  string `json:"alert"`
	Text   string `json:"text"`
}

// ReadPage waits for the page's <h1> and reads its state; Status is the
// HTTP status of the document's (last full) navigation.
func ReadPage(t *testing.T, ctx context.Context) PageState {
	t.Helper()
	Run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`h1`)))
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
	var p PageState
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Screenshot saves the viewport as NAME.png into CHATHUB_SCREENSHOTS when
// set (docs/CONSOLE.md's pictures: CHATHUB_SCREENSHOTS=$PWD/docs/console
// go test -run BrowserEveryPage ./internal/console/).
func Screenshot(t *testing.T, ctx context.Context, name string) {
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

// ScanAccessibility injects axe-core into the page and fails on serious or
// critical violations.
func ScanAccessibility(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	Run(t, ctx, chromedp.Evaluate[chromedp.Void](axeSource))
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

// Type types text into the element sel selects (by default an XPath, as
// ByLabel gives), as a person does: it waits for the element to be
// visible, focuses it and sends the keys to the page. Use it instead of
// chromedp.SendKeys, which reads the node's attributes without holding its
// lock (chromedp v0.23.1, query.go) and so races, under -race, with the DOM
// events htmx's attribute changes send.
func Type(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Focus(sel, chromedp.NodeVisible), chromedp.KeyEvent(text))
}
