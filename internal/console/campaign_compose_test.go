package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// fakeComposer is a hand-written composer back end: the campaign book,
// the planner and the segment store in one.
type fakeComposer struct {
	mu sync.Mutex
	// created are the campaigns Create stored; actors who created them.
	created []broadcast.Campaign
	actors  []string
	// invalid, when set, is Create's error.
	invalid  error
	previews []broadcast.Preview
	summary  broadcast.Summary
	planned  []broadcast.Campaign
	count    int64
	saved    []segment.Definition
	// broken, when set, fails every read of the planner and the store.
	broken error
}

func (f *fakeComposer) Create(ctx context.Context, c broadcast.Campaign) (broadcast.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.invalid != nil {
		return broadcast.Campaign{}, f.invalid
	}
	actor, _ := account.ActorIn(ctx)
	f.actors = append(f.actors, actor)
	c.ID = int64(41 + len(f.created) + 1)
	f.created = append(f.created, c)
	return c, nil
}

func (f *fakeComposer) Get(_ context.Context, id int64) (broadcast.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.created {
		if c.ID == id {
			return c, nil
		}
	}
	return broadcast.Campaign{}, broadcast.ErrNotFound
}

func (f *fakeComposer) Update(ctx context.Context, id int64, c broadcast.Campaign) (broadcast.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.invalid != nil {
		return broadcast.Campaign{}, f.invalid
	}
	for i := range f.created {
		if f.created[i].ID == id {
			actor, _ := account.ActorIn(ctx)
			f.actors = append(f.actors, actor)
			c.ID, c.State = id, f.created[i].State
			f.created[i] = c
			return c, nil
		}
	}
	return broadcast.Campaign{}, broadcast.ErrNotFound
}

func (f *fakeComposer) PreviewDraft(_ context.Context, c broadcast.Campaign, n int) ([]broadcast.Preview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.planned = append(f.planned, c)
	if strings.Contains(c.Segment, "agee") {
		return nil, &broadcast.ValidationError{Field: "segment", Message: "segment:1:1: unknown field"}
	}
	tmpl, err := broadcast.ParseTemplate(c.Text)
	if err != nil {
		return nil, err
	}
	out := append([]broadcast.Preview(nil), f.previews...)
	for i := range out {
		// The fake's clients have only first names.
		out[i].Text = renderFor(tmpl, out[i].Name)
	}
	return out, nil
}

func (f *fakeComposer) Summarize(_ context.Context, c broadcast.Campaign) (broadcast.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.planned = append(f.planned, c)
	if strings.Contains(c.Segment, "agee") {
		return broadcast.Summary{}, &broadcast.ValidationError{Field: "segment", Message: "segment:1:1: unknown field"}
	}
	return f.summary, f.broken
}

func (f *fakeComposer) CompileSegment(_ context.Context, expr string) (*segment.Segment, error) {
	if i := strings.Index(expr, "agee"); i >= 0 {
		return nil, &segment.Error{Source: segment.DefaultSource, Line: 1, Column: i + 1, Offset: i,
			Msg: `unknown field "agee" (did you mean "age"?)`}
	}
	return &segment.Segment{}, nil
}

func (f *fakeComposer) CountSegment(context.Context, *segment.Segment) (int64, error) {
	return f.count, f.broken
}

func (f *fakeComposer) ListSegments(context.Context) ([]segment.Definition, error) {
	return f.saved, nil
}

func (f *fakeComposer) ScenarioIDs(context.Context) ([]string, error) {
	return []string{"portrait", "feedback"}, nil
}

func clientNamed(name string) crm.Client { return crm.Client{FirstName: name} }

// renderFor renders tmpl for a client with first name name.
func renderFor(tmpl *broadcast.Template, name string) string {
	c := clientNamed(name)
	out, err := tmpl.Render(&c)
	if err != nil {
		return err.Error()
	}
	return out
}

var composeMoscow = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		return time.FixedZone("MSK", 3*3600)
	}
	return loc
}()

