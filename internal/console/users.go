package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// UserAccounts is what Пользователи needs of internal/account's Service
// (the same service `chathub user` uses): it validates names, roles and
// passwords, refuses to remove or demote the last admin (ErrLastAdmin) and
// writes the audit entries under the actor of the context.
type UserAccounts interface {
	Users(ctx context.Context) ([]account.User, error)
	AddUser(ctx context.Context, name string, role account.Role, password string) (account.User, error)
	SetRole(ctx context.Context, name string, role account.Role) error
	SetPassword(ctx context.Context, name, password string) error
	RemoveUser(ctx context.Context, name string) error
}

// UserPages is what Пользователи needs of the services. The zero value leaves
// the section "not ready yet".
type UserPages struct {
	// Accounts lists and changes the console's accounts. Required for the
	// section.
	Accounts UserAccounts
	// GeneratePassword makes a password shown once (account.Service's
	// GeneratePassword). Required with Accounts.
	GeneratePassword func() string
	// SignIns reads each user's last sign-in from the audit log (the
	// "login" entries); nil leaves the column out.
	SignIns AuditLog
}

// userRoutes registers Пользователи's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) userRoutes(mux *http.ServeMux) {
	if c.cfg.Users.Accounts == nil || c.cfg.Users.GeneratePassword == nil {
		return
	}
	c.sectionPages["/users"] = c.userList
	c.handle(mux, "POST /users", account.RoleAdmin, c.userAdd)
	c.handle(mux, "POST /users/{name}/role", account.RoleAdmin, c.userSetRole)
	c.handle(mux, "POST /users/{name}/password", account.RoleAdmin, c.userResetPassword)
	c.handle(mux, "GET /users/{name}/remove", account.RoleAdmin, c.userRemoveConfirm)
	c.handle(mux, "POST /users/{name}/remove", account.RoleAdmin, c.userRemove)
	if c.cfg.Profile.Links != nil {
		c.handle(mux, "POST /users/{name}/unlink/{platform}", account.RoleAdmin, c.userUnlink)
	}
}

// usersView is the data of the Пользователи page.
type usersView struct {
	Rows []userRow
	// Count is len(Rows), for the caption's plural.
	Count int64
	// SignIns is true when the last sign-in column is shown.
	SignIns bool
	// Linking is true when the messenger accounts column is shown.
	Linking bool
	// Roles are the role choices, least first.
	Roles []account.Role
	// Done says what the last change did (a sentence), Error why it failed.
	Done, Error string
	// Password is a password to show once, for PasswordFor.
	Password, PasswordFor string
	// Form is the add form as typed (kept after an error; never the
	// password).
	Form userForm
}

// userForm is the add form's values.
type userForm struct {
	Name string
	Role account.Role
}

// userRow is one account as the table shows it.
type userRow struct {
	Name string
	Role account.Role
	// Self marks the signed-in user's own row.
	Self                     bool
	Created, CreatedDatetime string
	// SignIn is the last sign-in ("" when none is known).
	SignIn, SignInDatetime string
	// Links are the user's messenger accounts.
	Links []userLink
}

// userLink is a user's messenger account as the table shows it.
type userLink struct {
	Platform, PlatformName, Account string
}

// userRemoveView is the data of the removal confirmation.
type userRemoveView struct {
	Name string
	Role account.Role
	Self bool
}

// userList is Пользователи: every account by name; ?done= and ?name= say
// what a change just did (after its redirect).
func (c *Console) userList(w http.ResponseWriter, r *http.Request) {
	v := usersView{Form: userForm{Role: account.RoleOperator}}
	q := r.URL.Query()
	// Only an account name is echoed in the notice (a crafted link shows
	// nothing).
	if name := q.Get("name"); account.ValidateName(name) == nil {
		v.Done = doneText(langOf(r.Context()), q.Get("done"), name)
	}
	c.renderUsers(w, r, http.StatusOK, v)
}

// doneText is the sentence saying a change was made, "" for an unknown one.
func doneText(lang i18n.Lang, done, name string) string {
	switch done {
	case "role", "remove", "unlink":
		return i18n.T(lang, "users.done."+done, name)
	}
	return ""
}

