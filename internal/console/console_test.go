package console

import (
	"compress/gzip"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
)

func newTestConsole(t *testing.T, secure bool) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Secure: secure})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

// do serves one request; token, when set, is sent as the session cookie.
func do(h http.Handler, method, target, token string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://console.test"+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		r.AddCookie(&http.Cookie{Name: plainCookieName, Value: token})
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNewRequiresAuth(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Auth: no error")
	}
}

func TestUnauthenticatedGoesToLogin(t *testing.T) {
	t.Parallel()
	_, h := newTestConsole(t, false)
	tests := []struct {
		name, target, token string
		htmx                bool
		wantStatus          int
		wantLocation        string
	}{
		{"root", "/", "", false, http.StatusSeeOther, "/login"},
		{"section keeps next", "/users", "", false, http.StatusSeeOther, "/login?next=%2Fusers"},
		{"unknown path", "/nowhere", "", false, http.StatusSeeOther, "/login?next=%2Fnowhere"},
		{"ended session", "/", "tok-ended", false, http.StatusSeeOther, "/login"},
		{"htmx", "/clients", "", true, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.htmx {
				hdr["HX-Request"] = "true"
				hdr["HX-Current-URL"] = "http://console.test/clients"
			}
			w := do(h, "GET", tt.target, tt.token, nil, hdr)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location %q, want %q", got, tt.wantLocation)
			}
			if tt.htmx && w.Header().Get("HX-Redirect") != "/login?next=%2Fclients" {
				t.Errorf("HX-Redirect %q", w.Header().Get("HX-Redirect"))
			}
			if tt.token != "" && !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
				t.Errorf("a dead session's cookie is not cleared: %q", w.Header().Get("Set-Cookie"))
			}
		})
	}
}

func TestLoginSetsSessionCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		auth, h := newTestConsole(t, secure)
		w := do(h, "POST", "/login", "", url.Values{"name": {"manager"}, "password": {"manager-secret"}, "next": {"/campaigns"}}, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/campaigns" {
			t.Fatalf("secure=%v: status %d Location %q", secure, w.Code, w.Header().Get("Location"))
		}
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("cookies %v", cookies)
		}
		ck := cookies[0]
		wantName := plainCookieName
		if secure {
			wantName = secureCookieName
		}
		if ck.Name != wantName || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != secure || ck.Domain != "" {
			t.Errorf("secure=%v: cookie %+v", secure, ck)
		}
		if _, err := auth.Session(t.Context(), ck.Value); err != nil {
			t.Errorf("cookie names no session: %v", err)
		}
		if got := auth.ClientIPs()[0]; got != "192.0.2.1" {
			t.Errorf("client IP %q, want the remote address's host", got)
		}
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, password string
		throttle             time.Duration
		lang                 string
		wantStatus           int
		wantText             string
		wantRetryAfter       string
	}{
		{"wrong password", "admin", "nope", 0, "", http.StatusUnauthorized, "Неверное имя пользователя или пароль.", ""},
		{"unknown user en", "ghost", "x", 0, "en", http.StatusUnauthorized, "Wrong user name or password.", ""},
		{"throttled seconds", "admin", "admin-secret", 30*time.Second + time.Millisecond, "", http.StatusTooManyRequests, "Попробуйте снова через 31 секунду.", "31"},
		{"throttled minutes", "admin", "admin-secret", 5 * time.Minute, "", http.StatusTooManyRequests, "Попробуйте снова через 5 минут.", "300"},
		{"throttled en", "admin", "admin-secret", 2 * time.Second, "en", http.StatusTooManyRequests, "Try again in 2 seconds.", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			auth, h := newTestConsole(t, false)
			if tt.throttle > 0 {
				auth.Throttle(tt.user, tt.throttle)
			}
			target := "/login"
			if tt.lang != "" {
				target += "?lang=" + tt.lang
			}
			w := do(h, "POST", target, "", url.Values{"name": {tt.user}, "password": {tt.password}}, nil)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			body := w.Body.String()
			if !strings.Contains(body, tt.wantText) {
				t.Errorf("page lacks %q:\n%s", tt.wantText, body)
			}
			if !strings.Contains(body, `name="password"`) || !strings.Contains(body, `value="`+tt.user+`"`) {
				t.Errorf("the form is not shown again with the name kept")
			}
			if got := w.Header().Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetryAfter)
			}
			if auth.Sessions() != 0 {
				t.Errorf("a refused login opened a session")
			}
		})
	}
}