func newComposeConsole(t *testing.T, f *fakeComposer) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	policy := &broadcast.Policy{FrequencyCap: 7 * 24 * time.Hour, Quiet: broadcast.QuietHours{Start: 21 * 60, End: 9 * 60}, Location: composeMoscow}
	c, err := New(Config{Auth: auth, Compose: ComposePages{Campaigns: f, Drafts: f, Planner: f, Segments: f, Scenarios: f,
		Policy: policy, Location: composeMoscow,
		Now: func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

// composeValues is a filled form: a Moscow segment, a text with a field,
// two of three button rows (the middle one empty), a picture, Telegram
// only, a schedule and both overrides.
func composeValues() url.Values {
	return url.Values{
		"name": {"Декабрьская рассылка"}, "saved": {""}, "segment": {`city == "Москва" and subscribed`},
		"text":         {"Здравствуйте, {{ .client.first_name }}!"},
		"button0_text": {"Каталог"}, "button0_url": {"https://example.com/catalog"},
		"button2_text": {"Анкета"}, "button2_scenario": {"portrait"},
		"image_url": {"https://example.com/sale.jpg"}, "platform": {"telegram"},
		"start_at": {"2026-12-24T10:00"}, "ignore_frequency_cap": {"on"}, "ignore_quiet_hours": {"on"},
	}
}

func TestComposeRoles(t *testing.T) {
	t.Parallel()
	auth, h := newComposeConsole(t, &fakeComposer{})
	tests := []struct {
		user, method, path string
		want               int
	}{
		{"operator", "GET", "/campaigns/new", http.StatusForbidden},
		{"operator", "POST", "/campaigns/new", http.StatusForbidden},
		{"operator", "POST", "/campaigns/new/count", http.StatusForbidden},
		{"operator", "POST", "/campaigns/new/preview", http.StatusForbidden},
		{"operator", "POST", "/campaigns/new/dry-run", http.StatusForbidden},
		{"manager", "GET", "/campaigns/new", http.StatusOK},
		{"admin", "GET", "/campaigns/new", http.StatusOK},
	}
	for _, tt := range tests {
		w := do(h, tt.method, tt.path, auth.Login(tt.user), url.Values{}, nil)
		if w.Code != tt.want {
			t.Errorf("%s %s %s: %d, want %d", tt.user, tt.method, tt.path, w.Code, tt.want)
		}
	}
	if w := do(h, "GET", "/campaigns/new", "", nil, nil); w.Code != http.StatusSeeOther {
		t.Errorf("signed out: %d, want 303 to the login", w.Code)
	}
	// Without the services there is no composer.
	auth2, plain := newTestConsole(t, false)
	if w := do(plain, "GET", "/campaigns/new", auth2.Login("manager"), nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("unconfigured composer: %d, want 404", w.Code)
	}
}

func TestComposeFormPage(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{saved: []segment.Definition{{Name: "moscow", Description: "москвичи"}}}
	auth, h := newComposeConsole(t, f)
	w := do(h, "GET", "/campaigns/new", auth.Login("manager"), nil, nil)
	body := w.Body.String()
	for _, want := range []string{
		"<h1>Новая рассылка</h1>", `<option value="moscow">moscow — москвичи</option>`,
		`hx-trigger="load, input changed delay:300ms"`, `<option value="portrait">portrait</option>`,
		"Время в часовом поясе Europe/Moscow (UTC&#43;03:00)", `min="2026-12-06T15:00"`,
		"Не чаще одной рассылки за 7 дней на клиента.", "Тихие часы 21:00–09:00 по времени клиента (Europe/Moscow",
		"{{ .client.first_name }}", `value="all" checked`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
}

func TestComposeCreate(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{}
	auth, h := newComposeConsole(t, f)
	w := do(h, "POST", "/campaigns/new", auth.Login("manager"), composeValues(), nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/campaigns/42" {
		t.Fatalf("create: %d to %q, want 303 to /campaigns/42", w.Code, w.Header().Get("Location"))
	}
	if len(f.created) != 1 || f.actors[0] != "manager" {
		t.Fatalf("created %+v by %v", f.created, f.actors)
	}
	c := f.created[0]
	at := time.Date(2026, 12, 24, 10, 0, 0, 0, composeMoscow)
	want := broadcast.Campaign{ID: 42, Name: "Декабрьская рассылка", Segment: `city == "Москва" and subscribed`,
		Text: "Здравствуйте, {{ .client.first_name }}!", ImageURL: "https://example.com/sale.jpg",
		Platforms: []messenger.Platform{messenger.Telegram}, IgnoreFrequencyCap: true, IgnoreQuietHours: true,
		Buttons: []broadcast.Button{{Text: "Каталог", URL: "https://example.com/catalog"}, {Text: "Анкета", Scenario: "portrait"}}}
	if c.Name != want.Name || c.Segment != want.Segment || c.Text != want.Text || c.ImageURL != want.ImageURL ||
		len(c.Platforms) != 1 || c.Platforms[0] != messenger.Telegram || !c.IgnoreFrequencyCap || !c.IgnoreQuietHours ||
		len(c.Buttons) != 2 || c.Buttons[0] != want.Buttons[0] || c.Buttons[1] != want.Buttons[1] ||
		c.StartAt == nil || !c.StartAt.Equal(at) {
		t.Errorf("created %+v, want %+v starting %s", c, want, at)
	}

	// A saved segment is sent as segment("name"); an htmx submit is
	// redirected by HX-Redirect.
	v := composeValues()
	v.Set("saved", "moscow")
	v.Set("platform", "all")
	v.Del("start_at")
	w = do(h, "POST", "/campaigns/new", auth.Login("admin"), v, map[string]string{"HX-Request": "true"})
	if w.Header().Get("HX-Redirect") != "/campaigns/43" {
		t.Fatalf("htmx create: %d, HX-Redirect %q", w.Code, w.Header().Get("HX-Redirect"))
	}
	if c := f.created[1]; c.Segment != `segment("moscow")` || c.Platforms != nil || c.StartAt != nil || f.actors[1] != "admin" {
		t.Errorf("second campaign %+v by %s", c, f.actors[1])
	}
}

// TestComposeErrorsKeepValues: a service validation error shows the form
// again (422) with every value as typed and the error next to its field.
func TestComposeErrorsKeepValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		field string // the id of the field the error follows
		msg   string
	}{
		{"text", &broadcast.ValidationError{Field: "text", Message: `1:20: unknown client field "frist_name"; did you mean .client.first_name?`},
			"compose-text", `1:20: unknown client field &#34;frist_name&#34;; did you mean .client.first_name?`},
		{"second button", &broadcast.ValidationError{Field: "buttons[1]", Message: `unknown scenario "nope"`},
			"compose-button2-scenario", `unknown scenario &#34;nope&#34;`},
		{"empty name", &broadcast.ValidationError{Field: "name", Message: "want 1..200 characters"},
			"compose-name", "Название — от 1 до 200 символов."},
		{"past start", &broadcast.ValidationError{Field: "start_at", Message: "2026-12-01T10:00:00+03:00 is in the past"},
			"compose-start", "is in the past"},
	}
	for _, tt := range tests {
		f := &fakeComposer{invalid: tt.err}
		auth, h := newComposeConsole(t, f)
		w := do(h, "POST", "/campaigns/new", auth.Login("manager"), composeValues(), nil)
		body := w.Body.String()
		if w.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tt.name, w.Code)
		}
		field := strings.Index(body, `id="`+tt.field+`"`)
		msg := strings.Index(body, tt.msg)
		if field < 0 || msg < field || strings.Count(body[field:msg], "<fieldset") > 0 {
			t.Errorf("%s: the error %q is not next to #%s", tt.name, tt.msg, tt.field)
		}
		for _, kept := range []string{
			`value="Декабрьская рассылка"`, `city == &#34;Москва&#34; and subscribed</textarea>`,
			`Здравствуйте, {{ .client.first_name }}!</textarea>`, `value="https://example.com/catalog"`,
			`<option value="portrait" selected>`, `value="https://example.com/sale.jpg"`, `value="telegram" checked`,
			`value="2026-12-24T10:00"`, `name="ignore_frequency_cap" checked`, `name="ignore_quiet_hours" checked`,
			`role="alert"`,
		} {
			if !strings.Contains(body, kept) {
				t.Errorf("%s: the form lost %s", tt.name, kept)
			}
		}
	}
	// A schedule that is not a time never reaches the service.
	f := &fakeComposer{}
	auth, h := newComposeConsole(t, f)
	v := composeValues()
	v.Set("start_at", "завтра")
	w := do(h, "POST", "/campaigns/new", auth.Login("manager"), v, nil)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "Укажите дату и время запуска.") || len(f.created) != 0 {
		t.Errorf("bad schedule: %d, created %d", w.Code, len(f.created))
	}
}

