// Package console is the managers' and operators' web console: server-
// rendered html/template pages with htmx, served at / by `chathub run` and
// `chathub console`. This file holds its configuration and routes; the
// accounts themselves (users, passwords, sessions, throttling) belong to
// internal/account, reached through Auth.
package console

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"

	"github.com/chathub/chathub/internal/account"
)

// Auth is what the console needs of internal/account's Service.
type Auth interface {
	// Authenticate checks a login: account.ErrBadCredentials for a wrong
	// name or password, *account.ThrottledError after repeated failures.
	Authenticate(ctx context.Context, name, password, clientIP string) (account.User, error)
	// StartSession opens a session for u and returns its cookie token.
	StartSession(ctx context.Context, u account.User) (token string, err error)
	// Session returns the user of a live session, account.ErrNoSession
	// when the token names none (unknown, ended or idle too long).
	Session(ctx context.Context, token string) (account.User, error)
	// EndSession ends the session (logout).
	EndSession(ctx context.Context, token string) error
}

// AuditLog is what the Журнал page needs of internal/account's Service:
// the audit log newest first, filtered and paged by AuditFilter's keyset
// cursor.
type AuditLog interface {
	Audit(ctx context.Context, f account.AuditFilter) ([]account.AuditEntry, error)
}

// Config configures the console.
type Config struct {
	// Auth checks logins and sessions. Required.
	Auth Auth
	// Logger receives the console's errors (never a password, a token or
	// a client's data). Default: discard.
	Logger *slog.Logger
	// Secure is true when the console is reached over HTTPS (directly or
	// behind a TLS-terminating proxy): the session cookie is then
	// "__Host-chathub_session" with the Secure attribute. Default false:
	// "chathub_session", for plain-HTTP local use.
	Secure bool
	// Audit reads the audit log for the Журнал page (admins only).
	// Default nil: the page answers "not ready yet".
	Audit AuditLog
	// Overview serves Обзор's numbers (overview.go). Default zero: the
	// page shows no numbers.
	Overview OverviewPages
	// Clients serves Клиенты and the client card (clients.go). Default
	// zero: the section answers "not ready yet".
	Clients ClientPages
	// Segments serves Сегменты (segments.go). Default zero: "not ready yet".
	Segments SegmentPages
	// Campaigns serves Рассылки's list and a campaign's page: controls,
	// progress, statistics, export (campaigns.go). Default zero: "not
	// ready yet".
	Campaigns CampaignPages
	// Compose serves Рассылки's composer: a new campaign or a draft's
	// edit, previews and the dry-run summary (campaign_compose.go).
	// Default zero: no composer.
	Compose ComposePages
	// Scenarios serves Сценарии and the playground (scenarios.go).
	// Default zero: "not ready yet".
	Scenarios ScenarioPages
	// Users serves Пользователи (users.go). Default zero: "not ready yet".
	Users UserPages
	// Profile serves Профиль, the signed-in user's own page, with their
	// messenger accounts linked for the managers' team chat (profile.go).
	// Default zero: the page without messenger accounts.
	Profile ProfilePages
	// Handoffs serves Диалоги (the managers' inbox of hand-off requests),
	// the transcript in the client card and Обзор's hand-off tile
	// (inbox.go). Default nil: the section is hidden from the menu.
	Handoffs Handoffs
}

func (c *Config) validate() error {
	if c.Auth == nil {
		return errors.New("console: Auth is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Console serves the web console.
type Console struct {
	cfg     Config
	pages   map[string]*template.Template
	assets  assetSet
	handler http.Handler
	// sectionPages are the menu sections' built pages by path; a section
	// without one answers "not ready yet".
	sectionPages map[string]http.HandlerFunc
}

// New builds the console: it parses the embedded templates and hashes the
// embedded assets once.
func New(cfg Config) (*Console, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, assets: assets}
	if c.pages, err = parseTemplates(assets); err != nil {
		return nil, err
	}
	c.handler = c.routes()
	return c, nil
}

// Handler serves the console at the root of its mux: mount it on "/".
// Every state-changing request passes http.CrossOriginProtection (a
// cross-site POST is refused with 403).
func (c *Console) Handler() http.Handler { return c.handler }

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /assets/{version}/{file}", c.assets)
	mux.HandleFunc("GET /login", c.loginForm)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	c.sectionPages = map[string]http.HandlerFunc{"/": c.overview}
	if c.cfg.Audit != nil {
		c.sectionPages["/audit"] = c.auditPage
	}
	// Each area registers its own routes beyond its section's page (and
	// sets that page in sectionPages when it is configured).
	for _, area := range []func(*http.ServeMux){
		c.overviewRoutes, c.clientRoutes, c.segmentRoutes, c.campaignRoutes, c.composeRoutes,
		c.scenarioRoutes, c.userRoutes, c.inboxRoutes, c.profileRoutes,
	} {
		area(mux)
	}
	for _, s := range sections {
		pattern := "GET " + s.path
		if s.path == "/" {
			pattern = "GET /{$}"
		}
		mux.Handle(pattern, c.signedIn(c.require(s, c.pageFor(s.path))))
	}
	mux.Handle("/", c.signedIn(c.notFound))
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(c.crossOrigin))
	return securityHeaders(withLang(csrf.Handler(mux)))
}

// pageFor is the handler of a menu section: its page when built and
// configured, else notYet.
func (c *Console) pageFor(path string) http.HandlerFunc {
	if h, ok := c.sectionPages[path]; ok {
		return h
	}
	return c.notYet
}

// handle registers an area's route: signed in, and at least role min (a
// lower role gets 403 from the server, whatever the page shows).
func (c *Console) handle(mux *http.ServeMux, pattern string, min account.Role, h http.HandlerFunc) {
	mux.Handle(pattern, c.signedIn(c.requireRole(min, h)))
}

// securityHeaders sets what every console response carries: no framing,
// no sniffing, scripts and styles only from the console itself.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