// TestUserInputIsEscaped: what a user typed comes back as text.
func TestUserInputIsEscaped(t *testing.T) {
	t.Parallel()
	_, h := newTestConsole(t, false)
	w := do(h, "POST", "/login", "", url.Values{"name": {`"><script>alert(1)</script>`}, "password": {"x"}}, nil)
	body := w.Body.String()
	if strings.Contains(body, "<script>alert") {
		t.Fatalf("the name is not escaped:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("escaped name missing:\n%s", body)
	}
}

func TestNextIsLocalOnly(t *testing.T) {
	t.Parallel()
	tests := []struct{ next, want string }{
		{"/campaigns", "/campaigns"}, {"/clients?q=1", "/clients?q=1"}, {"", "/"},
		{"//evil.example/x", "/"}, {`/\evil.example`, "/"}, {"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"}, {"users", "/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.next); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "//x", `/\x`, "http://x", "/a?b=//c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, `/\`) {
			t.Fatalf("localPath(%q) = %q leaves the site", next, got)
		}
	})
}

// TestRolesEnforcedOnServer: a section above the user's role answers 403
// (not just a hidden link); one the role may open answers the not-yet 404.
func TestRolesEnforcedOnServer(t *testing.T) {
	t.Parallel()
	auth, h := newTestConsole(t, false)
	tokens := map[account.Role]string{}
	for _, r := range account.Roles {
		tokens[r] = auth.Login(string(r))
	}
	tests := []struct {
		role   account.Role
		path   string
		status int
	}{
		{account.RoleOperator, "/", http.StatusOK},
		{account.RoleOperator, "/scenarios", http.StatusNotFound},
		{account.RoleOperator, "/clients", http.StatusForbidden},
		{account.RoleOperator, "/segments", http.StatusForbidden},
		{account.RoleOperator, "/campaigns", http.StatusForbidden},
		{account.RoleOperator, "/users", http.StatusForbidden},
		{account.RoleOperator, "/audit", http.StatusForbidden},
		{account.RoleManager, "/campaigns", http.StatusNotFound},
		{account.RoleManager, "/clients", http.StatusNotFound},
		{account.RoleManager, "/users", http.StatusForbidden},
		{account.RoleManager, "/audit", http.StatusForbidden},
		{account.RoleAdmin, "/users", http.StatusNotFound},
		{account.RoleAdmin, "/audit", http.StatusNotFound},
		{account.RoleAdmin, "/campaigns", http.StatusNotFound},
		{account.RoleAdmin, "/no-such-page", http.StatusNotFound},
	}
	for _, tt := range tests {
		w := do(h, "GET", tt.path, tokens[tt.role], nil, nil)
		if w.Code != tt.status {
			t.Errorf("%s GET %s: status %d, want %d", tt.role, tt.path, w.Code, tt.status)
		}
		if tt.status == http.StatusForbidden && !strings.Contains(w.Body.String(), "Недостаточно прав") {
			t.Errorf("%s GET %s: 403 page lacks its message", tt.role, tt.path)
		}
	}
}

func TestMenuByRole(t *testing.T) {
	t.Parallel()
	auth, h := newTestConsole(t, false)
	tests := []struct {
		role      account.Role
		lang      string
		want, not []string
	}{
		{account.RoleAdmin, "", []string{"Обзор", "Клиенты", "Сегменты", "Рассылки", "Сценарии", "Пользователи", "Журнал"}, nil},
		{account.RoleManager, "", []string{"Обзор", "Клиенты", "Сегменты", "Рассылки", "Сценарии"}, []string{"Пользователи", "Журнал"}},
		{account.RoleOperator, "", []string{"Обзор", "Сценарии"}, []string{"Рассылки", "Пользователи"}},
		{account.RoleAdmin, "en", []string{"Overview", "Clients", "Segments", "Campaigns", "Scenarios", "Users", "Audit log"}, []string{"Обзор"}},
	}
	for _, tt := range tests {
		target := "/"
		if tt.lang != "" {
			target += "?lang=" + tt.lang
		}
		w := do(h, "GET", target, auth.Login(string(tt.role)), nil, nil)
		nav := w.Body.String()
		if !strings.Contains(nav, `action="/logout"`) {
			t.Errorf("%s: no sign-out form", tt.role)
		}
		if i := strings.Index(nav, `class="menu"`); i >= 0 {
			nav = nav[i:]
		}
		for _, s := range tt.want {
			if !strings.Contains(nav, s) {
				t.Errorf("%s %s: menu lacks %q", tt.role, tt.lang, s)
			}
		}
		for _, s := range tt.not {
			if strings.Contains(nav, ">"+s+"<") {
				t.Errorf("%s %s: menu shows %q", tt.role, tt.lang, s)
			}
		}
	}
}