func TestComposeCount(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{count: 1234}
	auth, h := newComposeConsole(t, f)
	tok := auth.Login("manager")
	tests := []struct {
		form url.Values
		want string
	}{
		{url.Values{"segment": {"subscribed"}}, "В сегменте сейчас 1\u00a0234 клиента."},
		{url.Values{"segment": {"subscribed and agee > 3"}}, `Ошибка в строке 1, позиции 16: unknown field &#34;agee&#34; (did you mean &#34;age&#34;?)`},
		{url.Values{"segment": {""}, "saved": {"moscow"}}, "В сегменте сейчас 1\u00a0234 клиента."},
	}
	for _, tt := range tests {
		w := do(h, "POST", "/campaigns/new/count", tok, tt.form, map[string]string{"HX-Request": "true"})
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), tt.want) || strings.Contains(w.Body.String(), "<html") {
			t.Errorf("count of %v: %d %q, want the fragment with %q", tt.form, w.Code, w.Body.String(), tt.want)
		}
	}
	w := do(h, "POST", "/campaigns/new/count", tok, url.Values{"segment": {"  "}}, nil)
	if strings.TrimSpace(w.Body.String()) != "" {
		t.Errorf("empty segment: %q", w.Body.String())
	}
	f.count = 1
	w = do(h, "POST", "/campaigns/new/count?lang=en", tok, url.Values{"segment": {"subscribed"}}, nil)
	if !strings.Contains(w.Body.String(), "The segment holds 1 client now.") {
		t.Errorf("English count: %q", w.Body.String())
	}
}

