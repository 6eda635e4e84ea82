package console

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/consoletest"
)

// fakeAccounts is a hand-written UserAccounts that keeps the service's
// rules (names normalised, the last admin stays one) and records each
// change with the actor of its context, as the service's audit log does.
type fakeAccounts struct {
	mu    sync.Mutex
	users map[string]account.User
	pass  map[string]string
	log   []string // "actor action name"
}

func newFakeAccounts(users ...account.User) *fakeAccounts {
	f := &fakeAccounts{users: map[string]account.User{}, pass: map[string]string{}}
	for _, u := range users {
		f.users[u.Name] = u
	}
	return f
}

func (f *fakeAccounts) audit(ctx context.Context, action, name string) {
	f.log = append(f.log, account.ActorFrom(ctx)+" "+action+" "+name)
}

func (f *fakeAccounts) admins() int {
	n := 0
	for _, u := range f.users {
		if u.Role == account.RoleAdmin {
			n++
		}
	}
	return n
}

func (f *fakeAccounts) Users(context.Context) ([]account.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]account.User, 0, len(f.users))
	for _, u := range f.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeAccounts) AddUser(ctx context.Context, name string, role account.Role, password string) (account.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = account.NormalizeName(name)
	if err := account.ValidatePassword(password); err != nil {
		return account.User{}, err
	}
	if _, ok := f.users[name]; ok {
		return account.User{}, account.ErrUserExists
	}
	u := account.User{ID: int64(len(f.users) + 1), Name: name, Role: role, CreatedAt: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)}
	f.users[name], f.pass[name] = u, password
	f.audit(ctx, "user.add", name)
	return u, nil
}

func (f *fakeAccounts) SetRole(ctx context.Context, name string, role account.Role) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[account.NormalizeName(name)]
	switch {
	case !ok:
		return account.ErrNoUser
	case u.Role == account.RoleAdmin && role != account.RoleAdmin && f.admins() == 1:
		return account.ErrLastAdmin
	}
	u.Role = role
	f.users[u.Name] = u
	f.audit(ctx, "user.role", u.Name)
	return nil
}

func (f *fakeAccounts) SetPassword(ctx context.Context, name, password string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[name]; !ok {
		return account.ErrNoUser
	}
	f.pass[name] = password
	f.audit(ctx, "user.passwd", name)
	return nil
}

func (f *fakeAccounts) RemoveUser(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[name]
	switch {
	case !ok:
		return account.ErrNoUser
	case u.Role == account.RoleAdmin && f.admins() == 1:
		return account.ErrLastAdmin
	}
	delete(f.users, name)
	f.audit(ctx, "user.remove", name)
	return nil
}

func (f *fakeAccounts) entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// generated is the fake password generator: each call a new password.
type generated struct {
	mu sync.Mutex
	n  int
}

func (g *generated) next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return "Gen3rated-pass-" + strings.Repeat("x", g.n)
}

