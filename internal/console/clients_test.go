package console

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeClientPages is an in-memory Клиенты backend: the clients (ids 1..n,
// newest = highest), a segment compiler that refuses expressions holding
// "==)" and an editor recording its calls with their actors.
type fakeClientPages struct {
	mu       sync.Mutex
	clients  []crm.Client
	answers  []crm.Answer
	delivers []postgres.ClientDelivery
	saved    []segment.Definition
	calls    []string // "edit <actor> <id> <change>", "erase <actor> <id>", "save <actor> <name>"
	lists    []postgres.ListOptions
	// failList, when positive, fails the failList-th ListClients call.
	failList int
}

func newFakeClientPages(n int) *fakeClientPages {
	f := &fakeClientPages{}
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		f.clients = append(f.clients, crm.Client{ID: int64(i), Platform: "telegram", PlatformUserID: fmt.Sprint(1000 + i),
			FirstName: fmt.Sprintf("Клиент%d", i), CreatedAt: at, UpdatedAt: at, LastSeenAt: at})
	}
	return f
}

func (f *fakeClientPages) match(opt postgres.ListOptions, c *crm.Client) bool {
	return (opt.ID == 0 || c.ID == opt.ID) && (opt.BeforeID == 0 || c.ID < opt.BeforeID) &&
		(opt.Search == "" || strings.Contains(strings.ToLower(c.FirstName), strings.ToLower(opt.Search)))
}

func (f *fakeClientPages) ListClients(_ context.Context, opt postgres.ListOptions) ([]crm.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if opt.Search == "%" {
		return nil, fmt.Errorf("list clients: %w: no letter", postgres.ErrBadSearch)
	}
	f.lists = append(f.lists, opt)
	if f.failList > 0 && len(f.lists) == f.failList {
		return nil, errors.New("connection reset")
	}
	var out []crm.Client
	for i := len(f.clients) - 1; i >= 0 && len(out) < opt.Limit; i-- {
		if f.match(opt, &f.clients[i]) {
			out = append(out, f.clients[i])
		}
	}
	return out, nil
}

func (f *fakeClientPages) CountClients(_ context.Context, opt postgres.ListOptions) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if opt.Search == "%" {
		return 0, fmt.Errorf("count clients: %w: no letter", postgres.ErrBadSearch)
	}
	var n int64
	for i := range f.clients {
		if f.match(opt, &f.clients[i]) {
			n++
		}
	}
	return n, nil
}

func (f *fakeClientPages) ClientByID(_ context.Context, id int64) (*crm.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.clients {
		if f.clients[i].ID == id {
			c := f.clients[i]
			return &c, nil
		}
	}
	return nil, nil
}

func (f *fakeClientPages) Answers(context.Context, int64, int) ([]crm.Answer, error) {
	return f.answers, nil
}

func (f *fakeClientPages) ClientDeliveries(context.Context, int64, int) ([]postgres.ClientDelivery, error) {
	return f.delivers, nil
}

// CompileSegment refuses an expression holding "==" not followed by a
// value, at the character after it.
func (f *fakeClientPages) CompileSegment(_ context.Context, expr string) (*segment.Segment, error) {
	if i := strings.Index(expr, "=="); i >= 0 && strings.TrimSpace(expr[i+2:]) == "" {
		col := len([]rune(expr[:i])) + 3
		return nil, &segment.Error{Source: "segment", Line: 1, Column: col, Offset: col - 1, Msg: "expected a value after ==, e.g. \"Москва\""}
	}
	return &segment.Segment{}, nil
}

func (f *fakeClientPages) SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error) {
	f.record("save %s %s", clientActor(ctx), d.Name)
	f.mu.Lock()
	f.saved = append(f.saved, d)
	f.mu.Unlock()
	return &d, nil
}

func (f *fakeClientPages) Edit(ctx context.Context, id int64, ch admin.ClientChange) error {
	if c, _ := f.ClientByID(ctx, id); c == nil {
		return admin.ErrNoClient
	}
	if slices.Contains(ch.AddTags, "") {
		return fmt.Errorf("%w: empty tag", admin.ErrBadEdit)
	}
	m := "-"
	if ch.Manager != nil {
		m = *ch.Manager
	}
	f.record("edit %s %d +%v -%v %s", clientActor(ctx), id, ch.AddTags, ch.RemoveTags, m)
	return nil
}

