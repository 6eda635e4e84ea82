package console

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

// view is what every page template gets; Page is the page's own data.
type view struct {
	Lang  i18n.Lang
	Title string // translated
	// User is the signed-in user (zero on the login page).
	User account.User
	Menu []menuItem
	// Path is the page's path and Query its query without lang= (the
	// language switch links to them, so a page keeps its filters and
	// period across the switch).
	Path  string
	Query url.Values
	Page  any
}

// langSwitchDrops are the query parameters the language switch does not
// carry over: lang itself and the one-shot notices a page shows after a
// redirect (?saved=, ?deleted=, ?done=&name=, ?taken=, ?returned=, ?bye=),
// which tell what just happened, not what the page shows.
var langSwitchDrops = []string{"lang", "saved", "deleted", "done", "name", "taken", "returned", "bye"}

// langHref is the address of the page at path with query in language l.
func langHref(path string, query url.Values, l i18n.Lang) string {
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	q.Set("lang", string(l))
	return path + "?" + q.Encode()
}

// parseTemplates parses layout.html with each page template into its own
// set (each page defines "content"), keyed by the page's name.
func parseTemplates(assets assetSet) (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(templateFuncs(assets)).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// templateFuncs are the templates' functions: T and plural translate
// ({{T .Lang "key" args...}}, {{plural .Lang "key" n}}), asset is an
// embedded file's versioned URL, role a role's name, langs the languages.
func templateFuncs(assets assetSet) template.FuncMap {
	return template.FuncMap{
		"T":      i18n.T,
		"plural": i18n.Plural,
		"asset":  assets.url,
		"role":   func(l i18n.Lang, r account.Role) string { return i18n.T(l, roleKey(r)) },
		"langs":  func() []i18n.Lang { return i18n.Langs },
		// langHref is the current page in another language.
		"langHref": langHref,
	}
}

type langKey struct{}

// withLang puts the request's language in its context; a ?lang= choice is
// remembered in the lang cookie for a year.
func withLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, fromQuery := i18n.FromRequest(r)
		if fromQuery {
			http.SetCookie(w, &http.Cookie{Name: i18n.CookieName, Value: string(l), Path: "/",
				MaxAge: int((365 * 24 * time.Hour).Seconds()), SameSite: http.SameSiteLaxMode})
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, l)))
	})
}

// langOf is the request's language (withLang's choice).
func langOf(ctx context.Context) i18n.Lang {
	if l, ok := ctx.Value(langKey{}).(i18n.Lang); ok {
		return l
	}
	return i18n.Default
}

// render executes page into a buffer and writes it with status; a template
// failure becomes a bare 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, titleKey string, data any) {
	title := i18n.T(langOf(r.Context()), titleKey)
	if s, ok := data.(messageView); ok && page == "notyet" {
		title = i18n.T(langOf(r.Context()), titleKey, i18n.T(langOf(r.Context()), s.Section))
	}
	u := userFrom(r.Context())
	query := r.URL.Query()
	for _, k := range langSwitchDrops {
		query.Del(k)
	}
	v := view{Lang: langOf(r.Context()), Title: title, User: u, Path: r.URL.Path, Query: query, Page: data}
	if u.Name != "" {
		v.Menu = menuFor(u.Role, r.URL.Path, c.built)
		c.badgeMenu(r, v.Menu)
	}
	var buf bytes.Buffer
	t, ok := c.pages[page]
	if !ok {
		c.cfg.Logger.Error("console: no such page template", "page", page)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.cfg.Logger.Error("console: render", "page", page, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderAt is render for the answer to a POST that shows a page (a
// refusal, a question, a result) instead of redirecting; path is that
// page's GET address (with its query, if any). See renderRequestAt.
func (c *Console) renderAt(w http.ResponseWriter, r *http.Request, path string, status int, page, titleKey string, data any) {
	c.render(w, renderRequestAt(w, r, path), status, page, titleKey, data)
}

// renderRequestAt makes r, a POST about to answer with a page, the GET of
// path for the page: the view's Path (the language switch) and the menu
// follow it, and HX-Replace-Url has htmx show it in the address bar.
// Without it htmx shows the POST's address (even for a refusal), which a
// reload or a language switch would GET: 404.
func renderRequestAt(w http.ResponseWriter, r *http.Request, path string) *http.Request {
	u, err := url.Parse(localPath(path))
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath, r2.URL.RawQuery = u.Path, "", u.RawQuery
	w.Header().Set("HX-Replace-Url", u.RequestURI())
	return r2
}
