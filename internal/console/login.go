package console

import (
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// loginView is the login form's data.
type loginView struct {
	Name, Next string
	// Error is the message above the form (already translated).
	Error string
	// Notice is an informational line (signed out, please sign in).
	Notice string
}

// loginForm shows the form; a browser that is already signed in goes on.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, ok, err := c.currentUser(r); err == nil && ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	lang := langOf(r.Context())
	v := loginView{Next: next}
	switch {
	case r.URL.Query().Get("bye") == "1":
		v.Notice = i18n.T(lang, "login.logged_out")
	case next != "/":
		v.Notice = i18n.T(lang, "login.expired")
	}
	c.render(w, r, http.StatusOK, "login", "login.title", v)
}

// login checks the form with Auth and opens a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	lang := langOf(r.Context())
	u, err := c.cfg.Auth.Authenticate(r.Context(), name, password, clientIP(r))
	var throttled *account.ThrottledError
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		c.render(w, r, http.StatusUnauthorized, "login", "login.title",
			loginView{Name: name, Next: next, Error: i18n.T(lang, "login.bad")})
		return
	case errors.As(err, &throttled):
		wait := throttled.RetryAfter
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
		c.render(w, r, http.StatusTooManyRequests, "login", "login.title",
			loginView{Name: name, Next: next, Error: i18n.T(lang, "login.throttled", waitText(lang, wait))})
		return
	case err != nil:
		c.cfg.Logger.Error("console: authenticate", "err", err)
		c.serverError(w, r)
		return
	}
	token, err := c.cfg.Auth.StartSession(r.Context(), u)
	if err != nil {
		c.cfg.Logger.Error("console: start session", "user_id", u.ID, "err", err)
		c.serverError(w, r)
		return
	}
	c.setSession(w, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session (if any) and clears the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if token := c.sessionToken(r); token != "" {
		if err := c.cfg.Auth.EndSession(r.Context(), token); err != nil && !errors.Is(err, account.ErrNoSession) {
			c.cfg.Logger.Error("console: end session", "err", err)
			c.serverError(w, r)
			return
		}
	}
	c.clearSession(w)
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", "/login?bye=1")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/login?bye=1", http.StatusSeeOther)
}

// clientIP is the address the request came from (the proxy's, behind a
// reverse proxy: forwarded headers are not trusted, since anyone can set
// them and the address limits login attempts).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retrySeconds is Retry-After's whole seconds, rounded up, at least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// waitText says how long to wait: seconds under two minutes, else minutes
// (rounded up).
func waitText(lang i18n.Lang, d time.Duration) string {
	s := retrySeconds(d)
	if s < 120 {
		return i18n.Plural(lang, "unit.seconds", int64(s))
	}
	return i18n.Plural(lang, "unit.minutes", int64((s+59)/60))
}