func (f *fakeClientPages) Erase(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.clients {
		if f.clients[i].ID == id {
			f.clients = slices.Delete(f.clients, i, i+1)
			f.calls = append(f.calls, fmt.Sprintf("erase %s %d", clientActor(ctx), id))
			return nil
		}
	}
	return admin.ErrNoClient
}

func (f *fakeClientPages) Users(context.Context) ([]account.User, error) {
	return []account.User{{Name: "olga"}, {Name: "anna"}}, nil
}

func (f *fakeClientPages) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeClientPages) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

func clientActor(ctx context.Context) string {
	a, _ := account.ActorIn(ctx)
	return a
}

func newClientsConsole(t *testing.T, f *fakeClientPages) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Clients: ClientPages{Clients: f, Segments: f, Saver: f, Editor: f, Users: f}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

// TestClientsRolesEnforced: operators get 403 on every Клиенты route,
// managers and admins get through.
func TestClientsRolesEnforced(t *testing.T) {
	t.Parallel()
	auth, h := newClientsConsole(t, newFakeClientPages(3))
	routes := []struct{ method, target string }{
		{"GET", "/clients"}, {"GET", "/clients/1"}, {"GET", "/clients/export.csv"}, {"POST", "/clients/count"},
		{"POST", "/clients/save-segment"}, {"POST", "/clients/1/tags"}, {"POST", "/clients/1/tags/remove"},
		{"POST", "/clients/1/manager"}, {"GET", "/clients/1/delete"}, {"POST", "/clients/1/delete"},
	}
	op := auth.Login("operator")
	for _, rt := range routes {
		var form url.Values
		if rt.method == "POST" {
			form = url.Values{"tag": {"x"}}
		}
		if w := do(h, rt.method, rt.target, op, form, nil); w.Code != http.StatusForbidden {
			t.Errorf("operator %s %s: %d, want 403", rt.method, rt.target, w.Code)
		}
	}
	for _, name := range []string{"manager", "admin"} {
		if w := do(h, "GET", "/clients", auth.Login(name), nil, nil); w.Code != http.StatusOK {
			t.Errorf("%s GET /clients: %d", name, w.Code)
		}
	}
}

// TestClientsListPagesAndEscapes: newest first, keyset "older" link, a
// client's typed name shown as text.
func TestClientsListPagesAndEscapes(t *testing.T) {
	t.Parallel()
	f := newFakeClientPages(clientPageSize + 5)
	f.clients[len(f.clients)-1].FirstName = "<script>alert(1)</script>"
	auth, h := newClientsConsole(t, f)
	tok := auth.Login("manager")
	w := do(h, "GET", "/clients", tok, nil, nil)
	body := w.Body.String()
	if w.Code != 200 || strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("list: %d, name not escaped", w.Code)
	}
	if !strings.Contains(body, `hx-post="/clients/count" hx-trigger="load"`) {
		t.Error("the list does not load its count")
	}
	if w := do(h, "POST", "/clients/count", tok, url.Values{}, nil); !strings.Contains(w.Body.String(), "55 клиентов") {
		t.Errorf("count of all: %q", w.Body.String())
	}
	older := fmt.Sprintf(`href="/clients?before=%d"`, 6)
	if !strings.Contains(body, older) {
		t.Errorf("no older link %s", older)
	}
	w = do(h, "GET", "/clients?before=6", tok, nil, nil)
	if body := w.Body.String(); !strings.Contains(body, "Клиент5<") || strings.Contains(body, "Клиент6<") || !strings.Contains(body, `href="/clients"`) {
		t.Errorf("older page wrong")
	}
	if w := do(h, "GET", "/clients?before=x", tok, nil, nil); w.Code != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", w.Code)
	}
	w = do(h, "GET", "/clients/"+fmt.Sprint(clientPageSize+5), tok, nil, nil)
	if body := w.Body.String(); w.Code != 200 || strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("card: %d, name not escaped", w.Code)
	}
	if w := do(h, "GET", "/clients/999", tok, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("missing card: %d", w.Code)
	}
}