func TestLanguageCookie(t *testing.T) {
	t.Parallel()
	_, h := newTestConsole(t, false)
	w := do(h, "GET", "/login?lang=en", "", nil, nil)
	if !strings.Contains(w.Body.String(), `<html lang="en">`) || !strings.Contains(w.Body.String(), "User name") {
		t.Fatalf("?lang=en did not switch:\n%s", w.Body.String())
	}
	if !strings.Contains(w.Header().Get("Set-Cookie"), "lang=en") {
		t.Errorf("?lang=en not remembered: %q", w.Header().Get("Set-Cookie"))
	}
	r := httptest.NewRequest("GET", "/login", nil)
	r.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), "User name") {
		t.Errorf("the lang cookie is not honoured")
	}
	w = do(h, "GET", "/login", "", nil, nil)
	if !strings.Contains(w.Body.String(), `<html lang="ru">`) || !strings.Contains(w.Body.String(), "Имя пользователя") {
		t.Errorf("Russian is not the default")
	}
}

// TestCrossOriginRefused: state-changing requests from another site are
// refused by http.CrossOriginProtection before any handler runs.
func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"logout cross-site", "/logout", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"login cross-site", "/login", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"logout same-site other origin", "/logout", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"login old browser other Origin", "/login", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"logout same-origin", "/logout", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"logout no headers (not a browser)", "/logout", nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			auth, h := newTestConsole(t, false)
			token := auth.Login("admin")
			form := url.Values{"name": {"admin"}, "password": {"admin-secret"}}
			w := do(h, "POST", tt.path, token, form, tt.header)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.status == http.StatusForbidden {
				if auth.Sessions() != 1 {
					t.Errorf("a refused request changed the sessions (%d)", auth.Sessions())
				}
				if !strings.Contains(w.Body.String(), "отклонён") {
					t.Errorf("403 page lacks its message")
				}
			}
		})
	}
}

func TestLogoutEndsSession(t *testing.T) {
	t.Parallel()
	auth, h := newTestConsole(t, false)
	token := auth.Login("manager")
	if w := do(h, "GET", "/", token, nil, nil); w.Code != http.StatusOK {
		t.Fatalf("signed-in overview: %d", w.Code)
	}
	w := do(h, "POST", "/logout", token, url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?bye=1" {
		t.Fatalf("logout: %d %q", w.Code, w.Header().Get("Location"))
	}
	if !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("cookie not cleared: %q", w.Header().Get("Set-Cookie"))
	}
	if auth.Sessions() != 0 {
		t.Errorf("session not ended")
	}
	if w := do(h, "GET", "/", token, nil, nil); w.Code != http.StatusSeeOther {
		t.Errorf("the old cookie still opens the console: %d", w.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	_, h := newTestConsole(t, false)
	w := do(h, "GET", "/login", "", nil, nil)
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("CSP %q", w.Header().Get("Content-Security-Policy"))
	}
}

var assetRE = regexp.MustCompile(`(?:href|src)="(/assets/[0-9a-f]{12}/[^"]+)"`)

// TestAssets: the pages link versioned assets, served for a year; a stale
// version is 404; JS + CSS gzipped stay within the 100 KB budget.
func TestAssets(t *testing.T) {
	t.Parallel()
	_, h := newTestConsole(t, false)
	page := do(h, "GET", "/login", "", nil, nil).Body.String()
	links := assetRE.FindAllStringSubmatch(page, -1)
	if len(links) != 3 {
		t.Fatalf("want the stylesheet, htmx and the reply counter linked, got %v", links)
	}
	total := 0
	for _, l := range links {
		w := do(h, "GET", l[1], "", nil, map[string]string{"Accept-Encoding": "gzip"})
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", l[1], w.Code)
		}
		if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s Cache-Control %q", l[1], got)
		}
		if w.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("%s not gzipped", l[1])
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatalf("%s: bad gzip: %v", l[1], err)
		}
		total += int(w.Result().ContentLength)
		stale := strings.Replace(l[1], "/assets/", "/assets/000000", 1)[:len("/assets/")+12] + l[1][len("/assets/")+12:]
		if w := do(h, "GET", stale, "", nil, nil); w.Code != http.StatusNotFound {
			t.Errorf("stale version %s: %d", stale, w.Code)
		}
	}
	t.Logf("JS + CSS gzipped: %d bytes", total)
	if total > 100*1024 {
		t.Errorf("JS + CSS gzipped %d bytes > 100 KB", total)
	}
}

