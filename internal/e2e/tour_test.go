package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/demo"
	"github.com/chathub/chathub/internal/store/postgres"
)

// tourCity selects the personas the tour's segment holds.
const tourCity = "Москва"

// startTourDemo runs `chathub demo` in-process on a free port with its
// data in a temporary directory; it stops when t ends.
func startTourDemo(t *testing.T) *demo.Demo {
	t.Helper()
	base := config.Default()
	base.ScenariosDir = "../../scenarios"
	d, err := demo.Start(context.Background(), demo.Config{Base: base, Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start the demo: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Stop(context.Background()); err != nil {
			t.Errorf("stop the demo: %v", err)
		}
	})
	return d
}

// menu clicks the menu item reading item and waits for the page's <h1>.
func menu(item, h1 string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Click(`//nav[@class="menu"]//a[normalize-space()="` + item + `"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="` + h1 + `"]`),
	}
}

// scanned checks the loaded page answered 200 and passes axe.
func scanned(t *testing.T, ctx context.Context, name string) browsertest.PageState {
	t.Helper()
	p := browsertest.ReadPage(t, ctx)
	if p.Status != 200 || p.Lang != "ru" {
		t.Errorf("%s: %+v", name, p)
	}
	browsertest.ScanAccessibility(t, ctx, name)
	return p
}

// waitPath waits until the tab's location matches re and returns its
// submatches.
func waitPath(t *testing.T, ctx context.Context, re *regexp.Regexp) []string {
	t.Helper()
	var path string
	for deadline := time.Now().Add(browsertest.StepTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		path = evaluate[string](t, ctx, `location.pathname`)
		if m := re.FindStringSubmatch(path); m != nil {
			return m
		}
	}
	t.Fatalf("at %q, want %s", path, re)
	return nil
}

