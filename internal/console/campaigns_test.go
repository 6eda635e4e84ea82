package console

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/messenger"
)

// fakeCampaigns is a hand-written campaign service, control and ledger:
// campaigns by id, a ledger per campaign, transitions by the broadcast
// state rules; it remembers the actors of the moves it made.
type fakeCampaigns struct {
	mu        sync.Mutex
	campaigns map[int64]broadcast.Campaign
	ledger    map[int64][]broadcast.Delivery
	stats     map[int64]broadcast.Stats // Rate, reasons: beside the ledger's counts
	moves     []string                  // "actor action id"
	err       error
	// statsCalls and countCalls count Stats and LedgerCounts calls.
	statsCalls, countCalls int
}

func newFakeCampaigns() *fakeCampaigns {
	return &fakeCampaigns{campaigns: map[int64]broadcast.Campaign{}, ledger: map[int64][]broadcast.Delivery{},
		stats: map[int64]broadcast.Stats{}}
}

func (f *fakeCampaigns) add(c broadcast.Campaign) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC).Add(time.Duration(c.ID) * time.Minute)
	}
	f.campaigns[c.ID] = c
}

// fill gives campaign id n deliveries with the statuses in order (the
// rest queued) and the reasons given.
func (f *fakeCampaigns) fill(id int64, n int, statuses ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rows := make([]broadcast.Delivery, n)
	for i := range rows {
		st, reason := broadcast.StatusQueued, ""
		if i < len(statuses) {
			st, reason, _ = strings.Cut(statuses[i], ":")
		}
		rows[i] = broadcast.Delivery{CampaignID: id, ClientID: int64(100 + i), Platform: messenger.Telegram,
			PlatformUserID: fmt.Sprint(5000 + i), Status: st, Reason: reason, Attempts: 1,
			UpdatedAt: time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)}
	}
	f.ledger[id] = rows
}

func (f *fakeCampaigns) Get(_ context.Context, id int64) (broadcast.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return broadcast.Campaign{}, f.err
	}
	c, ok := f.campaigns[id]
	if !ok {
		return c, fmt.Errorf("get campaign %d: %w", id, broadcast.ErrNotFound)
	}
	return c, nil
}

func countRows(rows []broadcast.Delivery) broadcast.Stats {
	st := broadcast.Stats{FailedByReason: map[string]int{}, SkippedByReason: map[string]int{}, QueuedByReason: map[string]int{}}
	for _, d := range rows {
		st.Targeted++
		switch d.Status {
		case broadcast.StatusQueued:
			st.Queued++
			if d.Reason != "" {
				st.QueuedByReason[d.Reason]++
			}
		case broadcast.StatusSent:
			st.Sent++
		case broadcast.StatusFailed:
			st.Failed++
			st.FailedByReason[d.Reason]++
		case broadcast.StatusBlocked:
			st.Blocked++
		case broadcast.StatusSkipped:
			st.Skipped++
			st.SkippedByReason[d.Reason]++
		}
	}
	return st
}

