package console

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeSegments is a hand-written SegmentBook and SegmentQueries over saved
// definitions and in-memory clients (a segment counts the clients it
// matches); it records the actor of every change.
type fakeSegments struct {
	mu        sync.Mutex
	defs      map[string]segment.Definition
	clients   []crm.Client
	campaigns map[string][]postgres.SegmentCampaign
	actors    []string
}

func newFakeSegments() *fakeSegments {
	age := func(n int) *int { return &n }
	return &fakeSegments{
		defs: map[string]segment.Definition{
			"adults": {Name: "adults", Expression: "age >= 18", Description: "<script>alert('d')</script>"},
			"moscow": {Name: "moscow", Expression: `segment("adults") and city == "<script>"`},
		},
		clients: []crm.Client{
			{ID: 1, Platform: "telegram", FirstName: "<b>Анна</b>", City: "Москва", Age: age(30), Tags: []string{"vip"}, Subscribed: true},
			{ID: 2, Platform: "vk", Username: "boris", City: "<script>", Age: age(41)},
			{ID: 3, Platform: "telegram", City: "Казань", Age: age(12)},
		},
		campaigns: map[string][]postgres.SegmentCampaign{
			"moscow": {{ID: 7, Name: "<i>Весна</i>", State: broadcast.Running}},
		},
	}
}

func (f *fakeSegments) SegmentExpression(_ context.Context, name string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.defs[name]
	return d.Expression, ok, nil
}

func (f *fakeSegments) ListSegments(context.Context) ([]segment.Definition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []segment.Definition
	for _, d := range f.defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeSegments) GetSegment(_ context.Context, name string) (*segment.Definition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.defs[name]
	if !ok {
		return nil, fmt.Errorf("get segment %q: %w", name, postgres.ErrNotFound)
	}
	return &d, nil
}

func (f *fakeSegments) SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error) {
	if _, err := f.CompileSegment(ctx, d.Expression); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.defs[d.Name] = d
	actor, _ := account.ActorIn(ctx)
	f.actors = append(f.actors, "save "+d.Name+" by "+actor)
	return &d, nil
}

func (f *fakeSegments) DeleteSegment(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.defs {
		if d.Name != name && strings.Contains(d.Expression, `segment("`+name+`")`) {
			return fmt.Errorf("delete segment %q: %w: used by other segments: %s", name, postgres.ErrSegmentInUse, d.Name)
		}
	}
	for _, c := range f.campaigns[name] {
		if !c.Finished() {
			return fmt.Errorf("delete segment %q: %w: used by campaigns", name, postgres.ErrSegmentInUse)
		}
	}
	delete(f.defs, name)
	actor, _ := account.ActorIn(ctx)
	f.actors = append(f.actors, "delete "+name+" by "+actor)
	return nil
}

func (f *fakeSegments) CompileSegment(ctx context.Context, expr string) (*segment.Segment, error) {
	c, err := segment.NewCompiler(segment.Config{Library: f})
	if err != nil {
		return nil, err
	}
	return c.Compile(ctx, expr)
}

func (f *fakeSegments) matching(seg *segment.Segment) []crm.Client {
	var out []crm.Client
	for _, c := range f.clients {
		if ok, err := seg.Match(&c, nil); err == nil && ok {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSegments) CountSegment(_ context.Context, seg *segment.Segment) (int64, error) {
	return int64(len(f.matching(seg))), nil
}

func (f *fakeSegments) PeekSegment(_ context.Context, seg *segment.Segment, n int) ([]crm.Client, error) {
	m := f.matching(seg)
	return m[:min(n, len(m))], nil
}

func (f *fakeSegments) SegmentCampaigns(context.Context) (map[string][]postgres.SegmentCampaign, error) {
	return f.campaigns, nil
}

func (f *fakeSegments) Dialect() string { return "postgres" }

func newSegmentsConsole(t *testing.T) (*fakeSegments, *consoletest.Auth, http.Handler) {
	t.Helper()
	f := newFakeSegments()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Segments: SegmentPages{Book: f, Queries: f}})
	if err != nil {
		t.Fatal(err)
	}
	return f, auth, c.Handler()
}

func post(h http.Handler, target, token string, form url.Values) *httptest.ResponseRecorder {
	return do(h, "POST", target, token, form, map[string]string{"Sec-Fetch-Site": "same-origin"})
}

func TestSegmentsRoles(t *testing.T) {
	t.Parallel()
	_, auth, h := newSegmentsConsole(t)
	for _, tt := range []struct {
		method, target string
	}{{"GET", "/segments"}, {"GET", "/segments/new"}, {"GET", "/segments/adults"}, {"GET", "/segments/adults/count"},
		{"POST", "/segments/count"}, {"POST", "/segments/save"}, {"POST", "/segments/adults/delete"}} {
		form := url.Values{"expression": {"age > 1"}, "name": {"x"}, "new": {"1"}, "confirm": {"yes"}}
		if w := do(h, tt.method, tt.target, auth.Login("operator"), form, nil); w.Code != http.StatusForbidden {
			t.Errorf("operator %s %s: %d, want 403", tt.method, tt.target, w.Code)
		}
	}
	for _, role := range []string{"manager", "admin"} {
		if w := do(h, "GET", "/segments", auth.Login(role), nil, nil); w.Code != http.StatusOK {
			t.Errorf("%s /segments: %d", role, w.Code)
		}
	}
}

