package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// copyScenarios copies the shipped scenarios and their tests into a
// directory the test may break.
func copyScenarios(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"*.yaml", "tests/*.test.yaml"} {
		files, err := filepath.Glob(filepath.Join("../../scenarios", pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("shipped scenarios %s: %v %v", pattern, files, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel("../../scenarios", f)
			if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// botSays waits until the playground shows a bot's message containing text.
func botSays(text string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(`//li[contains(@class,"pg-bot")][contains(., "` + text + `")]`)
}

// answer types text into «Сообщение» and sends it.
func answer(text string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(browsertest.ByLabel("Сообщение")),
		browsertest.Type(browsertest.ByLabel("Сообщение"), text),
		chromedp.Click(browsertest.Button("Отправить")),
	}
}

// runSteps runs actions one by one; a failure names the step and shows
// the page's text.
func runSteps(t *testing.T, ctx context.Context, steps []chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, s := range steps {
		sctx, cancel := context.WithTimeout(ctx, browsertest.StepTimeout)
		err := chromedp.Do(sctx, s)
		cancel()
		if err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("step %d: %v\npage:\n%s", i+1, err, text)
		}
	}
}

// TestScenariosConsole: an operator opens Сценарии and sees every shipped
// scenario valid with its triggers and deep links, opens the portrait's
// diagram, completes the portrait questionnaire in the playground (the
// playground client's portrait lands in the CRM), and a file broken while
// running shows file:line:col while its last good version keeps running.
func TestScenariosConsole(t *testing.T) {
	dir := copyScenarios(t)
	h := startHub(t, func(c *config.Config) { c.ScenariosDir = dir })
	ctx := h.signIn(t, "operator", "ru")

	// Сценарии from the menu.
	browsertest.Run(t, ctx,
		chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="Сценарии"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Сценарии"]`),
	)
	p := browsertest.ReadPage(t, ctx)
	if p.Path != "/scenarios" || p.Status != 200 {
		t.Errorf("Сценарии: %+v", p)
	}
	for _, want := range []string{
		"Знакомство", "Заявка для бизнеса", "Оценка обслуживания", "Мои данные",
		"/start", "/anketa", "«анкета»", "/feedback", "«отзыв»", "/profile", "/business",
		"https://t.me/" + telegramtest.BotUsername + "?start=b2b", "https://t.me/" + telegramtest.BotUsername + "?start=feedback",
		"4 сценария",
	} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("Сценарии lacks %q:\n%s", want, p.Text)
		}
	}
	if n := strings.Count(p.Text, "Без ошибок"); n != 4 {
		t.Errorf("%d scenarios valid, want 4:\n%s", n, p.Text)
	}
	// The shipped tests ran in the hub against these scenarios and passed.
	if n := len(regexp.MustCompile(`Все \d+ тест(а|ов) пройдены`).FindAllString(p.Text, -1)); n != 4 || !strings.Contains(p.Text, "Тесты сценариев запущены") {
		t.Errorf("%d scenarios' tests passed, want 4:\n%s", n, p.Text)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /scenarios")
	browsertest.Screenshot(t, ctx, "scenarios-ru")

	// A failing test added: the hub runs the tests again and shows the
	// failure's position and message.
	failing := "scenario: feedback\ncases:\n  - name: ждём сожаления\n    steps:\n      - press: \"5\"\n        expect: { bot: \"Нам жаль\" }\n"
	failingFile := filepath.Join(dir, "tests", "extra.test.yaml")
	if err := os.WriteFile(failingFile, []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}
	browsertest.Run(t, ctx, chromedp.Navigate(h.url+"/scenarios"))
	p = browsertest.ReadPage(t, ctx)
	failLine := regexp.QuoteMeta(failingFile) + `:6:24: case "ждём сожаления": step 1: expected bot text containing "Нам жаль", got "Насколько вероятно`
	if !regexp.MustCompile(`Не пройдено: 1 из \d+`).MatchString(p.Text) || !regexp.MustCompile(failLine).MatchString(p.Text) {
		t.Errorf("the failing test is not shown with file:line:col:\n%s", p.Text)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /scenarios (failing test)")
	if err := os.Remove(failingFile); err != nil {
		t.Fatal(err)
	}

	// The portrait's diagram.
	browsertest.Run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Знакомство"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Сценарий «Знакомство»"]`),
		chromedp.WaitVisible(chromedp.CSS(`svg[role=img]`)),
	)
	p = browsertest.ReadPage(t, ctx)
	for _, want := range []string{"Схема шагов", "Шаги и переходы", "кнопка «Да, согласен» → name", "если answer < 18 → minor"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("diagram page lacks %q", want)
		}
	}
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg .sc-box').length`))
	if err != nil || boxes != 10 {
		t.Errorf("%d boxes drawn (%v), want the portrait's 10 steps", boxes, err)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /scenarios/portrait")
	browsertest.Screenshot(t, ctx, "scenario-diagram-ru")

	// The playground: the whole portrait questionnaire.
	steps := portraitInPlayground("Анна", "30", "+7 912 345-67-89", "Фитнес", "Путешествия")
	runSteps(t, ctx, steps)
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('pg-status').innerText`))
	if err != nil || !strings.Contains(status, "Спасибо, Анна!") {
		t.Errorf("the status region announces %q (%v), want the bot's last reply", status, err)
	}
	browsertest.ScanAccessibility(t, ctx, "ru playground")
	browsertest.Screenshot(t, ctx, "playground-ru")

	// The chat survives a reload: it lives in the state store.
	browsertest.Run(t, ctx, chromedp.Reload(), botSays("Спасибо, Анна!"), chromedp.WaitVisible(`//li[contains(@class,"pg-client")][contains(., "📱 +7 912 345-67-89")]`))

	c, err := h.stores.CRM.GetClient(context.Background(), messenger.ChatKey{Platform: messenger.Playground, ID: "operator"})
	if err != nil || c == nil {
		t.Fatalf("playground client: %v, %v", c, err)
	}
	interests, _ := json.Marshal(c.Attributes["interests"])
	if c.FirstName != "Анна" || c.Age == nil || *c.Age != 30 || c.City != "Самара" || c.FamilyStatus != "married" ||
		c.Phone != "+79123456789" || c.ConsentAt == nil || string(interests) != `["fitness","travel"]` ||
		!slices.Contains(c.Tags, "portrait_done") {
		t.Errorf("playground client = %+v, interests %s", c, interests)
	}

	// A file broken while running: its errors as file:line:col, the last
	// good version keeps running.
	bad := "id: portrait\ntitle: Знакомство\nsteps:\n  consent:\n    sya: Привет\n    end: true\n"
	if err := os.WriteFile(filepath.Join(dir, "portrait.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	errLine := regexp.MustCompile(regexp.QuoteMeta(filepath.Join(dir, "portrait.yaml")) + `:5:5: unknown key "sya"`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		browsertest.Run(t, ctx, chromedp.Navigate(h.url+"/scenarios"))
		p = browsertest.ReadPage(t, ctx)
		if errLine.MatchString(p.Text) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !errLine.MatchString(p.Text) || !strings.Contains(p.Text, "Файл с ошибками — работает прошлая версия") {
		t.Fatalf("the broken file is not shown with file:line:col:\n%s", p.Text)
	}
	if n := strings.Count(p.Text, "Без ошибок"); n != 3 {
		t.Errorf("%d scenarios valid after breaking one, want 3", n)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /scenarios (broken file)")
	browsertest.Run(t, ctx,
		chromedp.Navigate(h.url+"/scenarios/portrait/play"),
		chromedp.Click(browsertest.Button("Начать заново")),
		botSays("Согласны на обработку"),
		chromedp.Click(browsertest.Button("Да, согласен")),
		botSays("Как к вам обращаться?"),
	)

	// English.
	en := h.signIn(t, "operator", "en")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/scenarios"))
	if p := browsertest.ReadPage(t, en); p.H1 != "Scenarios" || p.Lang != "en" || !strings.Contains(p.Text, "Valid") ||
		!strings.Contains(p.Text, "tests passed") || strings.Contains(p.Text, "[scenarios.") {
		t.Errorf("Scenarios in English: %+v", p)
	}
	browsertest.ScanAccessibility(t, en, "en /scenarios")
	browsertest.Screenshot(t, en, "scenarios-en")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/scenarios/feedback"))
	browsertest.ScanAccessibility(t, en, "en /scenarios/feedback")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/scenarios/feedback/play"))
	browsertest.ScanAccessibility(t, en, "en playground")
}

// TestScenariosEveryRole: managers and admins open Сценарии, a diagram and
// the playground too.
func TestScenariosEveryRole(t *testing.T) {
	h := startHub(t, nil)
	for _, name := range []string{"manager", "admin"} {
		ctx := h.signIn(t, name, "ru")
		for path, h1 := range map[string]string{
			"/scenarios": "Сценарии", "/scenarios/b2b": "Сценарий «Заявка для бизнеса»",
			"/scenarios/b2b/play": "Песочница: «Заявка для бизнеса»",
		} {
			browsertest.Run(t, ctx, chromedp.Navigate(h.url+path))
			if p := browsertest.ReadPage(t, ctx); p.Status != 200 || p.H1 != h1 {
				t.Errorf("%s %s: %+v", name, path, p)
			}
		}
	}
}

// portraitInPlayground is the steps that open the portrait scenario's
// playground from its page and complete the questionnaire as a client
// named name of age, from Самара, married, with interests, sharing phone.
func portraitInPlayground(name, age, phone string, interests ...string) []chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Click(`//a[normalize-space()="Открыть в песочнице"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Песочница: «Знакомство»"]`),
		chromedp.Click(browsertest.Button("Начать")),
		botSays("Согласны на обработку"),
		chromedp.Click(browsertest.Button("Да, согласен")),
		botSays("Как к вам обращаться?"),
	}
	steps = append(steps, answer(name)...)
	steps = append(steps, botSays(name+", сколько вам лет?"))
	steps = append(steps, answer(age)...)
	steps = append(steps,
		botSays("В каком городе"),
		chromedp.Click(browsertest.Button("Самара")),
		botSays("семейное положение"),
		chromedp.Click(browsertest.Button("В браке")),
		botSays("Что вам интересно?"),
	)
	for _, in := range interests {
		steps = append(steps, chromedp.Click(browsertest.Button(in)), chromedp.WaitVisible(browsertest.Button("✓ "+in)))
	}
	return append(steps,
		chromedp.Click(browsertest.Button("Готово")),
		botSays("оставьте номер"),
		chromedp.Click(`//form[contains(@class,"pg-buttons")]//button[contains(., "номер")]`),
		chromedp.WaitVisible(browsertest.ByLabel("Номер телефона")),
		browsertest.Type(browsertest.ByLabel("Номер телефона"), phone),
		chromedp.Click(browsertest.Button("Поделиться номером")),
		botSays("Спасибо, "+name+"!"),
	)
}