func (f *fakeCampaigns) Stats(ctx context.Context, id int64) (broadcast.Stats, error) {
	c, err := f.Get(ctx, id)
	if err != nil {
		return broadcast.Stats{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statsCalls++
	st := countRows(f.ledger[id])
	extra := f.stats[id]
	st.Rate, st.Duration = extra.Rate, extra.Duration
	st.StartedAt, st.FinishedAt = c.StartedAt, c.FinishedAt
	return st, nil
}

func (f *fakeCampaigns) Deliveries(ctx context.Context, id int64, fn func(broadcast.Delivery) error) error {
	if _, err := f.Get(ctx, id); err != nil {
		return err
	}
	f.mu.Lock()
	rows := append([]broadcast.Delivery(nil), f.ledger[id]...)
	f.mu.Unlock()
	for _, d := range rows {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeCampaigns) move(ctx context.Context, action string, id int64, to broadcast.State, from ...broadcast.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.campaigns[id]
	if !ok {
		return fmt.Errorf("campaign %d: %w", id, broadcast.ErrNotFound)
	}
	allowed := false
	for _, s := range from {
		allowed = allowed || s == c.State
	}
	if !allowed || !broadcast.CanTransition(c.State, to) {
		return fmt.Errorf("campaign %d is %s, cannot become %s: %w", id, c.State, to, broadcast.ErrInvalidTransition)
	}
	c.State = to
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	if to == broadcast.Running && c.StartedAt == nil {
		c.StartedAt = &now
	}
	if to.Final() {
		c.FinishedAt = &now
	}
	f.campaigns[id] = c
	actor, _ := account.ActorIn(ctx)
	f.moves = append(f.moves, fmt.Sprintf("%s %s %d", actor, action, id))
	return nil
}

func (f *fakeCampaigns) Start(ctx context.Context, id int64) error {
	return f.move(ctx, "start", id, broadcast.Running, broadcast.Draft, broadcast.Scheduled)
}

func (f *fakeCampaigns) Pause(ctx context.Context, id int64) error {
	return f.move(ctx, "pause", id, broadcast.Paused, broadcast.Running)
}

func (f *fakeCampaigns) Resume(ctx context.Context, id int64) error {
	return f.move(ctx, "resume", id, broadcast.Running, broadcast.Paused)
}

func (f *fakeCampaigns) Cancel(ctx context.Context, id int64) error {
	return f.move(ctx, "cancel", id, broadcast.Cancelled, broadcast.Draft, broadcast.Scheduled, broadcast.Running, broadcast.Paused)
}

func (f *fakeCampaigns) CampaignPage(_ context.Context, before int64, limit int) ([]broadcast.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []broadcast.Campaign
	for _, c := range f.campaigns {
		if before == 0 || c.ID < before {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fakeCampaigns) LedgerCounts(_ context.Context, ids []int64) (map[int64]broadcast.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.countCalls++
	out := map[int64]broadcast.Stats{}
	for _, id := range ids {
		if rows := f.ledger[id]; len(rows) > 0 {
			out[id] = countRows(rows)
		}
	}
	return out, nil
}

func (f *fakeCampaigns) FailedDeliveries(_ context.Context, id, after int64, limit int) ([]broadcast.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []broadcast.Delivery
	for _, d := range f.ledger[id] {
		if d.ClientID > after && (d.Status == broadcast.StatusFailed || d.Status == broadcast.StatusBlocked) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeCampaigns) actors() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.moves...)
}

func campaignPages(f *fakeCampaigns) CampaignPages {
	q, _ := broadcast.ParseQuietHours("21:00-09:00")
	return CampaignPages{Campaigns: f, Control: f, Ledger: f,
		Policy: &broadcast.Policy{FrequencyCap: 7 * 24 * time.Hour, Quiet: q}}
}

func newCampaignConsole(t *testing.T, f *fakeCampaigns) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Campaigns: campaignPages(f)})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

// sampleCampaigns: 1 done (10 rows: 6 sent, 1 failed, 1 blocked, 2
// skipped), 2 running (10 rows: 4 sent, 6 queued), 3 a draft with a
// hostile name and text.
func sampleCampaigns() *fakeCampaigns {
	f := newFakeCampaigns()
	started := time.Date(2026, 12, 6, 5, 30, 0, 0, time.UTC)
	finished := started.Add(65 * time.Second)
	f.add(broadcast.Campaign{ID: 1, Name: "Весенняя распродажа", Segment: `tag("vip")`, Text: "Привет, {{ .client.first_name }}!",
		State: broadcast.Done, StartedAt: &started, FinishedAt: &finished, Filled: true})
	f.fill(1, 10, "sent", "sent", "sent", "sent", "sent", "sent", "failed:bad_request", "blocked:blocked",
		"skipped:frequency_cap", "skipped:unsubscribed")
	f.stats[1] = broadcast.Stats{Rate: 6.0 / 65, Duration: 65 * time.Second}
	f.add(broadcast.Campaign{ID: 2, Name: "Новости", Segment: "subscribed", Text: "Новости недели", State: broadcast.Running,
		StartedAt: &started, Filled: true, Platforms: []messenger.Platform{messenger.Telegram}})
	f.fill(2, 10, "sent", "sent", "sent", "sent")
	f.stats[2] = broadcast.Stats{Rate: 2}
	f.add(broadcast.Campaign{ID: 3, Name: "<script>alert(1)</script>", Segment: `name = "<b>x</b>"`,
		Text: "<script>alert(2)</script>", State: broadcast.Draft})
	return f
}

func TestCampaignListShowsProgress(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	w := do(h, "GET", "/campaigns", auth.Login("manager"), nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /campaigns: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		"<h1>Рассылки</h1>", `href="/campaigns/new"`, "Новая рассылка",
		"Завершена", "Идёт", "Черновик",
		"Отправлено 6 из 10", "не доставлено 2", "пропущено 2", "Отправлено 4 из 10", "ещё не запускалась",
		`<progress max="10" value="10" aria-label="100% — обработано 10 из 10">`,
		`<progress max="10" value="4" aria-label="40% — обработано 4 из 10">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if i, j := strings.Index(body, "Новости"), strings.Index(body, "Весенняя"); i < 0 || j < 0 || i > j {
		t.Errorf("not newest first")
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a campaign name is not escaped")
	}
	if !strings.Contains(body, `hx-get="/campaigns" hx-select="#campaign-list" hx-trigger="every 5s"`) {
		t.Error("the list with a running campaign does not refresh itself")
	}
	en := do(h, "GET", "/campaigns?lang=en", auth.Login("manager"), nil, nil).Body.String()
	for _, want := range []string{"<h1>Campaigns</h1>", "Sent 6 of 10", "Running", "New campaign"} {
		if !strings.Contains(en, want) {
			t.Errorf("English list lacks %q", want)
		}
	}
}

func TestCampaignListPages(t *testing.T) {
	t.Parallel()
	f := newFakeCampaigns()
	for id := int64(1); id <= 60; id++ {
		f.add(broadcast.Campaign{ID: id, Name: fmt.Sprintf("c%02d", id), Segment: "subscribed", Text: "x", State: broadcast.Draft})
	}
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	first := do(h, "GET", "/campaigns", token, nil, nil).Body.String()
	rowRE := regexp.MustCompile(`<a href="/campaigns/[0-9]+">`)
	if n := len(rowRE.FindAllString(first, -1)); n != campaignListSize {
		t.Errorf("first page shows %d campaigns, want %d", n, campaignListSize)
	}
	if strings.Contains(first, "hx-trigger") {
		t.Error("a list without a running campaign refreshes itself")
	}
	if !strings.Contains(first, `href="/campaigns?before=11" rel="next"`) {
		t.Errorf("first page lacks the link to before=11")
	}
	older := do(h, "GET", "/campaigns?before=11", token, nil, nil).Body.String()
	if n := len(rowRE.FindAllString(older, -1)); n != 10 || strings.Contains(older, `rel="next"`) || !strings.Contains(older, "К новым рассылкам") {
		t.Errorf("older page: %d campaigns\n%s", n, older)
	}
	if w := do(h, "GET", "/campaigns?before=x", token, nil, nil); w.Code != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", w.Code)
	}
}

func TestCampaignRoles(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	op := auth.Login("operator")
	for _, r := range []struct{ method, target string }{
		{"GET", "/campaigns"}, {"GET", "/campaigns/3"}, {"GET", "/campaigns/2/progress"},
		{"GET", "/campaigns/1/deliveries.csv"}, {"POST", "/campaigns/3/start"}, {"POST", "/campaigns/2/cancel"},
	} {
		if w := do(h, r.method, r.target, op, nil, nil); w.Code != http.StatusForbidden {
			t.Errorf("operator %s %s: %d, want 403", r.method, r.target, w.Code)
		}
	}
	if moves := f.actors(); len(moves) != 0 {
		t.Errorf("an operator moved campaigns: %v", moves)
	}
	if got, _ := f.Get(context.Background(), 3); got.State != broadcast.Draft {
		t.Errorf("campaign 3 is %s after the operator's start", got.State)
	}
}

func TestCampaignControls(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")

	// The draft offers Start and Cancel; Start asks to confirm first.
	page := do(h, "GET", "/campaigns/3", token, nil, nil).Body.String()
	for _, want := range []string{">Запустить</button>", ">Отменить рассылку</button>", `name="confirm" value="start"`} {
		if !strings.Contains(page, want) {
			t.Errorf("draft page lacks %q", want)
		}
	}
	if strings.Contains(page, ">Приостановить</button>") || strings.Contains(page, `method="post" action="/campaigns/3/start"`) {
		t.Error("the draft offers pause, or start without confirmation")
	}
	if body := do(h, "GET", "/campaigns/3?confirm=cancel", token, nil, nil).Body.String(); !strings.Contains(body, "рассылка не будет отправлена") {
		t.Error("cancelling a draft speaks of queued messages")
	}
	confirm := do(h, "GET", "/campaigns/3?confirm=start", token, nil, nil).Body.String()
	for _, want := range []string{"Запустить рассылку?", `<form method="post" action="/campaigns/3/start"`, ">Да, запустить</button>", "Нет, вернуться"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("confirmation lacks %q", want)
		}
	}
	// A confirmation the state does not allow is not offered.
	if body := do(h, "GET", "/campaigns/3?confirm=resume", token, nil, nil).Body.String(); strings.Contains(body, "Возобновить рассылку?") {
		t.Error("the draft offers to confirm resume")
	}

	w := do(h, "POST", "/campaigns/3/start", token, nil, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/campaigns/3" {
		t.Fatalf("start: %d %q", w.Code, w.Header().Get("Location"))
	}
	w = do(h, "POST", "/campaigns/3/pause", token, nil, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("pause: %d", w.Code)
	}
	if got := f.actors(); strings.Join(got, ",") != "manager start 3,manager pause 3" {
		t.Errorf("moves %v, want them made as the signed-in manager", got)
	}
	paused := do(h, "GET", "/campaigns/3", token, nil, nil).Body.String()
	if !strings.Contains(paused, ">Возобновить</button>") || strings.Contains(paused, ">Запустить</button>") {
		t.Error("the paused campaign does not offer resume only")
	}
	if w := do(h, "POST", "/campaigns/99/start", token, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("start of an unknown campaign: %d", w.Code)
	}
}

// TestCampaignInvalidTransition: a move the state does not allow shows the
// page with the reason in words (409), not a 500.
func TestCampaignInvalidTransition(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	tests := []struct {
		target, lang, want string
	}{
		{"/campaigns/1/start", "ru", "Рассылку нельзя запустить: её статус — «Завершена»."},
		{"/campaigns/1/cancel", "ru", "Рассылку нельзя отменить: её статус — «Завершена»."},
		{"/campaigns/2/resume", "en", "The campaign cannot be resumed: its status is “Running”."},
	}
	for _, tt := range tests {
		w := do(h, "POST", tt.target+"?lang="+tt.lang, token, nil, nil)
		body := w.Body.String()
		if w.Code != http.StatusConflict || !strings.Contains(body, `role="alert">`+tt.want) {
			t.Errorf("%s: %d, want 409 with %q\n%s", tt.target, w.Code, tt.want, body)
		}
		if !strings.Contains(body, "<h1>") || w.Header().Get("HX-Push-Url") == "" {
			t.Errorf("%s: not the campaign's page", tt.target)
		}
	}
	if len(f.actors()) != 0 {
		t.Errorf("a refused move was made: %v", f.actors())
	}
}

var hxTriggerRE = regexp.MustCompile(`hx-trigger="every 1s"`)

// TestCampaignProgressPolling: the fragment polls while the campaign runs
// and carries no hx-trigger once it is done; a state change reloads.
func TestCampaignProgressPolling(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")

	running := do(h, "GET", "/campaigns/2/progress?shown=running", token, nil, nil)
	body := running.Body.String()
	if running.Code != http.StatusOK || !hxTriggerRE.MatchString(body) || !strings.Contains(body, `hx-get="/campaigns/2/progress?shown=running"`) {
		t.Errorf("running fragment does not poll: %d\n%s", running.Code, body)
	}
	if strings.Contains(body, "<html") || running.Header().Get("HX-Refresh") != "" {
		t.Error("the fragment is a whole page, or reloads while the state is the same")
	}
	for _, want := range []string{"40% — обработано 4 из 10", "Скорость: 2,0 сообщения в секунду", "осталось примерно 3 с",
		"4 отправлено + 0 не доставлено + 0 заблокировали + 0 пропущено + 6 в очереди = 10 в аудитории"} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("running fragment lacks %q", want)
		}
	}
	if page := do(h, "GET", "/campaigns/2", token, nil, nil).Body.String(); !hxTriggerRE.MatchString(page) {
		t.Error("the running campaign's page does not poll")
	}

	// The campaign finishes: the fragment stops polling and asks for a reload.
	f.mu.Lock()
	c := f.campaigns[2]
	c.State = broadcast.Done
	f.campaigns[2] = c
	f.mu.Unlock()
	done := do(h, "GET", "/campaigns/2/progress?shown=running", token, nil, nil)
	if body := done.Body.String(); strings.Contains(body, "hx-trigger") || strings.Contains(body, "hx-get") {
		t.Errorf("done fragment still polls:\n%s", body)
	}
	if done.Header().Get("HX-Refresh") != "true" {
		t.Error("a state change does not reload the page")
	}
	// Paused and scheduled campaigns poll slower; a draft does not poll.
	at := time.Now().Add(time.Hour)
	f.add(broadcast.Campaign{ID: 4, Name: "later", Segment: "subscribed", Text: "x", State: broadcast.Scheduled, StartAt: &at})
	f.add(broadcast.Campaign{ID: 5, Name: "paused", Segment: "subscribed", Text: "x", State: broadcast.Paused, StartedAt: &at})
	for path, want := range map[string]string{"/campaigns/4": `hx-trigger="every 10s"`, "/campaigns/5": `hx-trigger="every 5s"`} {
		if body := do(h, "GET", path, token, nil, nil).Body.String(); !strings.Contains(body, want) {
			t.Errorf("%s lacks %s", path, want)
		}
	}
	if body := do(h, "GET", "/campaigns/4", token, nil, nil).Body.String(); !strings.Contains(body, "Запустить сейчас") || !strings.Contains(body, "запустится сама") {
		t.Error("the scheduled campaign's page does not say when it starts or offer to start now")
	}
	for _, path := range []string{"/campaigns/1", "/campaigns/1/progress", "/campaigns/3"} {
		if body := do(h, "GET", path, token, nil, nil).Body.String(); strings.Contains(body, "hx-trigger") {
			t.Errorf("%s polls though the campaign is not running", path)
		}
	}
}

// TestCampaignFinalStatistics: the breakdown adds up to the audience, with
// reasons in words, and the failures table lists failed and blocked rows.
func TestCampaignFinalStatistics(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	body := do(h, "GET", "/campaigns/1", auth.Login("manager"), nil, nil).Body.String()
	for _, want := range []string{
		"<h2 id=\"progress-title\">Итоги</h2>",
		"6 отправлено + 1 не доставлено + 1 заблокировали + 2 пропущено + 0 в очереди = 10 в аудитории",
		"недавно уже получал рассылку (ограничение частоты)", "клиент отписался", "мессенджер отклонил сообщение",
		"Заняла 1 мин 05 с, в среднем 0,1 сообщения в секунду.",
		`href="/campaigns/1/deliveries.csv"`, `<a href="/clients/106">#106</a>`, `<a href="/clients/107">#107</a>`,
		"Бот заблокирован", "Не чаще одной рассылки клиенту за 7 дней", "Тихие часы с 21:00 до 09:00",
		`<code>tag(&#34;vip&#34;)</code>`, "Привет, {{ .client.first_name }}!",
	} {
		if !strings.Contains(body, want) && !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("done page lacks %q", want)
		}
	}
	if strings.Contains(body, `<a href="/clients/100">`) {
		t.Error("a sent delivery is listed as a failure")
	}
	if strings.Contains(body, "confirm") {
		t.Error("a done campaign offers controls")
	}
}

func TestCampaignFailuresPaged(t *testing.T) {
	t.Parallel()
	f := newFakeCampaigns()
	f.add(broadcast.Campaign{ID: 1, Name: "x", Segment: "subscribed", Text: "x", State: broadcast.Done, Filled: true})
	statuses := make([]string, 120)
	for i := range statuses {
		statuses[i] = "failed:transient"
	}
	f.fill(1, 120, statuses...)
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	first := do(h, "GET", "/campaigns/1", token, nil, nil).Body.String()
	if n := strings.Count(first, `<a href="/clients/`); n != failuresPageSize {
		t.Errorf("first failures page: %d rows", n)
	}
	if !strings.Contains(first, `href="/campaigns/1?failed_after=149#failures" rel="next"`) {
		t.Error("no link to the next failures page")
	}
	last := do(h, "GET", "/campaigns/1?failed_after=199", token, nil, nil).Body.String()
	if n := strings.Count(last, `<a href="/clients/`); n != 20 || strings.Contains(last, `rel="next"`) || !strings.Contains(last, "К началу списка") {
		t.Errorf("last failures page: %d rows", n)
	}
	if w := do(h, "GET", "/campaigns/1?failed_after=-4", token, nil, nil); w.Code != http.StatusBadRequest {
		t.Errorf("bad failures cursor: %d", w.Code)
	}
}

func TestCampaignEscapes(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	body := do(h, "GET", "/campaigns/3", token, nil, nil).Body.String()
	body += do(h, "GET", "/campaigns/3?confirm=cancel", token, nil, nil).Body.String()
	body += do(h, "GET", "/campaigns", token, nil, nil).Body.String()
	for _, bad := range []string{"<script>alert", "<b>x</b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(2)&lt;/script&gt;", "&lt;b&gt;x&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks the escaped %q", want)
		}
	}
}