// TestComposeDryRunSummary: the summary shows the service's numbers, the
// skip reasons in order and the etiquette's warnings in plain words.
func TestComposeDryRunSummary(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{summary: broadcast.Summary{
		At: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC), Total: 1500, Send: 1300, Held: 1234,
		Skipped:      map[string]int{"frequency_cap": 23, "blocked": 100, "unsubscribed": 70, "no_channel": 7},
		FrequencyCap: 7 * 24 * time.Hour, Quiet: broadcast.QuietHours{Start: 21 * 60, End: 10 * 60},
	}}
	auth, h := newComposeConsole(t, f)
	w := do(h, "POST", "/campaigns/new/dry-run", auth.Login("manager"), composeValues(), nil)
	body := w.Body.String()
	for _, want := range []string{
		"Отправится 1\u00a0300 из 1\u00a0500 клиентов.",
		"Расчёт на время запуска: 06.12.2026 23:00 (Europe/Moscow).",
		"<td>заблокировали бота</td><td class=\"num\">100</td>",
		"<td>отписались</td><td class=\"num\">70</td>",
		"<td>недавно получали рассылку (ограничение частоты)</td><td class=\"num\">23</td>",
		"<td>нет канала: ни один запущенный бот их не обслуживает</td><td class=\"num\">7</td>",
		"В момент запуска тихие часы будут у 1\u00a0234 клиентов: им отправится после 10:00 по их времени.",
		"23 клиента уже получили рассылку за последние 7 дней и будут пропущены.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("summary lacks %q:\n%s", want, body)
		}
	}
	if i, j := strings.Index(body, "заблокировали"), strings.Index(body, "нет канала"); i > j {
		t.Errorf("reasons out of order")
	}
	if c := f.planned[len(f.planned)-1]; c.Segment != `city == "Москва" and subscribed` || c.StartAt == nil || !c.IgnoreQuietHours {
		t.Errorf("summarized %+v", c)
	}

	// Overrides, now, nobody left, one client.
	f.summary = broadcast.Summary{At: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC), Total: 1, Send: 1, CapOverridden: 1, QuietOverridden: 21,
		Skipped: map[string]int{}, FrequencyCap: 24 * time.Hour}
	v := composeValues()
	v.Del("start_at")
	body = do(h, "POST", "/campaigns/new/dry-run", auth.Login("manager"), v, nil).Body.String()
	for _, want := range []string{
		"Отправится 1 из 1 клиента.", "Расчёт на сейчас:", "Никто не будет пропущен.",
		"1 клиент уже получил рассылку за последние сутки, но получит и эту: ограничение частоты отключено.",
		"У 21 клиента сейчас тихие часы, но ему отправится сразу: тихие часы отключены.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("summary lacks %q:\n%s", want, body)
		}
	}
	f.summary = broadcast.Summary{Total: 3, Skipped: map[string]int{"unsubscribed": 3}}
	if body = do(h, "POST", "/campaigns/new/dry-run", auth.Login("manager"), v, nil).Body.String(); !strings.Contains(body, "Никому из сегмента рассылка не отправится.") {
		t.Errorf("nobody: %s", body)
	}
	v.Set("segment", "agee > 3")
	if body = do(h, "POST", "/campaigns/new/dry-run", auth.Login("manager"), v, nil).Body.String(); !strings.Contains(body, "segment:1:1: unknown field") {
		t.Errorf("bad segment: %s", body)
	}
}