// TestTourDemo is issue 11's tour of `chathub demo`, as a newcomer does it
// in Russian, only by clicking what the pages show: sign in with the
// printed admin, complete the portrait questionnaire in the playground,
// find the new card under Клиенты, build and save a segment, compose a
// campaign to it (preview, dry run), start it and watch it finish; each
// persona of the segment got exactly one message with their own name on
// the fake Telegram, the page's counters are the ledger's, and Обзор
// shows the result and the clients' count.
func TestTourDemo(t *testing.T) {
	d := startTourDemo(t)
	base := strings.TrimSuffix(d.URL, "/")
	ctx := browsertest.NewTab(t)

	// Sign in with the printed admin: Обзор.
	browsertest.SignIn(t, ctx, base, "ru", demo.AdminName, d.AdminPassword)
	browsertest.Run(t, ctx, chromedpWaitMenu(), chromedp.WaitVisible(`//h1[normalize-space()="Обзор"]`))
	p := scanned(t, ctx, "tour /")
	if got := stat(t, ctx, "total"); got != strconv.Itoa(len(d.Personas)) {
		t.Errorf("Обзор before the tour: %s clients, want the %d personas", got, len(d.Personas))
	}

	// Сценарии → «Знакомство» → the playground: the whole questionnaire.
	browsertest.Run(t, ctx, menu("Сценарии", "Сценарии")...)
	scanned(t, ctx, "tour /scenarios")
	browsertest.Run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Знакомство"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Сценарий «Знакомство»"]`),
	)
	scanned(t, ctx, "tour /scenarios/portrait")
	steps := portraitInPlayground("Тимофей", "29", "+7 912 000-11-22", "Путешествия")
	runSteps(t, ctx, steps)
	browsertest.ScanAccessibility(t, ctx, "tour playground")
	browsertest.Screenshot(t, ctx, "tour-playground-ru")

	// The playground points to its clients under Клиенты: Тимофей is there.
	browsertest.Run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Его карточка — в разделе «Клиенты»."]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Клиенты"]`),
		chromedp.WaitVisible(`//div[@id="clients-status"]//strong[normalize-space()="1 клиент"]`),
		chromedp.WaitVisible(`//table//a[contains(normalize-space(), "Тимофей")]`),
	)
	scanned(t, ctx, "tour /clients (playground)")

	// Клиенты from the menu: the playground client is there, newest first,
	// without a reload; the card has the answers.
	browsertest.Run(t, ctx, menu("Клиенты", "Клиенты")...)
	browsertest.Run(t, ctx, chromedp.WaitVisible(fmt.Sprintf(`//div[@id="clients-status"]//strong[normalize-space()="%d клиентов"]`, len(d.Personas)+1)))
	scanned(t, ctx, "tour /clients")
	browsertest.Run(t, ctx,
		chromedp.Click(`//table//a[contains(normalize-space(), "Тимофей")]`),
		chromedp.WaitVisible(`//h1[contains(normalize-space(), "Тимофей")]`),
	)
	p = scanned(t, ctx, "tour client card")
	for _, want := range []string{"Самара", "+79120001122", "portrait_done"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the playground client's card lacks %q:\n%s", want, p.Text)
		}
	}
	answers := evaluate[[]string](t, ctx, `[...document.querySelectorAll('section[aria-labelledby="card-answers"] tbody tr')]
		.map(tr => [...tr.cells].slice(1).map(td => td.innerText.trim()).join(' '))`)
	for _, want := range []string{"portrait name first_name Тимофей", "portrait age age 29", "portrait city city Самара"} {
		if !slices.ContainsFunc(answers, func(a string) bool { return strings.HasPrefix(a, want) || strings.Contains(a, want) }) {
			t.Errorf("the card's answer history lacks %q: %q", want, answers)
		}
	}

	// Сегменты → «Новый сегмент»: typed, counted, saved.
	var inCity []demo.Persona
	for _, ps := range d.Personas {
		for _, ch := range ps.Changes {
			for _, f := range ch.Set {
				if f.Field == "city" && f.Value == tourCity {
					inCity = append(inCity, ps)
				}
			}
		}
	}
	if len(inCity) < 2 {
		t.Fatalf("%d personas in %s; the tour needs some", len(inCity), tourCity)
	}
	count := fmt.Sprintf("%d клиента", len(inCity))
	browsertest.Run(t, ctx, menu("Сегменты", "Сегменты")...)
	scanned(t, ctx, "tour /segments")
	browsertest.Run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Новый сегмент"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Новый сегмент"]`),
		browsertest.Type(textarea("Выражение"), `city == "`+tourCity+`"`),
		chromedp.WaitVisible(`//span[@class="seg-live-count"][normalize-space()="`+count+`"]`),
	)
	scanned(t, ctx, "tour /segments/new")
	browsertest.Run(t, ctx,
		browsertest.Type(browsertest.ByLabel("Имя"), "moskva"),
		browsertest.Type(browsertest.ByLabel("Описание"), "Клиенты из Москвы"),
		chromedp.Click(browsertest.Button("Сохранить")),
		chromedp.WaitVisible(`//tr[@data-segment="moskva"]//span[@class="seg-count-value"][normalize-space()="`+count+`"]`),
		// The next step is offered right there.
		chromedp.WaitVisible(`//p[@role="status"]//a[normalize-space()="Новая рассылка по этому сегменту"][@href="/campaigns/new?segment=moskva"]`),
	)
	scanned(t, ctx, "tour /segments (saved)")

	// Рассылки → «Новая рассылка»: the saved segment, a text with the
	// client's name, its preview and the dry run; created.
	const text = "{{ .client.first_name }}, в субботу открываем новый зал!"
	browsertest.Run(t, ctx, menu("Рассылки", "Рассылки")...)
	scanned(t, ctx, "tour /campaigns")
	runSteps(t, ctx, []chromedp.Action[chromedp.Void]{
		chromedp.Click(`//a[normalize-space()="Новая рассылка"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Новая рассылка"]`),
		tourSettled(),
		chromedp.Click(`//select[@id=//label[normalize-space()="Сохранённый сегмент"]/@for]`),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.getElementById(document.evaluate('//label[normalize-space()="Сохранённый сегмент"]/@for', document).iterateNext().value);
			s.value = 'moskva';
			s.dispatchEvent(new Event('change', {bubbles: true}));
		})()`),
		containing("compose-count", "В сегменте сейчас "+count+"."),
		browsertest.Type(textarea("Текст"), text),
		containing("compose-preview", ", в субботу открываем новый зал!"),
		chromedp.Click(browsertest.Button("Проверить рассылку")),
		containing("compose-summary", fmt.Sprintf("Отправится %d из %d клиентов.", len(inCity), len(inCity))),
	})
	// The preview is the text for sample clients of the segment, each with
	// their own name.
	preview := evaluate[string](t, ctx, `document.getElementById('compose-preview').innerText`)
	for _, m := range regexp.MustCompile(`(?m)^(\S+), в субботу открываем новый зал!$`).FindAllStringSubmatch(preview, -1) {
		if !slices.ContainsFunc(inCity, func(p demo.Persona) bool { return p.FirstName == m[1] }) {
			t.Errorf("the preview shows %q, not a client of the segment:\n%s", m[0], preview)
		}
	}
	scanned(t, ctx, "tour /campaigns/new")
	browsertest.Run(t, ctx,
		browsertest.Type(browsertest.ByLabel("Название"), "Новый зал"),
		chromedp.Click(browsertest.Button("Создать черновик")),
	)
	id, _ := strconv.ParseInt(waitPath(t, ctx, campaignPath)[1], 10, 64)

	// Started from its page with the confirmation, it finishes: 100%.
	browsertest.Run(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Новый зал"]`))
	scanned(t, ctx, "tour campaign draft")
	confirm(t, ctx, "Запустить", "Да, запустить")
	deadline := time.Now().Add(60 * time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := chromedp.Do(sctx, chromedp.WaitVisible(stateShown("Завершена")))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish:\n%s", browsertest.ReadPage(t, ctx).Text)
		}
	}
	prog := evaluate[progressState](t, ctx, progressJS)
	if prog.Value != prog.Max || prog.Max != float64(len(inCity)) || !strings.HasPrefix(prog.Label, "100%") {
		t.Errorf("finished progress %+v, want 100%% of %d", prog, len(inCity))
	}
	scanned(t, ctx, "tour campaign done")
	browsertest.Screenshot(t, ctx, "tour-campaign-done-ru")

	// The page's counters are the ledger's.
	ledger := tourLedger(t, d.Stores.CRM, id)
	shown := evaluate[map[string]int](t, ctx, breakdownJS)
	for label, status := range map[string]string{"Отправлено": broadcast.StatusSent, "Не доставлено": broadcast.StatusFailed,
		"Заблокировали бота": broadcast.StatusBlocked, "Пропущено": broadcast.StatusSkipped, "В очереди": broadcast.StatusQueued} {
		if shown[label] != ledger[status] {
			t.Errorf("page shows %s = %d, ledger %d (page %v, ledger %v)", label, shown[label], ledger[status], shown, ledger)
		}
	}
	if shown["Аудитория"] != ledger["total"] || ledger["total"] != len(inCity) || ledger[broadcast.StatusSent] != len(inCity) {
		t.Errorf("page %v, ledger %v: want %d sent", shown, ledger, len(inCity))
	}

	// On the fake Telegram each persona of the segment got the message
	// once, with their own name; the others got nothing.
	for _, ps := range d.Personas {
		want, got := 0, 0
		for _, c := range inCity {
			if c.UserID == ps.UserID {
				want = 1
			}
		}
		for _, m := range d.Telegram.Messages(ps.UserID) {
			if strings.Contains(m.Text, "в субботу открываем новый зал") {
				got++
				if m.Text != ps.FirstName+", в субботу открываем новый зал!" {
					t.Errorf("%s %s got %q", ps.FirstName, ps.LastName, m.Text)
				}
			}
		}
		if got != want {
			t.Errorf("%s %s got the campaign %d times, want %d", ps.FirstName, ps.LastName, got, want)
		}
	}

	// Обзор: the clients' count with the playground client, and the
	// campaign's result.
	// Обзор counts the clients at most every 10 s (it says when): a
	// person clicking along sees the new client; the test reloads as they
	// would.
	browsertest.Run(t, ctx, menu("Обзор", "Обзор")...)
	total := strconv.Itoa(len(d.Personas) + 1)
	for deadline := time.Now().Add(15 * time.Second); stat(t, ctx, "total") != total && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		browsertest.Run(t, ctx, chromedp.Reload(), chromedp.WaitVisible(`//h1[normalize-space()="Обзор"]`))
	}
	if got := stat(t, ctx, "total"); got != total {
		t.Errorf("Обзор after the tour: %s clients, want %s", got, total)
	}
	p = scanned(t, ctx, "tour / after")
	result := fmt.Sprintf(`//section[h2[normalize-space()="Недавно завершённые рассылки"]]//li[.//a[normalize-space()="Новый зал"]]`+
		`[contains(., "завершена")][contains(., "отправлено %d из %d")]`, len(inCity), len(inCity))
	browsertest.Run(t, ctx, chromedp.WaitVisible(result), chromedp.Evaluate[chromedp.Void](`document.getElementById('ov-campaigns').scrollIntoView({block: 'start'})`))
	browsertest.Screenshot(t, ctx, "tour-overview-ru")
}

// tourSettled waits until htmx has no request in flight (the composer's
// own count and preview, loaded with the page, have answered).
func tourSettled() chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`document.readyState === 'complete' && document.querySelector('.htmx-request') === null`)
}

// tourLedger counts campaign id's deliveries by status, and "total".
func tourLedger(t *testing.T, st *postgres.Store, id int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := st.EachDelivery(context.Background(), id, func(d broadcast.Delivery) error {
		out[d.Status]++
		out["total"]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