func TestCampaignExport(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	w := do(h, "GET", "/campaigns/1/deliveries.csv", token, nil, nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "campaign-1-deliveries.csv") {
		t.Fatalf("export: %d %v", w.Code, w.Header())
	}
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 11 || strings.Join(recs[0], ",") != strings.Join(admin.DeliveryColumns, ",") ||
		recs[7][4] != "failed" || recs[7][5] != "bad_request" {
		t.Errorf("export rows %v", recs)
	}
	if w := do(h, "GET", "/campaigns/99/deliveries.csv", token, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("export of an unknown campaign: %d", w.Code)
	}
}

func TestCampaignNotFoundAndErrors(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	for _, path := range []string{"/campaigns/99", "/campaigns/new", "/campaigns/0", "/campaigns/99/progress"} {
		if w := do(h, "GET", path, token, nil, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}
	f.mu.Lock()
	f.err = errors.New("database down")
	f.mu.Unlock()
	for _, path := range []string{"/campaigns", "/campaigns/1"} {
		w := do(h, "GET", path, token, nil, nil)
		if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "database down") {
			t.Errorf("GET %s with a failing store: %d", path, w.Code)
		}
	}
}

// TestCampaignUnconfigured: without services the section is "not ready yet".
func TestCampaignUnconfigured(t *testing.T) {
	t.Parallel()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(c.Handler(), "GET", "/campaigns", auth.Login("manager"), nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("unconfigured /campaigns: %d", w.Code)
	}
}

