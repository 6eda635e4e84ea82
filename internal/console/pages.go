package console

import (
	"net/http"
	"strings"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// notYet answers a menu section that is not built yet: 404 with a page
// saying so.
func (c *Console) notYet(w http.ResponseWriter, r *http.Request) {
	key := sectionKey(r.URL.Path)
	c.render(w, r, http.StatusNotFound, "notyet", "notyet.title", messageView{Section: key})
}

// notFound answers any other path.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusNotFound, "notfound", "notfound.title", nil)
}

// messageView is the data of the not-yet and forbidden pages.
type messageView struct {
	// Section is the menu label's key of the page asked for.
	Section string
	// Need and Have are the role the section needs and the user's.
	Need, Have account.Role
}

// forbidden answers 403: the user's role is below the section's.
func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, s section) {
	c.render(w, r, http.StatusForbidden, "forbidden", "forbidden.title",
		messageView{Section: s.key, Need: s.min, Have: userFrom(r.Context()).Role})
}

// crossOrigin answers a state-changing request from another site (http.
// CrossOriginProtection refused it).
func (c *Console) crossOrigin(w http.ResponseWriter, r *http.Request) {
	c.cfg.Logger.Warn("console: cross-origin request refused", "method", r.Method, "path", r.URL.Path)
	c.render(w, r, http.StatusForbidden, "error", "forbidden.title", i18n.T(langOf(r.Context()), "crossorigin.text"))
}

// serverError answers 500 with a page that gives nothing away.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusInternalServerError, "error", "error.title", i18n.T(langOf(r.Context()), "error.text"))
}

// sectionKey is the menu label's key of the section path belongs to
// ("/clients/5" belongs to "/clients").
func sectionKey(path string) string {
	for _, s := range sections {
		if s.path == path || (s.path != "/" && strings.HasPrefix(path, s.path+"/")) {
			return s.key
		}
	}
	return "notfound.title"
}

// roleKey is a role's message key.
func roleKey(r account.Role) string { return "role." + string(r) }
