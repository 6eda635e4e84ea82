package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
)

// fakeAudit is a hand-written AuditLog over entries kept newest first; it
// filters and pages as internal/account's store does and remembers the
// filters it was asked.
type fakeAudit struct {
	mu      sync.Mutex
	entries []account.AuditEntry
	asked   []account.AuditFilter
	err     error
}

func (f *fakeAudit) Audit(_ context.Context, flt account.AuditFilter) ([]account.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, flt)
	if f.err != nil {
		return nil, f.err
	}
	var out []account.AuditEntry
	for _, e := range f.entries {
		if (flt.Actor != "" && e.Actor != flt.Actor) || (flt.Action != "" && e.Action != flt.Action) ||
			(flt.Before != 0 && e.ID >= flt.Before) {
			continue
		}
		if len(out) == flt.Limit {
			break
		}
		out = append(out, e)
	}
	return out, nil
}

func (f *fakeAudit) last() account.AuditFilter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[len(f.asked)-1]
}

// newAuditLog makes n entries with IDs n..1 (newest first), alternating
// actors anna and boris, every third a failed login.
func newAuditLog(n int) *fakeAudit {
	f := &fakeAudit{}
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	for id := n; id >= 1; id-- {
		e := account.AuditEntry{ID: int64(id), At: at.Add(time.Duration(id) * time.Minute), Actor: "anna",
			Action: "campaign.start", Object: fmt.Sprintf("campaign %d", id), Details: "spring sale"}
		if id%2 == 0 {
			e.Actor = "boris"
		}
		if id%3 == 0 {
			e.Action, e.Object, e.Details = "login.failed", "", "client 10.0.0.1"
		}
		f.entries = append(f.entries, e)
	}
	return f
}

func newAuditConsole(t *testing.T, audit AuditLog) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

func TestAuditPageShowsEntries(t *testing.T) {
	t.Parallel()
	log := newAuditLog(3)
	auth, h := newAuditConsole(t, log)
	w := do(h, "GET", "/audit", auth.Login("admin"), nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /audit: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		"<h1>Журнал</h1>", ">Время<", ">Кто<", ">Действие<", ">Объект<", ">Подробности<",
		`<time datetime="2026-12-06T04:03:00Z">06.12.2026 04:03:00 UTC</time>`,
		"Неудачный вход", "Рассылка запущена", "campaign 2", "spring sale", "client 10.0.0.1",
		`<label for="audit-actor">`, `<label for="audit-action">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i, j := strings.Index(body, "campaign 2"), strings.Index(body, "campaign 1"); i < 0 || j < 0 || i > j {
		t.Errorf("entries not newest first (campaign 2 at %d, campaign 1 at %d)", i, j)
	}
	if strings.Contains(body, `rel="next"`) {
		t.Error("a single page links to an older one")
	}
	if got := log.last(); got != (account.AuditFilter{Limit: auditPageSize + 1}) {
		t.Errorf("asked %+v", got)
	}
	en := do(h, "GET", "/audit?lang=en", auth.Login("admin"), nil, nil).Body.String()
	for _, want := range []string{"<h1>Audit log</h1>", ">Who<", "Failed sign-in", "Campaign started", "6 Dec 2026 04:03:00 UTC"} {
		if !strings.Contains(en, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
}

func TestAuditPageFiltersAndPages(t *testing.T) {
	t.Parallel()
	log := newAuditLog(130)
	auth, h := newAuditConsole(t, log)
	token := auth.Login("admin")

	// The first page: 50 rows and an Older link at the 50th entry's ID.
	body := do(h, "GET", "/audit", token, nil, nil).Body.String()
	if n := strings.Count(body, "<time "); n != auditPageSize {
		t.Errorf("first page shows %d rows, want %d", n, auditPageSize)
	}
	if !strings.Contains(body, `<a href="/audit?before=81" rel="next">Дальше</a>`) {
		t.Errorf("first page lacks the Older link to before=81:\n%s", body)
	}

	// Filtered by actor and action: the filter is passed through and kept
	// in the form and the Older link.
	tests := []struct {
		target string
		want   account.AuditFilter
		rows   int
		older  string
	}{
		{"/audit?actor=anna&action=campaign.start", account.AuditFilter{Actor: "anna", Action: "campaign.start", Limit: 51}, 43, ""},
		{"/audit?actor=boris", account.AuditFilter{Actor: "boris", Limit: 51}, 50, "/audit?actor=boris&amp;before=32"},
		{"/audit?actor=boris&before=32", account.AuditFilter{Actor: "boris", Before: 32, Limit: 51}, 15, ""},
		{"/audit?action=login.failed&before=100", account.AuditFilter{Action: "login.failed", Before: 100, Limit: 51}, 33, ""},
		{"/audit?action=campaign.start", account.AuditFilter{Action: "campaign.start", Limit: 51}, 50, "/audit?action=campaign.start&amp;before=56"},
	}
	for _, tt := range tests {
		body := do(h, "GET", tt.target, token, nil, nil).Body.String()
		if got := log.last(); got != tt.want {
			t.Errorf("%s asked %+v, want %+v", tt.target, got, tt.want)
		}
		if n := strings.Count(body, "<time "); n != tt.rows {
			t.Errorf("%s shows %d rows, want %d", tt.target, n, tt.rows)
		}
		hasOlder := strings.Contains(body, `rel="next"`)
		if (tt.older == "") == hasOlder || (tt.older != "" && !strings.Contains(body, `href="`+tt.older+`"`)) {
			t.Errorf("%s: want Older link %q", tt.target, tt.older)
		}
		if tt.want.Actor != "" && !strings.Contains(body, `name="actor" value="`+tt.want.Actor+`"`) {
			t.Errorf("%s: the form forgets the actor", tt.target)
		}
		if tt.want.Action != "" && !strings.Contains(body, `<option value="`+tt.want.Action+`" selected>`) {
			t.Errorf("%s: the form forgets the action", tt.target)
		}
		if tt.want.Before != 0 && !strings.Contains(body, "К новым записям") {
			t.Errorf("%s: an older page lacks the link back to the newest", tt.target)
		}
	}
}

func TestAuditPageEscapes(t *testing.T) {
	t.Parallel()
	log := &fakeAudit{entries: []account.AuditEntry{{ID: 1, At: time.Now(), Actor: "<script>alert(1)</script>",
		Action: "<b>odd</b>", Object: `"><img src=x>`, Details: "<script>x()</script>"}}}
	auth, h := newAuditConsole(t, log)
	token := auth.Login("admin")
	body := do(h, "GET", "/audit", token, nil, nil).Body.String()
	body += do(h, "GET", "/audit?actor=%3Cscript%3E&action=%3Cb%3E", token, nil, nil).Body.String()
	for _, bad := range []string{"<script>alert", "<script>x()", "<b>odd", "<img src=x>", `value="<script>`} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;x()&lt;/script&gt;", "<code>&lt;b&gt;odd&lt;/b&gt;</code>", `value="&lt;script&gt;"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks the escaped %q", want)
		}
	}
}

func TestAuditPageEmptyAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		log    *fakeAudit
		target string
		status int
		want   string
	}{
		{"empty log", &fakeAudit{}, "/audit", 200, "Журнал пока пуст"},
		{"nothing matches", newAuditLog(3), "/audit?actor=nobody", 200, "Нет записей, подходящих под фильтр."},
		{"past the end", newAuditLog(3), "/audit?before=1", 200, "Более ранних записей нет."},
		{"bad cursor", newAuditLog(3), "/audit?before=abc", 400, "Неверная ссылка"},
		{"negative cursor", newAuditLog(3), "/audit?before=-5", 400, "Неверная ссылка"},
		{"store fails", &fakeAudit{err: errors.New("db down")}, "/audit", 500, "Ошибка сервера"},
	}
	for _, tt := range tests {
		auth, h := newAuditConsole(t, tt.log)
		w := do(h, "GET", tt.target, auth.Login("admin"), nil, nil)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s: %d, want %d with %q", tt.name, w.Code, tt.status, tt.want)
		}
		if strings.Contains(w.Body.String(), "db down") {
			t.Errorf("%s: the page shows the store's error", tt.name)
		}
	}
}

// TestAuditPageAdminsOnly: managers and operators get 403 without the log
// being read; without Config.Audit the page stays "not ready yet".
func TestAuditPageAdminsOnly(t *testing.T) {
	t.Parallel()
	log := newAuditLog(3)
	auth, h := newAuditConsole(t, log)
	for _, role := range []string{"manager", "operator"} {
		if w := do(h, "GET", "/audit", auth.Login(role), nil, nil); w.Code != http.StatusForbidden {
			t.Errorf("%s GET /audit: %d, want 403", role, w.Code)
		}
	}
	if len(log.asked) != 0 {
		t.Errorf("the log was read for a forbidden request: %+v", log.asked)
	}
	plain, h2 := newTestConsole(t, false)
	if w := do(h2, "GET", "/audit", plain.Login("admin"), nil, nil); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "ещё не готов") {
		t.Errorf("without Audit: %d, want the 404 not-yet page", w.Code)
	}
}

// TestAuditActionLabels: every recorded action has a label in every
// catalog; an unknown one shows raw.
func TestAuditActionLabels(t *testing.T) {
	t.Parallel()
	for _, l := range i18n.Langs {
		for _, a := range auditActions {
			if !i18n.Has(l, "audit.action."+a) {
				t.Errorf("%s has no label for action %q", l, a)
			}
		}
		if got := actionLabel(l, "brand.new"); got != "brand.new" {
			t.Errorf("%s: unknown action shows %q", l, got)
		}
	}
	if got := actionLabel(i18n.Ru, "segment.save"); got != "Сегмент сохранён" {
		t.Errorf("segment.save in Russian = %q", got)
	}
}