var templateKeyRE = regexp.MustCompile(`\bT (?:\$|\.)?\.?Lang "([a-z_.]+)"`)
var goKeyRE = regexp.MustCompile(`(?:i18n\.T\([^,]+, |render\([^"]+"[a-z]+", )"([a-z_.]+)"`)

// TestUsedKeysExist: every message key the templates and handlers name is
// in both catalogs.
func TestUsedKeysExist(t *testing.T) {
	t.Parallel()
	keys := map[string]bool{}
	for _, s := range sections {
		keys[s.key] = true
	}
	for _, r := range account.Roles {
		keys[roleKey(r)] = true
	}
	for _, l := range i18n.Langs {
		keys["lang."+string(l)] = true
	}
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		b, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	gofiles := []string{"login.go", "pages.go", "audit.go"}
	for _, f := range gofiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKeyRE.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	if len(keys) < 30 {
		t.Fatalf("found only %d keys: the patterns miss the sources", len(keys))
	}
	for k := range keys {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, k) {
				t.Errorf("key %q is used but missing from %s", k, l)
			}
		}
	}
}

// TestTemplateFuncs: T and plural translate inside templates.
func TestTemplateFuncs(t *testing.T) {
	t.Parallel()
	tmpl := template.Must(template.New("x").Funcs(templateFuncs(assetSet{})).Parse(
		`{{T .Lang "menu.clients"}}: {{plural .Lang "count.clients" .N}}`))
	tests := []struct {
		lang i18n.Lang
		n    int64
		want string
	}{
		{i18n.Ru, 1, "Клиенты: 1 клиент"}, {i18n.Ru, 2, "Клиенты: 2 клиента"}, {i18n.Ru, 5, "Клиенты: 5 клиентов"},
		{i18n.Ru, 11, "Клиенты: 11 клиентов"}, {i18n.Ru, 21, "Клиенты: 21 клиент"},
		{i18n.En, 1, "Clients: 1 client"}, {i18n.En, 5, "Clients: 5 clients"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := tmpl.Execute(&b, struct {
			Lang i18n.Lang
			N    int64
		}{tt.lang, tt.n}); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.lang, tt.n, b.String(), tt.want)
		}
	}
}

// TestHTMXSessionEnd: an htmx request whose session ended is sent to the
// login page with next= the page the browser shows (HX-Current-URL), not
// the fragment it asked for, and never to another site.
func TestHTMXSessionEnd(t *testing.T) {
	t.Parallel()
	_, h := newTestConsole(t, false)
	for _, tt := range []struct{ current, want string }{
		{"http://console.test/campaigns/7?failed_after=3", "/login?next=%2Fcampaigns%2F7%3Ffailed_after%3D3"},
		{"https://proxy.example/campaigns/7", "/login?next=%2Fcampaigns%2F7"},
		{"http://console.test/", "/login"},
		{"", "/login"},
		{"http://console.test//evil.example/x", "/login"},
	} {
		w := do(h, "GET", "/campaigns/7/progress?shown=running&poll=1", "tok-ended", nil,
			map[string]string{"HX-Request": "true", "HX-Current-URL": tt.current})
		if w.Code != http.StatusUnauthorized || w.Header().Get("Location") != "" {
			t.Errorf("%q: %d Location %q, want 401 and no redirect to swap", tt.current, w.Code, w.Header().Get("Location"))
		}
		if got := w.Header().Get("HX-Redirect"); got != tt.want {
			t.Errorf("%q: HX-Redirect %q, want %q", tt.current, got, tt.want)
		}
	}
}

// TestPollsDoNotExtendSession: a background poll (htmx, poll=1) looks the
// session up without counting as activity; a page or a boosted link does.
func TestPollsDoNotExtendSession(t *testing.T) {
	t.Parallel()
	auth, h := newTestConsole(t, false)
	token := auth.Login("manager")
	hx := map[string]string{"HX-Request": "true"}
	for range 3 {
		do(h, "GET", "/?poll=1", token, nil, hx)
	}
	if n := auth.Touched(token); n != 0 {
		t.Errorf("%d polls counted as activity, want 0", n)
	}
	do(h, "GET", "/", token, nil, hx)
	do(h, "GET", "/?poll=1", token, nil, nil) // not htmx: someone opened it
	if n := auth.Touched(token); n != 2 {
		t.Errorf("%d requests counted as activity, want 2", n)
	}
}
