package console

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// fakeCatalog is a ScenarioCatalog of fixed bots.
type fakeCatalog struct{ bots []ScenarioBot }

func (f fakeCatalog) ScenarioBots(context.Context) []ScenarioBot { return f.bots }

// fakeTests answers fixed test runs by bot name.
type fakeTests map[string]TestRun

func (f fakeTests) TestResults(_ context.Context, bot string) (TestRun, bool) {
	r, ok := f[bot]
	return r, ok
}

// sampleFailure is the first failure of sampleTestRun.
const sampleFailure = `scenarios/tests/feedback.test.yaml:12:15: case "низкая оценка": step 2: expected bot text containing "Нам жаль", got "Спасибо"`

// sampleTestRun: the portrait's tests pass, one of the feedback's fails,
// the others have none.
func sampleTestRun() TestRun {
	return TestRun{At: time.Date(2025, time.June, 4, 9, 30, 0, 0, time.UTC), Took: 420 * time.Millisecond,
		Scenarios: map[string]TestResult{
			"portrait": {Passed: 7},
			"feedback": {Passed: 3, Failed: 1, First: sampleFailure},
		}}
}

// fakePlayground records what it was asked and answers a fixed screen.
type fakePlayground struct {
	mu     sync.Mutex
	calls  []string
	inputs []localchat.Input
	screen localchat.Screen
}

func (f *fakePlayground) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakePlayground) Screen(_ context.Context, bot, user string) (localchat.Screen, error) {
	f.note("screen " + bot + "/" + user)
	return f.screen, nil
}

func (f *fakePlayground) Restart(_ context.Context, bot, user, id string) (localchat.Screen, error) {
	f.note("restart " + bot + "/" + user + " " + id)
	return f.screen, nil
}

func (f *fakePlayground) Input(_ context.Context, bot, user string, in localchat.Input) (localchat.Screen, error) {
	f.note("input " + bot + "/" + user)
	f.mu.Lock()
	f.inputs = append(f.inputs, in)
	f.mu.Unlock()
	return f.screen, nil
}

const scriptScenario = `id: xss
title: "<script>alert(1)</script>"
triggers:
  commands: [xss]
  payloads: ["promo_*"]
steps:
  ask:
    say: "<script>alert('вопрос')</script> Ваше имя?"
    input: text
    next: bye
  bye: { say: "Пока", end: true }
`