// renderUsers renders the page with v's message and the current accounts.
func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, status int, v usersView) {
	lang := langOf(r.Context())
	users, err := c.cfg.Users.Accounts.Users(r.Context())
	if err != nil {
		c.cfg.Logger.Error("console: list users", "err", err)
		c.serverError(w, r)
		return
	}
	v.Roles = account.Roles
	v.SignIns = c.cfg.Users.SignIns != nil
	links, err := c.userLinks(r.Context(), lang)
	if err != nil {
		c.cfg.Logger.Error("console: list account links", "err", err)
		c.serverError(w, r)
		return
	}
	v.Linking = links != nil
	me := userFrom(r.Context()).Name
	layout, dateLayout := i18n.T(lang, "users.time_layout"), i18n.T(lang, "users.date_layout")
	for _, u := range users {
		row := userRow{Name: u.Name, Role: u.Role, Self: u.Name == me, Links: links[u.Name]}
		if !u.CreatedAt.IsZero() {
			row.Created, row.CreatedDatetime = u.CreatedAt.UTC().Format(dateLayout), u.CreatedAt.UTC().Format(time.RFC3339)
		}
		if at, ok := c.lastSignIn(r.Context(), u.Name); ok {
			row.SignIn, row.SignInDatetime = at.UTC().Format(layout), at.UTC().Format(time.RFC3339)
		}
		v.Rows = append(v.Rows, row)
	}
	v.Count = int64(len(v.Rows))
	if r.Method == http.MethodPost {
		// The answer to a form is the list, at /users: a reload or the
		// language switch opens the list, not the form's target.
		r = renderRequestAt(w, r, "/users")
	}
	c.render(w, r, status, "users", "users.title", v)
}

// userLinks are every user's messenger accounts by user name; nil when
// no link service is configured.
func (c *Console) userLinks(ctx context.Context, lang i18n.Lang) (map[string][]userLink, error) {
	if c.cfg.Profile.Links == nil {
		return nil, nil
	}
	ls, err := c.cfg.Profile.Links.Links(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]userLink{}
	for _, l := range ls {
		out[l.User] = append(out[l.User], userLink{Platform: l.Platform,
			PlatformName: i18n.T(lang, "profile.platform."+l.Platform), Account: linkAccountText(lang, l)})
	}
	return out, nil
}

// userUnlink removes a user's link on a platform.
func (c *Console) userUnlink(w http.ResponseWriter, r *http.Request) {
	name, p := account.NormalizeName(r.PathValue("name")), r.PathValue("platform")
	lang := langOf(r.Context())
	err := c.cfg.Profile.Links.Unlink(actorContext(r), name, p)
	if errors.Is(err, account.ErrNoLink) {
		c.renderUsers(w, r, http.StatusNotFound, usersView{Form: userForm{Role: account.RoleOperator},
			Error: i18n.T(lang, "users.error.no_link", name)})
		return
	}
	if err != nil {
		c.userError(w, r, err, name, usersView{Form: userForm{Role: account.RoleOperator}})
		return
	}
	http.Redirect(w, r, usersDoneURL("unlink", name), http.StatusSeeOther)
}

// lastSignIn is name's newest "login" audit entry; ok false when none is
// known (or the log cannot say: the page still shows).
func (c *Console) lastSignIn(ctx context.Context, name string) (time.Time, bool) {
	if c.cfg.Users.SignIns == nil {
		return time.Time{}, false
	}
	es, err := c.cfg.Users.SignIns.Audit(ctx, account.AuditFilter{Actor: name, Action: "login", Limit: 1})
	if err != nil {
		c.cfg.Logger.Warn("console: read a user's last sign-in", "err", err)
		return time.Time{}, false
	}
	if len(es) == 0 {
		return time.Time{}, false
	}
	return es[0].At, true
}

// userAdd adds an account: name, role and a typed password, or a
// generated one shown once.
func (c *Console) userAdd(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	name := account.NormalizeName(r.PostFormValue("name"))
	role := account.Role(r.PostFormValue("role"))
	v := usersView{Form: userForm{Name: name, Role: role}}
	if err := account.ValidateName(name); err != nil {
		v.Error = i18n.T(lang, "users.error.name", account.MaxNameLen)
		c.renderUsers(w, r, http.StatusBadRequest, v)
		return
	}
	if _, err := account.ParseRole(string(role)); err != nil {
		v.Error = i18n.T(lang, "users.error.role")
		c.renderUsers(w, r, http.StatusBadRequest, v)
		return
	}
	password, generated := r.PostFormValue("password"), false
	if password == "" {
		password, generated = c.cfg.Users.GeneratePassword(), true
	} else if account.ValidatePassword(password) != nil {
		v.Error = i18n.T(lang, "users.error.password", account.MinPasswordLen)
		c.renderUsers(w, r, http.StatusBadRequest, v)
		return
	}
	if _, err := c.cfg.Users.Accounts.AddUser(actorContext(r), name, role, password); err != nil {
		c.userError(w, r, err, name, v)
		return
	}
	v = usersView{Form: userForm{Role: account.RoleOperator}, Done: i18n.T(lang, "users.done.add", name, i18n.T(lang, roleKey(role)))}
	if generated {
		v.Password, v.PasswordFor = password, name
	}
	c.renderUsers(w, r, http.StatusOK, v)
}