// newUsersConsole is a console whose Пользователи is over accounts holding
// admin (the only admin) and anna (an operator), with the sign-in log of
// audit (nil: none).
func newUsersConsole(t *testing.T, audit AuditLog) (*consoletest.Auth, *fakeAccounts, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	accounts := newFakeAccounts(
		account.User{ID: 1, Name: "admin", Role: account.RoleAdmin, CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		account.User{ID: 2, Name: "anna", Role: account.RoleOperator, CreatedAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)},
	)
	gen := &generated{}
	c, err := New(Config{Auth: auth, Users: UserPages{Accounts: accounts, GeneratePassword: gen.next, SignIns: audit}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, accounts, c.Handler()
}

func TestUsersPageLists(t *testing.T) {
	t.Parallel()
	log := &fakeAudit{entries: []account.AuditEntry{
		{ID: 2, At: time.Date(2026, 12, 5, 18, 30, 0, 0, time.UTC), Actor: "admin", Action: "login"},
	}}
	auth, _, h := newUsersConsole(t, log)
	w := do(h, "GET", "/users", auth.Login("admin"), nil, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET /users: %d\n%s", w.Code, body)
	}
	for _, want := range []string{
		"<h1>Пользователи</h1>", "2 пользователя", ">Имя пользователя<", ">Последний вход<",
		`<th scope="row">admin <span class="muted">(это вы)</span></th>`, `<th scope="row">anna</th>`,
		`<time datetime="2026-12-05T18:30:00Z">05.12.2026 18:30 UTC</time>`, "не входил",
		`<option value="operator" selected>оператор</option>`, `action="/users/anna/role"`,
		`href="/users/anna/remove"`, `<label for="user-name">`, `<label for="user-password">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	en := do(h, "GET", "/users?lang=en", auth.Login("admin"), nil, nil).Body.String()
	for _, want := range []string{"<h1>Users</h1>", "2 users", "Last sign-in", "5 Dec 2026 18:30 UTC", "never", "Add a user"} {
		if !strings.Contains(en, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
}

func TestUsersPageRoles(t *testing.T) {
	t.Parallel()
	auth, accounts, h := newUsersConsole(t, nil)
	routes := []struct{ method, target string }{
		{"GET", "/users"}, {"POST", "/users"}, {"POST", "/users/anna/role"}, {"POST", "/users/anna/password"},
		{"GET", "/users/anna/remove"}, {"POST", "/users/anna/remove"},
	}
	for _, role := range []string{"manager", "operator"} {
		token := auth.Login(role)
		for _, rt := range routes {
			form := url.Values{"name": {"eve"}, "role": {"admin"}}
			w := do(h, rt.method, rt.target, token, form, nil)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", role, rt.method, rt.target, w.Code)
			}
		}
	}
	if got := accounts.entries(); len(got) != 0 {
		t.Errorf("forbidden requests changed accounts: %v", got)
	}
}

func TestUsersPageAddShowsPasswordOnce(t *testing.T) {
	t.Parallel()
	auth, accounts, h := newUsersConsole(t, nil)
	token := auth.Login("admin")
	w := do(h, "POST", "/users", token, url.Values{"name": {" Boris "}, "role": {"manager"}}, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("add: %d\n%s", w.Code, body)
	}
	pw := accounts.pass["boris"]
	if pw == "" || !strings.Contains(body, `<code class="secret">`+pw+`</code>`) {
		t.Errorf("the generated password %q is not shown:\n%s", pw, body)
	}
	if !strings.Contains(body, "Пользователь boris добавлен с ролью «менеджер».") || !strings.Contains(body, `<th scope="row">boris</th>`) {
		t.Errorf("the page does not say boris was added")
	}
	if again := do(h, "GET", "/users", token, nil, nil).Body.String(); strings.Contains(again, pw) {
		t.Error("the password shows again on the next visit")
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}

	// A typed password is used and never shown.
	w = do(h, "POST", "/users", token, url.Values{"name": {"vera"}, "role": {"operator"}, "password": {"typed-secret-1"}}, nil)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "typed-secret-1") || accounts.pass["vera"] != "typed-secret-1" {
		t.Errorf("typed password: %d, stored %q, shown %v", w.Code, accounts.pass["vera"], strings.Contains(w.Body.String(), "typed-secret-1"))
	}

	// A reset shows a new generated password once.
	w = do(h, "POST", "/users/anna/password", token, nil, nil)
	if pw := accounts.pass["anna"]; w.Code != http.StatusOK || pw == "" || !strings.Contains(w.Body.String(), pw) {
		t.Errorf("reset: %d, password %q shown: %v", w.Code, pw, strings.Contains(w.Body.String(), pw))
	}
	want := []string{"admin user.add boris", "admin user.add vera", "admin user.passwd anna"}
	if got := accounts.entries(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audited %v, want %v", got, want)
	}
}

func TestUsersPageChangesAndRefusals(t *testing.T) {
	t.Parallel()
	auth, accounts, h := newUsersConsole(t, nil)
	token := auth.Login("admin")
	tests := []struct {
		name, method, target string
		form                 url.Values
		status               int
		want                 string
	}{
		{"demote the last admin", "POST", "/users/admin/role", url.Values{"role": {"manager"}}, http.StatusConflict,
			"admin — последний администратор: его нельзя удалить или сделать не администратором."},
		{"remove the last admin", "POST", "/users/admin/remove", nil, http.StatusConflict,
			"admin — последний администратор"},
		{"a taken name", "POST", "/users", url.Values{"name": {"Anna"}, "role": {"operator"}}, http.StatusConflict,
			"Пользователь anna уже есть."},
		{"a bad name", "POST", "/users", url.Values{"name": {"<script>"}, "role": {"operator"}}, http.StatusBadRequest,
			"Имя пользователя — от 1 до 64 символов"},
		{"a bad role", "POST", "/users", url.Values{"name": {"eve"}, "role": {"root"}}, http.StatusBadRequest,
			"Выберите роль"},
		{"a short password", "POST", "/users", url.Values{"name": {"eve"}, "role": {"operator"}, "password": {"short"}}, http.StatusBadRequest,
			"Пароль должен быть не короче 10 символов."},
		{"no such user", "POST", "/users/nobody/remove", nil, http.StatusNotFound, "Пользователя nobody нет."},
		{"confirm no such user", "GET", "/users/nobody/remove", nil, http.StatusNotFound, "Пользователя nobody нет."},
	}
	for _, tt := range tests {
		w := do(h, tt.method, tt.target, token, tt.form, nil)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s: %d, want %d with %q\n%s", tt.name, w.Code, tt.status, tt.want, w.Body.String())
		}
	}
	if got := accounts.entries(); len(got) != 0 {
		t.Errorf("refused changes were made: %v", got)
	}

	// The confirmation, then the removal and a role change, each
	// redirected to the list saying what was done.
	confirm := do(h, "GET", "/users/anna/remove", token, nil, nil).Body.String()
	if !strings.Contains(confirm, "Удалить пользователя anna (оператор)?") || !strings.Contains(confirm, `action="/users/anna/remove"`) {
		t.Errorf("confirmation:\n%s", confirm)
	}
	w := do(h, "POST", "/users/anna/role", token, url.Values{"role": {"admin"}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/users?done=role&name=anna" {
		t.Errorf("role change: %d → %q", w.Code, w.Header().Get("Location"))
	}
	w = do(h, "POST", "/users/admin/remove", token, nil, nil) // anna is an admin now
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/users?done=remove&name=admin" {
		t.Errorf("remove: %d → %q", w.Code, w.Header().Get("Location"))
	}
	list := do(h, "GET", "/users?done=remove&name=admin", auth.Login("manager"), nil, nil)
	if list.Code != http.StatusForbidden {
		t.Errorf("a manager sees the list: %d", list.Code)
	}
	done := do(h, "GET", "/users?done=remove&name=admin", token, nil, nil).Body.String()
	if !strings.Contains(done, "Пользователь admin удалён.") {
		t.Errorf("the list does not say admin was removed")
	}
	want := []string{"admin user.role anna", "admin user.remove admin"}
	if got := accounts.entries(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audited %v, want %v", got, want)
	}
}

func TestUsersPageEscapes(t *testing.T) {
	t.Parallel()
	auth, accounts, h := newUsersConsole(t, nil)
	accounts.users["<script>alert(1)</script>"] = account.User{ID: 9, Name: "<script>alert(1)</script>", Role: account.RoleManager}
	token := auth.Login("admin")
	body := do(h, "GET", "/users", token, nil, nil).Body.String()
	body += do(h, "GET", "/users?done=role&name=%3Cscript%3Ex()%3C/script%3E", token, nil, nil).Body.String()
	body += do(h, "POST", "/users", token, url.Values{"name": {"<script>y()</script>"}, "role": {"operator"}}, nil).Body.String()
	for _, bad := range []string{"<script>alert", "<script>x()", "<script>y()"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	// A name that is no account name is not echoed at all (TestUsersNoticeNames).
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `value="&lt;script&gt;y()&lt;/script&gt;"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks the escaped %q", want)
		}
	}
}

func TestUsersPageNotConfigured(t *testing.T) {
	t.Parallel()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(c.Handler(), "GET", "/users", auth.Login("admin"), nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("unconfigured /users: %d, want 404 (not ready yet)", w.Code)
	}
}

// TestUsersPageReplacesURL: the list answering a form tells htmx to show
// /users in the address bar, so a reload does not open the form's target.
func TestUsersPageReplacesURL(t *testing.T) {
	t.Parallel()
	auth, _, h := newUsersConsole(t, nil)
	w := do(h, "POST", "/users/admin/role", auth.Login("admin"), url.Values{"role": {"operator"}}, nil)
	if w.Code != http.StatusConflict || w.Header().Get("HX-Replace-Url") != "/users" {
		t.Errorf("%d, HX-Replace-Url %q", w.Code, w.Header().Get("HX-Replace-Url"))
	}
}

// TestUsersNoticeNames: the done notice echoes only an account name, not
// any text a crafted link carries.
func TestUsersNoticeNames(t *testing.T) {
	t.Parallel()
	auth, _, h := newUsersConsole(t, nil)
	token := auth.Login("admin")
	body := do(h, "GET", "/users?done=remove&name="+url.QueryEscape("anna"), token, nil, nil).Body.String()
	if !strings.Contains(body, "anna") || !strings.Contains(body, `class="notice`) {
		t.Errorf("a real name's notice is missing:\n%s", body)
	}
	body = do(h, "GET", "/users?done=remove&name="+url.QueryEscape("Позвоните по номеру 8-800"), token, nil, nil).Body.String()
	if strings.Contains(body, "Позвоните") {
		t.Error("the notice echoes arbitrary text from the URL")
	}
}
