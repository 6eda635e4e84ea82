package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
)

// campaignRPS is the bot's broadcast budget in the campaign test: slow
// enough (30 clients in about 10 s) to pause mid-way and watch the
// progress move.
const campaignRPS = 3

// Seeded clients: campaignClients subscribed ones (user ids 1…n), one
// more subscribed whose chat the fake Telegram does not know (the send
// fails: "chat not found"), and campaignUnsubscribed more who are not
// subscribed (skipped: unsubscribed).
const (
	campaignClients      = 30
	campaignUnknown      = campaignClients + 1
	campaignUnsubscribed = 2
	campaignAudience     = campaignUnknown + campaignUnsubscribed
)

// campaignHub is a hub with seeded clients, the broadcast service and SQL
// access to its schema.
type campaignHub struct {
	*hub
	svc *broadcast.Service
	db  *sql.DB
}

func startCampaignHub(t *testing.T) *campaignHub {
	t.Helper()
	h := startHub(t, func(c *config.Config) { c.Telegram.RequestsPerSecond = campaignRPS })
	pcfg, err := pgx.ParseConfig(h.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*pcfg)
	t.Cleanup(func() { db.Close() })
	svc, err := app.BroadcastService(h.cfg, h.stores.CRM, h.stores.Catalog(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO clients (platform, platform_user_id, first_name, subscribed, created_at, updated_at)
		SELECT 'telegram', g::text, 'Имя' || g, g <= $1, now(), now() FROM generate_series(1, $2) g`, campaignUnknown, campaignAudience); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= campaignAudience; i++ {
		if i != campaignUnknown {
			h.fake.AddUser(int64(i))
		}
	}
	return &campaignHub{hub: h, svc: svc, db: db}
}

// create makes a draft through the service, as the composer does.
func (h *campaignHub) create(t *testing.T, name string) broadcast.Campaign {
	t.Helper()
	c, err := h.svc.Create(context.Background(), broadcast.Campaign{Name: name, Segment: `platform == "telegram"`,
		Text: "Привет, {{ .client.first_name }}! Декабрьские новости."})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ledger counts campaign id's deliveries by status.
func (h *campaignHub) ledger(t *testing.T, id int64) map[string]int {
	t.Helper()
	rows, err := h.db.Query(`SELECT status, COUNT(*) FROM deliveries WHERE campaign_id = $1 GROUP BY status`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
		out["total"] += n
	}
	return out
}

// breakdownJS reads the statistics table (found by its caption) as label →
// count.
const breakdownJS = `(() => {
	const t = [...document.querySelectorAll('table')].find(t => t.caption && t.caption.innerText.startsWith('Каждый получатель'));
	if (!t) return {};
	const out = {};
	for (const tr of t.tBodies[0].rows) {
		out[tr.querySelector('th span').innerText.trim()] = parseInt(tr.cells[1].innerText.replace(/\s/g, ''), 10);
	}
	return out;
})()`

// progressJS reads the progress bar: value, max and its label.
const progressJS = `(() => {
	const p = document.querySelector('progress');
	return p ? {value: p.value, max: p.max, label: document.getElementById(p.getAttribute('aria-labelledby')).innerText} : {};
})()`

type progressState struct {
	Value float64 `json:"value"`
	Max   float64 `json:"max"`
	Label string  `json:"label"`
}

func evaluate[T any](t *testing.T, ctx context.Context, js string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browsertest.StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return v
}

// waitFor evaluates js until ok accepts its value, failing after timeout.
func waitFor[T any](t *testing.T, ctx context.Context, timeout time.Duration, what, js string, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := evaluate[T](t, ctx, js)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: last %+v", what, v)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// confirm presses a control and then its confirmation.
func confirm(t *testing.T, ctx context.Context, control, yes string) {
	t.Helper()
	browsertest.Run(t, ctx,
		chromedp.Click(browsertest.Button(control)),
		chromedp.WaitVisible(browsertest.Button(yes)),
		chromedp.Click(browsertest.Button(yes)),
	)
}

func stateShown(label string) string {
	return fmt.Sprintf(`//p[starts-with(normalize-space(), "Статус:")]/span[normalize-space()=%q]`, label)
}

// TestCampaignLifecycle: a manager starts a campaign in the browser,
// pauses and resumes it, and watches it finish against the fake Telegram:
// the progress reaches 100%, the page's counters equal the ledger, the
// polling stops, the failed send is listed with its reason, and nobody
// got the message twice.
func TestCampaignLifecycle(t *testing.T) {
	h := startCampaignHub(t)
	camp := h.create(t, "Декабрьские новости")
	ctx := h.signIn(t, "manager", "ru")

	// The list: the draft, not started yet.
	browsertest.Run(t, ctx, chromedp.Navigate(h.url+"/campaigns"))
	if p := browsertest.ReadPage(t, ctx); p.Status != 200 || p.H1 != "Рассылки" || !strings.Contains(p.Text, "Декабрьские новости") ||
		!strings.Contains(p.Text, "Черновик") || !strings.Contains(p.Text, "Новая рассылка") {
		t.Fatalf("list: %+v", p)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /campaigns (a draft)")

	// Open it from the list and start it, confirming.
	browsertest.Run(t, ctx,
		chromedp.Click(`//a[normalize-space()="Декабрьские новости"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Декабрьские новости"]`),
	)
	confirm(t, ctx, "Запустить", "Да, запустить")
	browsertest.Run(t, ctx, chromedp.WaitVisible(stateShown("Идёт")))

	// The polled progress moves while it runs.
	waitFor(t, ctx, 20*time.Second, "some progress", progressJS, func(p progressState) bool {
		return p.Max == campaignAudience && p.Value >= campaignUnsubscribed+3
	})
	// The page's own polling (the menu's Диалоги badge polls too, outside main).
	if n := evaluate[int](t, ctx, `document.querySelectorAll('main [hx-trigger]').length`); n != 1 {
		t.Errorf("a running campaign's page has %d polling elements, want 1", n)
	}
	browsertest.ScanAccessibility(t, ctx, "ru campaign running")
	browsertest.Screenshot(t, ctx, "campaign-running-ru")

	// Pause: sending stops once the batches already in the workers' hands
	// are sent (the service's rule); then the count holds still.
	confirm(t, ctx, "Приостановить", "Да, приостановить")
	browsertest.Run(t, ctx, chromedp.WaitVisible(stateShown("На паузе")))
	pausedSent, settled := h.ledger(t, camp.ID)[broadcast.StatusSent], time.Now()
	for wait := time.Now().Add(30 * time.Second); time.Since(settled) < 3*time.Second; time.Sleep(250 * time.Millisecond) {
		if now := h.ledger(t, camp.ID)[broadcast.StatusSent]; now != pausedSent {
			pausedSent, settled = now, time.Now()
		}
		if time.Now().After(wait) {
			t.Fatalf("still sending 30 s after the pause: %d sent", pausedSent)
		}
	}
	if pausedSent >= campaignClients {
		t.Logf("the campaign was sent in full before the pause took effect (%d sent)", pausedSent)
	}
	paused := h.ledger(t, camp.ID)
	waitFor(t, ctx, 10*time.Second, "the paused page to show the ledger", progressJS, func(p progressState) bool {
		return int(p.Value) == paused["total"]-paused[broadcast.StatusQueued]
	})

	// Resume and watch it finish: the page reloads itself when the state
	// changes, and the finished page no longer polls.
	t.Logf("paused with %d of %d sent", pausedSent, campaignClients)
	confirm(t, ctx, "Возобновить", "Да, возобновить")
	browsertest.Run(t, ctx, chromedp.WaitVisible(`//p[starts-with(normalize-space(), "Статус:")]/span[normalize-space()="Идёт" or normalize-space()="Завершена"]`))
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctxStep, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := chromedp.Do(ctxStep, chromedp.WaitVisible(stateShown("Завершена")))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish: ledger %v", h.ledger(t, camp.ID))
		}
	}
	prog := evaluate[progressState](t, ctx, progressJS)
	if prog.Value != prog.Max || !strings.HasPrefix(prog.Label, "100%") {
		t.Errorf("finished progress %+v, want 100%%", prog)
	}
	if n := evaluate[int](t, ctx, `document.querySelectorAll('main [hx-trigger]').length`); n != 0 {
		t.Errorf("the finished page still has %d polling elements", n)
	}
	polls := `performance.getEntriesByType('resource').filter(e => e.name.includes('/progress')).length`
	before := evaluate[int](t, ctx, polls)
	time.Sleep(2500 * time.Millisecond)
	if after := evaluate[int](t, ctx, polls); after != before {
		t.Errorf("the finished page polled %d more times", after-before)
	}

	// The page's counters are the ledger's.
	ledger := h.ledger(t, camp.ID)
	shown := evaluate[map[string]int](t, ctx, breakdownJS)
	want := map[string]int{
		"Аудитория": ledger["total"], "Отправлено": ledger[broadcast.StatusSent], "Не доставлено": ledger[broadcast.StatusFailed],
		"Заблокировали бота": ledger[broadcast.StatusBlocked], "Пропущено": ledger[broadcast.StatusSkipped],
		"В очереди": ledger[broadcast.StatusQueued],
	}
	for k, v := range want {
		if shown[k] != v {
			t.Errorf("page shows %s = %d, ledger %d (page %v, ledger %v)", k, shown[k], v, shown, ledger)
		}
	}
	if ledger["total"] != campaignAudience || ledger[broadcast.StatusSent] != campaignClients ||
		ledger[broadcast.StatusSkipped] != campaignUnsubscribed || ledger[broadcast.StatusFailed] != 1 {
		t.Errorf("ledger %v, want %d sent, 1 failed and %d skipped", ledger, campaignClients, campaignUnsubscribed)
	}
	if p := browsertest.ReadPage(t, ctx); !strings.Contains(p.Text, "клиент отписался") || !strings.Contains(p.Text, "Итоги") ||
		!strings.Contains(p.Text, "мессенджер отклонил сообщение") {
		t.Errorf("the final statistics lack the reasons: %q", p.Text)
	}
	// The failure is listed with its client.
	var unknownID int64
	if err := h.db.QueryRow(`SELECT id FROM clients WHERE platform_user_id = $1`, strconv.Itoa(campaignUnknown)).Scan(&unknownID); err != nil {
		t.Fatal(err)
	}
	browsertest.Run(t, ctx, chromedp.WaitVisible(fmt.Sprintf(`//section[h2[normalize-space()="Не доставлено"]]//a[normalize-space()="#%d"]`, unknownID)))
	browsertest.ScanAccessibility(t, ctx, "ru campaign done")
	browsertest.Screenshot(t, ctx, "campaign-done-ru")

	// Pause and resume left no duplicate: each subscribed client got the
	// message once, the others not at all.
	for user := int64(1); user <= campaignAudience; user++ {
		text := fmt.Sprintf("Привет, Имя%d! Декабрьские новости.", user)
		got := 0
		for _, m := range h.fake.Messages(user) {
			if m.Text == text {
				got++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[user <= campaignClients]; got != want {
			t.Errorf("user %d got the campaign %d times, want %d", user, got, want)
		}
	}

	// The audit log names the manager.
	var audited int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE actor = 'manager' AND object = $1
		AND action IN ('campaign.start', 'campaign.pause', 'campaign.resume')`, "campaign "+strconv.FormatInt(camp.ID, 10)).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 3 {
		t.Errorf("audit log has %d of the manager's start/pause/resume, want 3", audited)
	}

	// The list shows it done with its exact counts, beside a newer draft.
	h.create(t, "Новогодняя акция")
	browsertest.Run(t, ctx, chromedp.Navigate(h.url+"/campaigns"))
	if p := browsertest.ReadPage(t, ctx); !strings.Contains(p.Text, "Завершена") ||
		!strings.Contains(p.Text, fmt.Sprintf("Отправлено %d из %d", campaignClients, campaignAudience)) ||
		!strings.Contains(p.Text, "не доставлено 1") || !strings.Contains(p.Text, fmt.Sprintf("пропущено %d", campaignUnsubscribed)) {
		t.Errorf("list after the campaign: %q", p.Text)
	}
	browsertest.ScanAccessibility(t, ctx, "ru /campaigns")
	browsertest.Screenshot(t, ctx, "campaigns-ru")
	browsertest.Run(t, ctx, chromedp.Navigate(h.url+"/campaigns/"+strconv.FormatInt(camp.ID, 10)))

	// A finished campaign cannot be started: the reason, not a 500.
	status := evaluate[int](t, ctx, `fetch(location.pathname + '/start', {method: 'POST'}).then(r => r.status)`, chromedp.EvalAwaitPromise)
	if status != 409 {
		t.Errorf("POST start of a done campaign: %d, want 409", status)
	}
}

// TestCampaignOperatorForbidden: an operator gets 403 on Рассылки and on a
// start (POST), and the campaign stays a draft.
func TestCampaignOperatorForbidden(t *testing.T) {
	h := startCampaignHub(t)
	camp := h.create(t, "Черновик для проверки прав")
	ctx := h.signIn(t, "operator", "ru")
	browsertest.Run(t, ctx, chromedp.Navigate(h.url+"/campaigns"))
	if p := browsertest.ReadPage(t, ctx); p.Status != 403 || p.H1 != "Недостаточно прав" {
		t.Errorf("operator /campaigns: %+v", p)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		fmt.Sprintf(`fetch('/campaigns/%d/start', {method: 'POST'}).then(r => r.status)`, camp.ID), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("operator POST start: %d, want 403", status)
	}
	if c, err := h.svc.Get(context.Background(), camp.ID); err != nil || c.State != broadcast.Draft {
		t.Errorf("after the operator's start the campaign is %s (%v)", c.State, err)
	}

	// The English list, as a manager.
	en := h.signIn(t, "manager", "en")
	browsertest.Run(t, en, chromedp.Navigate(h.url+"/campaigns"))
	if p := browsertest.ReadPage(t, en); p.Status != 200 || p.H1 != "Campaigns" || !strings.Contains(p.Text, "Draft") {
		t.Errorf("English list: %+v", p)
	}
	browsertest.ScanAccessibility(t, en, "en /campaigns")
	browsertest.Screenshot(t, en, "campaigns-en")
}
