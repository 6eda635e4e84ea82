package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/chathub/chathub/internal/account"
)

// Session cookie names: with the __Host- prefix (Secure, no Domain, Path=/
// enforced by browsers) behind HTTPS, plain on local HTTP.
const (
	secureCookieName = "__Host-chathub_session"
	plainCookieName  = "chathub_session"
)

func (c *Console) cookieName() string {
	if c.cfg.Secure {
		return secureCookieName
	}
	return plainCookieName
}

// setSession sets the session cookie: HttpOnly, SameSite=Lax, Path=/, and
// Secure behind HTTPS. It lives as long as the browser; the session itself
// expires on the server when idle.
func (c *Console) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: c.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

func (c *Console) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

func (c *Console) sessionToken(r *http.Request) string {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return ""
	}
	return ck.Value
}

type userKey struct{}

// userFrom is the signed-in user signedIn put in the request's context.
func userFrom(ctx context.Context) account.User {
	u, _ := ctx.Value(userKey{}).(account.User)
	return u
}

// currentUser looks the request's session up: ok false when there is none
// (no cookie or account.ErrNoSession); err for a failing store.
func (c *Console) currentUser(r *http.Request) (u account.User, ok bool, err error) {
	token := c.sessionToken(r)
	if token == "" {
		return account.User{}, false, nil
	}
	if p, ok := c.cfg.Auth.(sessionPeeker); ok && sessionIsPoll(r) {
		u, err = p.PeekSession(r.Context(), token) // a poll is no activity
	} else {
		u, err = c.cfg.Auth.Session(r.Context(), token)
	}
	if errors.Is(err, account.ErrNoSession) {
		return account.User{}, false, nil
	}
	if err != nil {
		return account.User{}, false, err
	}
	return u, true, nil
}

// signedIn lets a request with a live session through, the user in its
// context; any other goes to the login page (303, or HX-Redirect for an
// htmx request), which returns it to where it was going.
func (c *Console) signedIn(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := c.currentUser(r)
		if err != nil {
			c.cfg.Logger.Error("console: session lookup", "err", err)
			c.serverError(w, r)
			return
		}
		if !ok {
			if c.sessionToken(r) != "" {
				c.clearSession(w)
			}
			c.toLogin(w, r)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// sessionPeeker is an Auth that can look a session up without counting
// the request as activity (*account.Service's PeekSession): background
// polls use it, so an open tab that only polls does not keep a session
// alive past its idle expiry.
type sessionPeeker interface {
	PeekSession(ctx context.Context, token string) (account.User, error)
}

// toLogin sends the browser to the login page with next= the page asked
// for. An htmx request gets HX-Redirect (htmx follows it with a full
// load) with next= the page the browser shows (HX-Current-URL), not the
// fragment or form target the request was for.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", loginTarget(sessionCurrentPage(r)))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	next := ""
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	http.Redirect(w, r, loginTarget(next), http.StatusSeeOther)
}

// loginTarget is the login page's address returning to next ("" or "/":
// none).
func loginTarget(next string) string {
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// sessionCurrentPage is the local path and query of the page an htmx
// request came from (its HX-Current-URL, a full URL; only its path and
// query are used), "" when it names none.
func sessionCurrentPage(r *http.Request) string {
	u, err := url.Parse(r.Header.Get("HX-Current-URL"))
	if err != nil || u.Path == "" {
		return ""
	}
	u.Scheme, u.Host, u.User, u.Fragment = "", "", nil, ""
	p := localPath(u.RequestURI())
	if p == "/" {
		return ""
	}
	return p
}

// require answers 403 to a user whose role is below s's.
func (c *Console) require(s section, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u := userFrom(r.Context()); !u.Role.AtLeast(s.min) {
			c.forbidden(w, r, s)
			return
		}
		next(w, r)
	}
}

// requireRole is require for an area's route that is not a menu section:
// a role below min gets 403.
func (c *Console) requireRole(min account.Role, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u := userFrom(r.Context()); !u.Role.AtLeast(min) {
			c.forbidden(w, r, section{path: r.URL.Path, key: sectionKey(r.URL.Path), min: min})
			return
		}
		next(w, r)
	}
}

// actorContext is the request's context naming the signed-in user as the
// actor, so that what the services write to the audit log is under the
// user's name (account.WithActor).
func actorContext(r *http.Request) context.Context {
	return account.WithActor(r.Context(), userFrom(r.Context()).Name)
}

// localPath returns next when it is a path on this site ("/x", not
// "//host" or "/\host", which browsers treat as another site), else "/".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// sessionPollParam is the query flag (poll=1) of a background poll: an
// element refreshing itself with hx-trigger="every …" adds it to its
// hx-get. Such a request is no sign that someone uses the console, so it
// does not keep the session alive (see signedIn).
const sessionPollParam = "poll"

// sessionIsPoll tells whether r is a background poll: an htmx request
// carrying poll=1.
func sessionIsPoll(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.URL.Query().Get(sessionPollParam) == "1"
}