func TestComposePreview(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{previews: []broadcast.Preview{
		{ClientID: 1, Platform: messenger.Telegram, Name: "Анна"},
		{ClientID: 2, Platform: messenger.VK, Name: "Борис", Skipped: "quiet_hours until 09:00 MSK"},
		{ClientID: 3, Platform: messenger.Telegram, Name: "Вера", Skipped: "frequency_cap"},
	}}
	auth, h := newComposeConsole(t, f)
	v := composeValues()
	v.Set("platform", "all")
	body := do(h, "POST", "/campaigns/new/preview", auth.Login("manager"), v, nil).Body.String()
	for _, want := range []string{
		"Здравствуйте, Анна!", "Здравствуйте, Борис!", "тихие часы, отправится в 09:00 MSK",
		"недавно получали рассылку (ограничение частоты)", "Как выглядит в Telegram", "Как выглядит в VK",
		"https://example.com/sale.jpg", "<li>Каталог <span", "<li>Анкета</li>", "<li>Отписаться</li>",
		"19 из 1024 символов подписи к картинке.", "19 из 4096 символов.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("preview lacks %q:\n%s", want, body)
		}
	}
	// Telegram only, a long text, no picture.
	v.Set("platform", "telegram")
	v.Set("image_url", "")
	v.Set("text", strings.Repeat("я", 3500))
	body = do(h, "POST", "/campaigns/new/preview", auth.Login("manager"), v, nil).Body.String()
	if strings.Contains(body, "в VK") || !strings.Contains(body, "3500 из 4096 символов.") {
		t.Errorf("Telegram-only preview:\n%s", body)
	}
	// A bad text is the service's error; no segment renders the empty card.
	v.Set("text", "{{ .client.frist_name }}")
	if body = do(h, "POST", "/campaigns/new/preview", auth.Login("manager"), v, nil).Body.String(); !strings.Contains(body, "frist_name") || !strings.Contains(body, `role="alert"`) {
		t.Errorf("bad text: %s", body)
	}
	v.Set("text", "Привет{{ .client.first_name }}")
	v.Set("segment", "")
	if body = do(h, "POST", "/campaigns/new/preview", auth.Login("manager"), v, nil).Body.String(); !strings.Contains(body, "Сегмент не выбран") || !strings.Contains(body, ">Привет</div>") {
		t.Errorf("no segment: %s", body)
	}
}