// TestClientsSegmentStatusFragment: the live fragment counts, or shows the
// parser's error with its line, column and a caret under the column.
func TestClientsSegmentStatusFragment(t *testing.T) {
	t.Parallel()
	auth, h := newClientsConsole(t, newFakeClientPages(7))
	tok := auth.Login("manager")
	w := do(h, "POST", "/clients/count", tok, url.Values{"segment": {"subscribed"}, "q": {"клиент"}}, map[string]string{"HX-Request": "true"})
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "7 клиентов") || strings.Contains(body, "<html") {
		t.Errorf("count fragment: %d %q", w.Code, body)
	}
	w = do(h, "POST", "/clients/count", tok, url.Values{"segment": {`city ==`}}, nil)
	body := w.Body.String()
	if !strings.Contains(body, "строка 1, столбец 8") || !strings.Contains(body, "expected a value after ==, e.g. &#34;Москва&#34;") {
		t.Errorf("error fragment lacks the position or message: %q", body)
	}
	if !strings.Contains(body, "city ==\n<span class=\"caret\">       ^</span>") {
		t.Errorf("no caret under column 8: %q", body)
	}
	w = do(h, "POST", "/clients/count", tok, url.Values{"q": {"%"}}, nil)
	if !strings.Contains(w.Body.String(), "хотя бы одна буква") {
		t.Errorf("bad search fragment: %q", w.Body.String())
	}
	w = do(h, "GET", "/clients?segment="+url.QueryEscape("city =="), tok, nil, nil)
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "столбец 8") || strings.Contains(body, "<table") {
		t.Errorf("page with a bad segment: %d", w.Code)
	}
}

// TestClientsExportCSV: every matching client on every page, a BOM, the
// portrait columns; a bad filter is refused before any CSV.
func TestClientsExportCSV(t *testing.T) {
	t.Parallel()
	f := newFakeClientPages(clientExportBatch + 300)
	f.clients[0].FirstName = "=cmd"
	auth, h := newClientsConsole(t, f)
	tok := auth.Login("manager")
	w := do(h, "GET", "/clients/export.csv?q=клиент", tok, nil, nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", w.Code, w.Header())
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, "\uFEFF") {
		t.Fatal("no BOM")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], admin.ClientColumns) || len(recs) != clientExportBatch+300 {
		t.Fatalf("header %v, %d records", recs[0], len(recs))
	}
	if recs[1][0] != fmt.Sprint(clientExportBatch+300) || recs[1][4] != fmt.Sprintf("Клиент%d", clientExportBatch+300) {
		t.Errorf("first row %v", recs[1][:5])
	}
	if f.lists[len(f.lists)-1].Search != "клиент" {
		t.Error("the export dropped the search")
	}
	w = do(h, "GET", "/clients/export.csv?segment="+url.QueryEscape("age =="), tok, nil, nil)
	if w.Code != http.StatusBadRequest || strings.Contains(w.Header().Get("Content-Type"), "csv") {
		t.Errorf("bad segment export: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// TestClientsExportCutShortFails: a failure after the CSV began aborts the
// response, so the download fails instead of a cut file passing for a
// whole one.
func TestClientsExportCutShortFails(t *testing.T) {
	t.Parallel()
	f := newFakeClientPages(clientExportBatch + 10)
	f.failList = 3 // the header check, the first page, then the second page fails
	auth, h := newClientsConsole(t, f)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL+"/clients/export.csv", nil)
	req.AddCookie(&http.Cookie{Name: "chathub_session", Value: auth.Login("manager")})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("a cut export (status %d) read as a whole file", resp.StatusCode)
	}
}

// TestClientsSaveSegment: the applied expression is saved under the
// signed-in user; a name the service's rules refuse is shown.
func TestClientsSaveSegment(t *testing.T) {
	t.Parallel()
	f := newFakeClientPages(2)
	auth, h := newClientsConsole(t, f)
	tok := auth.Login("manager")
	w := do(h, "POST", "/clients/save-segment", tok, url.Values{"segment": {"subscribed"}, "name": {"vip"}}, nil)
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "saved=vip") {
		t.Fatalf("save: %d %q", w.Code, w.Header().Get("Location"))
	}
	if f.lastCall() != "save manager vip" || f.saved[0].Expression != "subscribed" {
		t.Errorf("saved %v via %q", f.saved, f.lastCall())
	}
	w = do(h, "POST", "/clients/save-segment", tok, url.Values{"segment": {"subscribed"}, "name": {""}}, nil)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "Сегмент не сохранён") {
		t.Errorf("empty name: %d", w.Code)
	}
}