// userSetRole changes a role; the last admin stays one.
func (c *Console) userSetRole(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	role, err := account.ParseRole(r.PostFormValue("role"))
	if err != nil {
		c.renderUsers(w, r, http.StatusBadRequest, usersView{Form: userForm{Role: account.RoleOperator},
			Error: i18n.T(langOf(r.Context()), "users.error.role")})
		return
	}
	if err := c.cfg.Users.Accounts.SetRole(actorContext(r), name, role); err != nil {
		c.userError(w, r, err, name, usersView{Form: userForm{Role: account.RoleOperator}})
		return
	}
	http.Redirect(w, r, usersDoneURL("role", name), http.StatusSeeOther)
}

// userResetPassword sets a generated password, shown once; the user's
// sessions end.
func (c *Console) userResetPassword(w http.ResponseWriter, r *http.Request) {
	name := account.NormalizeName(r.PathValue("name"))
	password := c.cfg.Users.GeneratePassword()
	if err := c.cfg.Users.Accounts.SetPassword(actorContext(r), name, password); err != nil {
		c.userError(w, r, err, name, usersView{Form: userForm{Role: account.RoleOperator}})
		return
	}
	c.renderUsers(w, r, http.StatusOK, usersView{Form: userForm{Role: account.RoleOperator},
		Done: i18n.T(langOf(r.Context()), "users.done.passwd", name), Password: password, PasswordFor: name})
}

// userRemoveConfirm asks before removing an account.
func (c *Console) userRemoveConfirm(w http.ResponseWriter, r *http.Request) {
	name := account.NormalizeName(r.PathValue("name"))
	users, err := c.cfg.Users.Accounts.Users(r.Context())
	if err != nil {
		c.cfg.Logger.Error("console: list users", "err", err)
		c.serverError(w, r)
		return
	}
	for _, u := range users {
		if u.Name == name {
			c.render(w, r, http.StatusOK, "users_remove", "users.remove.title",
				userRemoveView{Name: u.Name, Role: u.Role, Self: u.Name == userFrom(r.Context()).Name})
			return
		}
	}
	c.userError(w, r, account.ErrNoUser, name, usersView{Form: userForm{Role: account.RoleOperator}})
}

// userRemove removes an account and its sessions; the last admin stays.
func (c *Console) userRemove(w http.ResponseWriter, r *http.Request) {
	name := account.NormalizeName(r.PathValue("name"))
	if err := c.cfg.Users.Accounts.RemoveUser(actorContext(r), name); err != nil {
		c.userError(w, r, err, name, usersView{Form: userForm{Role: account.RoleOperator}})
		return
	}
	http.Redirect(w, r, usersDoneURL("remove", name), http.StatusSeeOther)
}

// usersDoneURL is the list saying what was done to name.
func usersDoneURL(done, name string) string {
	return "/users?" + url.Values{"done": {done}, "name": {name}}.Encode()
}

// userError shows the list with err in plain words: 409 for an existing
// name or the last admin, 404 for no such user, 500 (logged) for
// anything else.
func (c *Console) userError(w http.ResponseWriter, r *http.Request, err error, name string, v usersView) {
	lang := langOf(r.Context())
	var status int
	switch {
	case errors.Is(err, account.ErrLastAdmin):
		status, v.Error = http.StatusConflict, i18n.T(lang, "users.error.last_admin", name)
	case errors.Is(err, account.ErrUserExists):
		status, v.Error = http.StatusConflict, i18n.T(lang, "users.error.exists", name)
	case errors.Is(err, account.ErrNoUser):
		status, v.Error = http.StatusNotFound, i18n.T(lang, "users.error.no_user", name)
	default:
		c.cfg.Logger.Error("console: change a user", "err", err)
		c.serverError(w, r)
		return
	}
	c.renderUsers(w, r, status, v)
}