func scenarioFixture(t *testing.T) (*consoletest.Auth, http.Handler, *fakePlayground) {
	t.Helper()
	graphs := shippedScenarios(t)
	xss, err := scenario.Load("scenarios/xss.yaml", []byte(scriptScenario))
	if err != nil {
		t.Fatal(err)
	}
	graphs = append(graphs, xss)
	var portrait *scenario.Graph
	for _, g := range graphs {
		if g.ID == "portrait" {
			portrait = g
		}
	}
	_, brokenErr := scenario.Load("scenarios/new.yaml", []byte("id: new\nsteps:\n  a: { sya: x, end: true }\n"))
	problems := []scenario.Problem{
		{File: "scenarios/new.yaml", Errors: strings.Split(brokenErr.Error(), "\n")},
		{File: portrait.File, Errors: []string{portrait.File + ":12:3: unknown key \"stpes\" at the top level; did you mean \"steps\"?"}, Kept: portrait},
	}
	play := &fakePlayground{screen: localchat.Screen{Scenario: "xss", LiveMessage: "1",
		Live: []messenger.Button{{Text: "Да", Value: "yes"}, {Text: "📱 Отправить номер", RequestContact: true}},
		Messages: []localchat.Message{
			{ID: "1", From: localchat.FromBot, Text: "<script>alert('бот')</script> Согласны?"},
			{ID: "2", From: localchat.FromClient, Text: "<b>клиент</b>"},
			{ID: "3", From: localchat.FromBot, Text: "Записали <i>ответ</i>"},
		}}}
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Scenarios: ScenarioPages{
		Catalog: fakeCatalog{bots: []ScenarioBot{{
			Scenarios: graphs, Problems: problems,
			Links: []DeepLinkBase{{Platform: messenger.Telegram, Prefix: "https://t.me/shop_bot?start="}},
		}}},
		Playground: play,
		Tests:      fakeTests{"": sampleTestRun()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler(), play
}

// TestScenarioListShowsTests: each scenario's last test results in both
// languages — all passed, the first failure with its position, none —
// and a run that could not start shows the test files' errors.
func TestScenarioListShowsTests(t *testing.T) {
	t.Parallel()
	auth, h, _ := scenarioFixture(t)
	token := auth.Login("operator")
	esc := strings.ReplaceAll(sampleFailure, `"`, "&#34;")
	for lang, wants := range map[string][]string{
		"ru": {"<th scope=\"col\">Тесты</th>", "Все 7 тестов пройдены", "Не пройдено: 1 из 4", "Первая ошибка:", esc, "Нет тестов",
			"Тесты сценариев запущены", `datetime="2025-06-04T09:30:00Z"`, "заняли 0,4 с."},
		"en": {"<th scope=\"col\">Tests</th>", "All 7 tests passed", "Failed: 1 of 4", "First failure:", esc, "No tests",
			"Scenario tests ran", "took 0.4 s."},
	} {
		body := do(h, "GET", "/scenarios?lang="+lang, token, nil, nil).Body.String()
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s: Сценарии lacks %q", lang, want)
			}
		}
	}

	broken := `scenarios/tests/portrait.test.yaml:3:5: unknown key "stpes" in a test case; did you mean "steps"?`
	c, err := New(Config{Auth: auth, Scenarios: ScenarioPages{
		Catalog: fakeCatalog{bots: []ScenarioBot{{Scenarios: shippedScenarios(t)}}},
		Tests:   fakeTests{"": {At: time.Now(), Problems: []string{broken}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	body := do(c.Handler(), "GET", "/scenarios", token, nil, nil).Body.String()
	for _, want := range []string{"Тесты не запущены: в файлах тестов ошибки", strings.ReplaceAll(broken, `"`, "&#34;")} {
		if !strings.Contains(body, want) {
			t.Errorf("a broken test file: Сценарии lacks %q", want)
		}
	}
	if strings.Contains(body, "Тесты сценариев запущены") {
		t.Errorf("a run that did not start is shown as run")
	}
}

// TestScenarioPagesByRole: every role opens Сценарии, a diagram and the
// playground, and may talk in it.
func TestScenarioPagesByRole(t *testing.T) {
	t.Parallel()
	auth, h, play := scenarioFixture(t)
	for _, role := range []string{"operator", "manager", "admin"} {
		token := auth.Login(role)
		for _, target := range []string{"/scenarios", "/scenarios/portrait", "/scenarios/xss/play"} {
			if w := do(h, "GET", target, token, nil, nil); w.Code != http.StatusOK {
				t.Errorf("%s GET %s: %d", role, target, w.Code)
			}
		}
		w := do(h, "POST", "/scenarios/xss/play", token, url.Values{"text": {"Анна"}}, map[string]string{"HX-Request": "true"})
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="playground"`) || strings.Contains(w.Body.String(), "<html") {
			t.Errorf("%s htmx POST: %d\n%s", role, w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `<div id="pg-status" hx-swap-oob="innerHTML">Записали &lt;i&gt;ответ&lt;/i&gt;</div>`) {
			t.Errorf("%s htmx POST: no announcement for screen readers", role)
		}
		if !strings.Contains(strings.Join(play.calls, "|"), "input /"+role) {
			t.Errorf("the playground client is not the user: %v", play.calls)
		}
	}
}

func TestScenarioListShowsStatusTriggersLinksAndErrors(t *testing.T) {
	t.Parallel()
	auth, h, _ := scenarioFixture(t)
	w := do(h, "GET", "/scenarios", auth.Login("operator"), nil, nil)
	body := w.Body.String()
	for _, want := range []string{
		"Знакомство", "/start", "/anketa", "«анкета»", "Без ошибок",
		// the kept version with its file's error, and a file that never loaded
		"Файл с ошибками — работает прошлая версия", `:12:3: unknown key &#34;stpes&#34;`,
		"Файл не загружен:", "scenarios/new.yaml:3:",
		// deep links, a prefix pattern linked by its prefix
		`href="https://t.me/shop_bot?start=promo_"`, "https://t.me/shop_bot?start=promo_*",
		"Открыть в песочнице",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("Сценарии lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Errorf("a scenario's title is not escaped")
	}
}

func TestScenarioDiagramPage(t *testing.T) {
	t.Parallel()
	auth, h, _ := scenarioFixture(t)
	token := auth.Login("operator")
	w := do(h, "GET", "/scenarios/xss", token, nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(&#39;вопрос&#39;)") {
		t.Errorf("the question is not escaped:\n%s", body)
	}
	for _, want := range []string{`<svg`, `role="img"`, `aria-labelledby="sc-svg-title sc-svg-desc"`, `<title id="sc-svg-title">`,
		"Шаги и переходы", "дальше → bye", "(конец)"} {
		if !strings.Contains(body, want) {
			t.Errorf("diagram page lacks %q", want)
		}
	}
	w = do(h, "GET", "/scenarios/portrait", token, nil, nil)
	if !strings.Contains(w.Body.String(), "кнопка «Да, согласен» → name") || !strings.Contains(w.Body.String(), "если answer &lt; 18 → minor") {
		t.Errorf("portrait's transitions are not listed")
	}
	for _, target := range []string{"/scenarios/nope", "/scenarios/portrait?bot=other", "/scenarios/nope/play"} {
		if w := do(h, "GET", target, token, nil, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", target, w.Code)
		}
	}
}

func TestPlaygroundPage(t *testing.T) {
	t.Parallel()
	auth, h, play := scenarioFixture(t)
	token := auth.Login("operator")
	body := do(h, "GET", "/scenarios/xss/play", token, nil, nil).Body.String()
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>клиент") {
		t.Errorf("the chat is not escaped:\n%s", body)
	}
	for _, want := range []string{`role="log"`, `name="button" value="1"`, `name="message" value="1"`, "📱 Отправить номер", "Сообщение", "Начать заново"} {
		if !strings.Contains(body, want) {
			t.Errorf("playground lacks %q", want)
		}
	}
	// Another scenario's page offers to start it.
	if body := do(h, "GET", "/scenarios/portrait/play", token, nil, nil).Body.String(); !strings.Contains(body, "ещё не начат") {
		t.Errorf("portrait's playground does not offer to start")
	}
	// A plain form post goes back to the page; the inputs reach the playground.
	w := do(h, "POST", "/scenarios/xss/play", token, url.Values{"button": {"2"}, "message": {"1"}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/scenarios/xss/play" {
		t.Errorf("plain POST: %d %q", w.Code, w.Header().Get("Location"))
	}
	do(h, "POST", "/scenarios/xss/play", token, url.Values{"contact": {"1"}, "phone": {"+79123456789"}}, nil)
	do(h, "POST", "/scenarios/portrait/play/restart", token, url.Values{}, nil)
	want := []localchat.Input{{Button: 2, Message: "1"}, {Text: "+79123456789", Contact: true}}
	if len(play.inputs) != 2 || play.inputs[0] != want[0] || play.inputs[1] != want[1] {
		t.Errorf("inputs = %+v, want %+v", play.inputs, want)
	}
	if last := play.calls[len(play.calls)-1]; last != "restart /operator portrait" {
		t.Errorf("last call %q", last)
	}
	if w := do(h, "POST", "/scenarios/nope/play/restart", token, url.Values{}, nil); w.Code != http.StatusNotFound {
		t.Errorf("restart of an unknown scenario: %d", w.Code)
	}
}

// TestScenarioKeysExist: every message key scenarios.go names is in both
// catalogs, and every input kind has a label.
func TestScenarioKeysExist(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("scenarios.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := goKeyRE.FindAllStringSubmatch(string(b), -1)
	if len(keys) < 5 {
		t.Fatalf("only %d keys found", len(keys))
	}
	for _, k := range []scenario.InputKind{scenario.InputNone, scenario.InputText, scenario.InputNumber, scenario.InputEmail,
		scenario.InputPhone, scenario.InputDate, scenario.InputChoice, scenario.InputContact} {
		keys = append(keys, []string{"", "scenarios.kind." + k.String()})
	}
	for _, m := range keys {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, m[1]) {
				t.Errorf("key %q missing from %s", m[1], l)
			}
		}
	}
}