// TestClientCardEditAndDelete: tag and manager edits go to the service
// under the user's name; deletion asks first and then erases.
func TestClientCardEditAndDelete(t *testing.T) {
	t.Parallel()
	f := newFakeClientPages(2)
	f.clients[1].Tags = []string{"vip"}
	f.clients[1].Attributes = map[string]any{"interests": []any{"фитнес", "йога"}}
	f.answers = []crm.Answer{{Scenario: "portrait", Step: "city", Field: "city", Value: "Самара", CreatedAt: time.Now()}}
	f.delivers = []postgres.ClientDelivery{{CampaignID: 3, Campaign: "Весна", Status: "skipped", Reason: "unsubscribed", UpdatedAt: time.Now()}}
	auth, h := newClientsConsole(t, f)
	tok := auth.Login("manager")
	body := do(h, "GET", "/clients/2", tok, nil, nil).Body.String()
	for _, want := range []string{"Клиент2", "vip", "фитнес, йога", "Самара", "Весна", "пропущено", "unsubscribed", `<option value="olga">`, "Удалить клиента…"} {
		if !strings.Contains(body, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	steps := []struct {
		target string
		form   url.Values
		code   int
		call   string
	}{
		{"/clients/2/tags", url.Values{"tag": {"новый"}}, http.StatusSeeOther, "edit manager 2 +[новый] -[] -"},
		{"/clients/2/tags/remove", url.Values{"tag": {"vip"}}, http.StatusSeeOther, "edit manager 2 +[] -[vip] -"},
		{"/clients/2/manager", url.Values{"manager": {"olga"}}, http.StatusSeeOther, "edit manager 2 +[] -[] olga"},
		{"/clients/2/tags", url.Values{"tag": {""}}, http.StatusUnprocessableEntity, "edit manager 2 +[] -[] olga"},
		{"/clients/9/tags", url.Values{"tag": {"x"}}, http.StatusNotFound, "edit manager 2 +[] -[] olga"},
	}
	for _, s := range steps {
		w := do(h, "POST", s.target, tok, s.form, nil)
		if w.Code != s.code || f.lastCall() != s.call {
			t.Errorf("POST %s %v: %d, last call %q; want %d, %q", s.target, s.form, w.Code, f.lastCall(), s.code, s.call)
		}
	}
	w := do(h, "GET", "/clients/2/delete", tok, nil, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Удалить навсегда") || len(f.clients) != 2 {
		t.Fatalf("confirmation page: %d, clients %d", w.Code, len(f.clients))
	}
	w = do(h, "POST", "/clients/2/delete", tok, url.Values{}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/clients?deleted=1" || f.lastCall() != "erase manager 2" {
		t.Errorf("delete: %d %q, %q", w.Code, w.Header().Get("Location"), f.lastCall())
	}
	if w := do(h, "POST", "/clients/2/delete", tok, url.Values{}, nil); w.Code != http.StatusNotFound {
		t.Errorf("deleting again: %d", w.Code)
	}
	if !strings.Contains(do(h, "GET", "/clients?deleted=1", tok, nil, nil).Body.String(), "Клиент удалён") {
		t.Error("no notice after deletion")
	}
}

// TestExprErrorCaret: the caret sits under the error's column on its line,
// keeping tabs so it lines up, and a position outside the text shows none.
func TestExprErrorCaret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src         string
		line, col   int
		text, caret string
	}{
		{`city ==`, 1, 8, "city ==", "       ^"},
		{"subscribed and\n\tcity == 5 ==", 2, 12, "\tcity == 5 ==", "\t          ^"},
		{"возраст > ", 1, 11, "возраст > ", "          ^"},
		{"a\r\nb c", 2, 3, "b c", "  ^"},
		{"x", 3, 1, "", ""},
	}
	for _, tt := range tests {
		e := newClientExprError(&segment.Error{Line: tt.line, Column: tt.col, Msg: "m"}).withSource(tt.src)
		if e.Text != tt.text || e.Caret != tt.caret {
			t.Errorf("%q at %d:%d: text %q caret %q; want %q %q", tt.src, tt.line, tt.col, e.Text, e.Caret, tt.text, tt.caret)
		}
	}
}