func TestSegmentsListEscapes(t *testing.T) {
	t.Parallel()
	_, auth, h := newSegmentsConsole(t)
	w := do(h, "GET", "/segments", auth.Login("manager"), nil, nil)
	body := w.Body.String()
	for _, want := range []string{
		`<a href="/segments/adults">adults</a><span class="seg-desc">&lt;script&gt;alert(&#39;d&#39;)&lt;/script&gt;</span>`,
		`hx-get="/segments/moscow/count" hx-trigger="load"`,
		`segment(&#34;adults&#34;) and city == &#34;&lt;script&gt;&#34;`,
		`<a href="/campaigns/7">№7 «&lt;i&gt;Весна&lt;/i&gt;»</a> <span class="seg-muted">(идёт)</span>`,
		`href="/segments/new"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<i>") {
		t.Error("the list shows markup a user typed")
	}
	w = do(h, "GET", "/segments/moscow/count", auth.Login("manager"), nil, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<span class="seg-count-value">1 клиент</span>`) ||
		strings.Contains(w.Body.String(), "<html") {
		t.Errorf("count fragment: %d %q", w.Code, w.Body.String())
	}
	if w := do(h, "GET", "/segments/nope/count", auth.Login("manager"), nil, nil); w.Code != 404 {
		t.Errorf("count of an unknown segment: %d", w.Code)
	}
}

func TestSegmentPreview(t *testing.T) {
	t.Parallel()
	_, auth, h := newSegmentsConsole(t)
	tok := auth.Login("manager")
	w := post(h, "/segments/count", tok, url.Values{"expression": {"age >= 18"}})
	body := w.Body.String()
	if w.Code != 200 || strings.Contains(body, "<html") {
		t.Fatalf("preview: %d %q", w.Code, body)
	}
	for _, want := range []string{
		`<span class="seg-live-count">2 клиента</span>`,
		`<a href="/clients/1">&lt;b&gt;Анна&lt;/b&gt;</a>`, `<a href="/clients/2">@boris</a>`,
		`<dd>&lt;script&gt;</dd>`, `<dd>30 лет</dd>`, `<li>vip</li>`, `<dd>подписан</dd>`,
		`SELECT id FROM clients WHERE`, `<li><code>18</code></li>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}

	// A typo: the parser's error with its position, the line and a caret.
	w = post(h, "/segments/count", tok, url.Values{"expression": {"city == \"Москва\" and agee >= 25"}})
	body = w.Body.String()
	if w.Code != http.StatusUnprocessableEntity {
		t.Errorf("typo: status %d", w.Code)
	}
	for _, want := range []string{"Ошибка в строке 1, столбце 22", `unknown field &#34;agee&#34; (did you mean &#34;age&#34;?)`,
		"city == &#34;Москва&#34; and agee &gt;= 25\n" + strings.Repeat(" ", 21) + "^</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("typo lacks %q in %q", want, body)
		}
	}
	// Markup typed into the expression comes back as text.
	w = post(h, "/segments/count", tok, url.Values{"expression": {"<script>alert(1)</script>"}})
	if strings.Contains(w.Body.String(), "<script>") || w.Code != http.StatusUnprocessableEntity {
		t.Errorf("script expression: %d %q", w.Code, w.Body.String())
	}
	// Nothing typed: the hint.
	if w := post(h, "/segments/count", tok, url.Values{"expression": {"  "}}); !strings.Contains(w.Body.String(), "Введите выражение") {
		t.Errorf("empty: %q", w.Body.String())
	}
	// In English, a saved segment's error names it.
	w = post(h, "/segments/count?lang=en", tok, url.Values{"expression": {`segment("nope")`}})
	if !strings.Contains(w.Body.String(), "Error at line 1, column") {
		t.Errorf("unknown segment: %q", w.Body.String())
	}
}