var campaignKeyRE = regexp.MustCompile(`"(campaigns\.[a-z_.]+)"`)

// TestCampaignKeysExist: every message key Рассылки's Go code names, and
// every state and reason, is in both catalogs.
func TestCampaignKeysExist(t *testing.T) {
	t.Parallel()
	keys := map[string]bool{}
	for _, file := range []string{"campaigns.go", "campaigns_view.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range campaignKeyRE.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") {
				keys[m[1]] = true
			}
		}
	}
	for _, s := range []broadcast.State{broadcast.Draft, broadcast.Scheduled, broadcast.Running, broadcast.Paused, broadcast.Done, broadcast.Cancelled} {
		keys["campaigns.state."+string(s)] = true
	}
	for _, r := range []string{broadcast.ReasonUnsubscribed, broadcast.ReasonBlocked, broadcast.ReasonPlatform, broadcast.ReasonFrequencyCap,
		broadcast.ReasonCancelled, broadcast.ReasonBadRequest, broadcast.ReasonTransient, broadcast.ReasonRender, broadcast.ReasonTooLong,
		broadcast.ReasonQuietHours, broadcast.ReasonNoChannel, "rate_limited"} {
		keys["campaigns.reason."+r] = true
	}
	for _, a := range campaignActions {
		for _, k := range []string{"action." + a.name, "confirm." + a.name + ".title", "confirm." + a.name + ".text",
			"confirm." + a.name + ".yes", "refused." + a.name} {
			keys["campaigns."+k] = true
		}
	}
	for _, s := range []string{broadcast.StatusFailed, broadcast.StatusBlocked} {
		keys["campaigns.status."+s] = true
	}
	for k := range keys {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, k) {
				t.Errorf("key %q is used but missing from %s", k, l)
			}
		}
	}
}

func TestNumberFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang i18n.Lang
		n    int
		want string
	}{
		{i18n.Ru, 0, "0"}, {i18n.Ru, 999, "999"}, {i18n.Ru, 100000, "100\u00a0000"}, {i18n.En, 1234567, "1,234,567"}, {i18n.En, -1200, "-1,200"},
	}
	for _, tt := range tests {
		if got := number(tt.lang, tt.n); got != tt.want {
			t.Errorf("number(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got := duration(i18n.Ru, 2*time.Hour+3*time.Minute); got != "2 ч 03 мин" {
		t.Errorf("duration: %q", got)
	}
}

func (f *fakeCampaigns) calls() (stats, counts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statsCalls, f.countCalls
}

// TestCampaignFinishedStatsKept: a campaign finished a while ago is
// counted once, then its counts are kept; a running one is counted on
// every view.
func TestCampaignFinishedStatsKept(t *testing.T) {
	t.Parallel()
	f := sampleCampaigns()
	old := time.Now().Add(-time.Hour)
	f.mu.Lock()
	c := f.campaigns[1]
	c.StartedAt, c.FinishedAt = &old, &old
	f.campaigns[1] = c
	f.mu.Unlock()
	auth, h := newCampaignConsole(t, f)
	token := auth.Login("manager")
	for range 3 {
		if body := do(h, "GET", "/campaigns/1", token, nil, nil).Body.String(); !strings.Contains(html.UnescapeString(body), "6 отправлено + 1 не доставлено") {
			t.Fatal("the kept counts differ")
		}
	}
	if stats, _ := f.calls(); stats != 1 {
		t.Errorf("an old finished campaign counted %d times in 3 views, want 1", stats)
	}
	for range 3 {
		do(h, "GET", "/campaigns/2", token, nil, nil)
	}
	if stats, _ := f.calls(); stats != 4 {
		t.Errorf("a running campaign counted %d times in 3 views, want 3", stats-1)
	}
	for range 2 {
		if body := do(h, "GET", "/campaigns", token, nil, nil).Body.String(); !strings.Contains(body, "Отправлено 6 из 10") {
			t.Fatal("the list lost the kept counts")
		}
	}
	if _, counts := f.calls(); counts != 2 {
		t.Errorf("list counted %d times, want 2 (the running campaign and the draft)", counts)
	}
}

func TestFinishedStatsExpire(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	fs := newFinishedStats()
	fs.now = func() time.Time { return now }
	recent, old := now.Add(-time.Minute), now.Add(-time.Hour)
	fresh := broadcast.Campaign{ID: 1, State: broadcast.Done, FinishedAt: &recent}
	settled := broadcast.Campaign{ID: 2, State: broadcast.Cancelled, FinishedAt: &old}
	running := broadcast.Campaign{ID: 3, State: broadcast.Running}
	for _, c := range []*broadcast.Campaign{&fresh, &settled, &running} {
		fs.put(c, broadcast.Stats{Sent: int(c.ID)}, false)
	}
	if _, ok := fs.get(&fresh, false); ok {
		t.Error("a campaign finished a minute ago is kept")
	}
	if _, ok := fs.get(&running, false); ok {
		t.Error("a running campaign is kept")
	}
	if st, ok := fs.get(&settled, false); !ok || st.Sent != 2 {
		t.Errorf("settled campaign: %+v %v", st, ok)
	}
	if _, ok := fs.get(&settled, true); ok {
		t.Error("counts only pass for full statistics")
	}
	now = now.Add(statsTTL + time.Second)
	if _, ok := fs.get(&settled, false); ok {
		t.Error("an entry outlived statsTTL")
	}
}

// TestCampaignEditLink: a campaign's page links the composer's edit page
// exactly while the service allows an edit (a draft or a scheduled one).
func TestCampaignEditLink(t *testing.T) {
	t.Parallel()
	for _, state := range []broadcast.State{broadcast.Draft, broadcast.Scheduled, broadcast.Running, broadcast.Paused, broadcast.Done, broadcast.Cancelled} {
		c := &broadcast.Campaign{ID: 7, Name: "x", State: state}
		v := newCampaignView(i18n.Ru, c, &broadcast.Stats{}, nil)
		want := ""
		if state == broadcast.Draft || state == broadcast.Scheduled {
			want = "/campaigns/7/edit"
		}
		if v.Edit != want {
			t.Errorf("%s: edit link %q, want %q", state, v.Edit, want)
		}
	}
}
