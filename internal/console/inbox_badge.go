package console

import (
	"context"
	"net/http"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// menuBadge is Диалоги's count in the menu: the requests waiting for a
// manager, and how many of them are over the SLA.
type menuBadge struct {
	Count string
	N     int64
	Late  int64
	// Label says the count in words for screen readers («3 запроса ждут
	// ответа, 1 дольше срока»).
	Label   string
	Polling string // the badge's own address, polled
}

// built tells whether the section at path has its page (its service is
// configured).
func (c *Console) built(path string) bool {
	_, ok := c.sectionPages[path]
	return ok
}

// badgeMenu puts Диалоги's waiting count on its menu item.
func (c *Console) badgeMenu(r *http.Request, menu []menuItem) {
	for i := range menu {
		if menu[i].Path == "/inbox" {
			menu[i].Badge = c.menuBadge(r)
		}
	}
}

// menuBadge counts the requests waiting for the signed-in manager; nil
// (no badge) without the hand-off service, below the manager role, or
// when the count fails (logged: a page does not fail for its badge).
func (c *Console) menuBadge(r *http.Request) *menuBadge {
	u := userFrom(r.Context())
	if c.cfg.Handoffs == nil || !u.Role.AtLeast(account.RoleManager) {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), badgeTimeout)
	defer cancel()
	n, err := c.cfg.Handoffs.Counts(ctx, u.Name)
	if err != nil {
		c.cfg.Logger.Warn("console: inbox badge count", "err", err)
		return &menuBadge{Polling: "/inbox/badge?" + sessionPollParam + "=1"}
	}
	lang := langOf(r.Context())
	b := &menuBadge{Count: i18n.Number(lang, int64(n.Waiting)), N: int64(n.Waiting),
		Late: int64(n.OverSLA), Polling: "/inbox/badge?" + sessionPollParam + "=1"}
	b.Label = i18n.Plural(lang, "inbox.badge.waiting", b.N)
	if b.Late > 0 {
		b.Label += ", " + i18n.Plural(lang, "inbox.badge.late", b.Late)
	}
	return b
}