// TestComposeEscapes: what a manager typed and a client's name are text,
// never markup, in the form, the preview and the errors.
func TestComposeEscapes(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{previews: []broadcast.Preview{{ClientID: 1, Platform: messenger.Telegram, Name: "<script>alert(1)</script>"}},
		invalid: &broadcast.ValidationError{Field: "text", Message: "<script>bad()</script>"}}
	auth, h := newComposeConsole(t, f)
	v := composeValues()
	v.Set("name", "<script>name()</script>")
	v.Set("text", "<script>x()</script> {{ .client.first_name }}")
	for _, path := range []string{"/campaigns/new", "/campaigns/new/preview"} {
		body := do(h, "POST", path, auth.Login("manager"), v, nil).Body.String()
		if strings.Contains(body, "<script>") && strings.Count(body, "<script") != strings.Count(body, `<script src="/assets/`) {
			t.Errorf("%s lets markup through:\n%s", path, body)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s shows no escaped text", path)
		}
	}
}

func TestComposeNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang i18n.Lang
		n    int64
		want string
	}{
		{i18n.Ru, 0, "0"}, {i18n.Ru, 999, "999"}, {i18n.Ru, 1234, "1\u00a0234"}, {i18n.Ru, 1234567, "1\u00a0234\u00a0567"},
		{i18n.En, 100000, "100,000"}, {i18n.En, -4500, "-4,500"},
	}
	for _, tt := range tests {
		if got := num(tt.lang, tt.n); got != tt.want {
			t.Errorf("num(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	if got := countText(i18n.Ru, "compose.count.clients", 21); got != "21 клиент" {
		t.Errorf("21: %q", got)
	}
	if got := periodText(i18n.Ru, 36*time.Hour); got != "36 часов" {
		t.Errorf("36h: %q", got)
	}
}

var composeKeyRE = regexp.MustCompile(`(?:i18n\.T\([^,]+, |countText\([^,]+, )"([a-z_.]+)"`)

// TestComposeKeysExist: every message key the composer's Go code names is
// in both catalogs (the templates' are checked by TestUsedKeysExist).
func TestComposeKeysExist(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("campaign_compose*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range composeKeyRE.FindAllStringSubmatch(string(b), -1) {
			n++
			for _, l := range i18n.Langs {
				if !i18n.Has(l, m[1]) {
					t.Errorf("%s: key %q missing from %s", name, m[1], l)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d keys", n)
	}
	for _, r := range append(reasonOrder, "quiet_hours", "cancelled") {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, "compose.reason."+r) {
				t.Errorf("no label for reason %s in %s", r, l)
			}
		}
	}
}

// TestComposeEditDraft: a draft opens in the composer with its values
// (a saved segment chosen, the schedule in the console's timezone),
// saving goes to its page with the edit made under the user's name; a
// started campaign is 409 and a missing one 404; operators get 403.
func TestComposeEditDraft(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 24, 7, 0, 0, 0, time.UTC)
	f := &fakeComposer{created: []broadcast.Campaign{
		{ID: 7, Name: "Зима", Segment: `segment("moscow")`, Text: "Привет, {{ .client.first_name }}", State: broadcast.Scheduled,
			StartAt: &at, Platforms: []messenger.Platform{messenger.VK}, IgnoreQuietHours: true,
			Buttons: []broadcast.Button{{Text: "Анкета", Scenario: "portrait"}}},
		{ID: 8, Name: "Шла", Segment: "subscribed", Text: "x", State: broadcast.Running},
	}, saved: []segment.Definition{{Name: "moscow"}}}
	auth, h := newComposeConsole(t, f)
	tok := auth.Login("manager")
	w := do(h, "GET", "/campaigns/7/edit", tok, nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("edit page: %d", w.Code)
	}
	for _, want := range []string{
		"<h1>Изменение рассылки</h1>", `action="/campaigns/7/edit"`, `value="Зима"`, `<option value="moscow" selected>`,
		`value="2026-12-24T10:00"`, `value="vk" checked`, `name="ignore_quiet_hours" checked`,
		`value="Анкета"`, `<option value="portrait" selected>`, "Привет, {{ .client.first_name }}</textarea>", ">Сохранить</button>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("edit page lacks %s", want)
		}
	}
	v := composeValues()
	v.Set("name", "Зима-2")
	w = do(h, "POST", "/campaigns/7/edit", tok, v, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/campaigns/7" {
		t.Fatalf("save: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if c, _ := f.Get(context.Background(), 7); c.Name != "Зима-2" || c.Segment != `city == "Москва" and subscribed` || f.actors[len(f.actors)-1] != "manager" {
		t.Errorf("saved %+v by %v", c, f.actors)
	}
	for _, tt := range []struct {
		user, method, path string
		want               int
	}{
		{"manager", "GET", "/campaigns/8/edit", http.StatusConflict},
		{"manager", "POST", "/campaigns/8/edit", http.StatusConflict},
		{"manager", "GET", "/campaigns/99/edit", http.StatusNotFound},
		{"manager", "GET", "/campaigns/x/edit", http.StatusNotFound},
		{"operator", "GET", "/campaigns/7/edit", http.StatusForbidden},
		{"operator", "POST", "/campaigns/7/edit", http.StatusForbidden},
	} {
		if w := do(h, tt.method, tt.path, auth.Login(tt.user), v, nil); w.Code != tt.want {
			t.Errorf("%s %s %s: %d, want %d", tt.user, tt.method, tt.path, w.Code, tt.want)
		}
	}
	f.invalid = &broadcast.ValidationError{Field: "image_url", Message: "must be an absolute http(s) link"}
	w = do(h, "POST", "/campaigns/7/edit", tok, v, nil)
	if body := w.Body.String(); w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="Зима-2"`) ||
		!strings.Contains(body, "must be an absolute http(s) link") || !strings.Contains(body, `action="/campaigns/7/edit"`) {
		t.Errorf("invalid edit: %d", w.Code)
	}
}

func TestSavedName(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		`segment("moscow")`: "moscow", ` segment("a-1") `: "a-1", `segment("a") and subscribed`: "", `subscribed`: "", `segment(moscow)`: "",
	} {
		if got, _ := savedName(expr); got != want {
			t.Errorf("savedName(%q) = %q, want %q", expr, got, want)
		}
	}
}

// TestComposeServiceFailure: a failing service answers the fragment with
// a message that gives nothing away.
func TestComposeServiceFailure(t *testing.T) {
	t.Parallel()
	f := &fakeComposer{broken: errors.New("connection refused to 10.0.0.5")}
	auth, h := newComposeConsole(t, f)
	for _, path := range []string{"/campaigns/new/count", "/campaigns/new/dry-run"} {
		body := do(h, "POST", path, auth.Login("manager"), composeValues(), nil).Body.String()
		if !strings.Contains(body, "Не удалось получить данные") || strings.Contains(body, "10.0.0.5") {
			t.Errorf("%s: %q", path, body)
		}
	}
}

// TestComposeKeepsEveryButton: a draft with as many buttons as the service
// allows (made through the API) keeps all of them through the composer's
// form: editing never drops one.
func TestComposeKeepsEveryButton(t *testing.T) {
	t.Parallel()
	camp := broadcast.Campaign{ID: 3, Name: "x", Segment: "subscribed", Text: "t", State: broadcast.Draft}
	for i := range broadcast.MaxButtons {
		camp.Buttons = append(camp.Buttons, broadcast.Button{Text: fmt.Sprint("b", i), URL: fmt.Sprintf("https://example.ru/%d", i)})
	}
	f := formOf(camp, time.UTC)
	got, errs := f.campaign(i18n.Ru, time.UTC)
	if len(errs) != 0 || len(got.Buttons) != broadcast.MaxButtons {
		t.Fatalf("round trip: %d buttons, errors %v; want %d", len(got.Buttons), errs, broadcast.MaxButtons)
	}
}