func TestSegmentSave(t *testing.T) {
	t.Parallel()
	f, auth, h := newSegmentsConsole(t)
	tok := auth.Login("manager")
	w := post(h, "/segments/save", tok, url.Values{"new": {"1"}, "name": {"kazan"}, "expression": {`city == "Казань"`},
		"description": {"Казань"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/segments?saved=kazan" {
		t.Fatalf("save: %d %q", w.Code, w.Header().Get("Location"))
	}
	if got := strings.Join(f.actors, ";"); got != "save kazan by manager" {
		t.Errorf("audited as %q", got)
	}
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"exists", url.Values{"new": {"1"}, "name": {"adults"}, "expression": {"age > 1"}}, "уже есть"},
		{"reserved", url.Values{"new": {"1"}, "name": {"new"}, "expression": {"age > 1"}}, "занято системой"},
		{"bad name", url.Values{"new": {"1"}, "name": {"<b>x</b>"}, "expression": {"age > 1"}}, "латинских букв"},
		{"bad expression", url.Values{"name": {"adults"}, "expression": {"agee > 1"}}, "Ошибка в строке 1, столбце 1"},
		{"empty expression", url.Values{"name": {"adults"}, "expression": {""}}, "Введите выражение."},
	} {
		w := post(h, "/segments/save", tok, tt.form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s: %d, want 422 with %q", tt.name, w.Code, tt.want)
		}
		if strings.Contains(w.Body.String(), "<b>x</b>") {
			t.Errorf("%s: the typed name is not escaped", tt.name)
		}
	}
	if len(f.actors) != 1 {
		t.Errorf("a refused save changed something: %v", f.actors)
	}
	// An existing segment is edited in place.
	w = post(h, "/segments/save", tok, url.Values{"name": {"adults"}, "expression": {"age >= 21"}})
	if w.Code != http.StatusSeeOther || f.defs["adults"].Expression != "age >= 21" {
		t.Errorf("edit: %d %+v", w.Code, f.defs["adults"])
	}
}

func TestSegmentDelete(t *testing.T) {
	t.Parallel()
	f, auth, h := newSegmentsConsole(t)
	tok := auth.Login("admin")
	// First the question.
	w := post(h, "/segments/adults/delete", tok, url.Values{})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Удалить сегмент «adults»?") || len(f.actors) != 0 {
		t.Fatalf("delete asks: %d", w.Code)
	}
	// Used by another segment, or by a running campaign: refused, saying by whom.
	w = post(h, "/segments/adults/delete", tok, url.Values{"confirm": {"yes"}})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "сегмент «moscow»") {
		t.Errorf("in use by a segment: %d", w.Code)
	}
	w = post(h, "/segments/moscow/delete", tok, url.Values{"confirm": {"yes"}})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "рассылка №7 «&lt;i&gt;Весна&lt;/i&gt;» (идёт)") {
		t.Errorf("in use by a campaign: %d %s", w.Code, w.Body.String())
	}
	f.campaigns["moscow"][0].State = broadcast.Done
	w = post(h, "/segments/moscow/delete", tok, url.Values{"confirm": {"yes"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/segments?deleted=moscow" {
		t.Errorf("delete: %d", w.Code)
	}
	if got := strings.Join(f.actors, ";"); got != "delete moscow by admin" {
		t.Errorf("audited as %q", got)
	}
	if w := post(h, "/segments/moscow/delete", tok, url.Values{"confirm": {"yes"}}); w.Code != 404 {
		t.Errorf("delete again: %d", w.Code)
	}
}

func TestSegmentEditPage(t *testing.T) {
	t.Parallel()
	f, auth, h := newSegmentsConsole(t)
	w := do(h, "GET", "/segments/moscow", auth.Login("manager"), nil, nil)
	body := w.Body.String()
	for _, want := range []string{"<h1>Сегмент «moscow»</h1>", `hx-trigger="input changed delay:300ms"`,
		`hx-post="/segments/count" hx-trigger="load" hx-include="#seg-expression"`, "считаем…",
		`action="/segments/moscow/delete"`} {
		if !strings.Contains(body, want) {
			t.Errorf("edit page lacks %q", want)
		}
	}
	// The preview it loads: the count and the saved segment it uses.
	w = post(h, "/segments/count", auth.Login("manager"), url.Values{"expression": {f.defs["moscow"].Expression}})
	for _, want := range []string{`<span class="seg-live-count">1 клиент</span>`, `<a href="/segments/adults">adults</a>`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("preview of moscow lacks %q", want)
		}
	}
	if w := do(h, "GET", "/segments/nope", auth.Login("manager"), nil, nil); w.Code != 404 {
		t.Errorf("unknown segment: %d", w.Code)
	}
}

// TestSegmentNoticeNames: the saved/deleted notices echo only a segment
// name (saved: one on the list), never any text a crafted link carries.
func TestSegmentNoticeNames(t *testing.T) {
	t.Parallel()
	_, auth, h := newSegmentsConsole(t)
	tok := auth.Login("manager")
	for _, tt := range []struct {
		query, want, notWant string
	}{
		{"?saved=adults", "Сегмент «adults» сохранён", ""},
		{"?deleted=old-one", "old-one", ""},
		{"?saved=" + url.QueryEscape("Позвоните 8-800"), "", "Позвоните"},
		{"?saved=nosuch", "", "nosuch"},
		{"?deleted=" + url.QueryEscape("Ваш аккаунт взломан"), "", "взломан"},
	} {
		body := html.UnescapeString(do(h, "GET", "/segments"+tt.query, tok, nil, nil).Body.String())
		if tt.want != "" && !strings.Contains(body, tt.want) {
			t.Errorf("%s: lacks %q", tt.query, tt.want)
		}
		if tt.notWant != "" && strings.Contains(body, tt.notWant) {
			t.Errorf("%s: echoes %q", tt.query, tt.notWant)
		}
	}
}
