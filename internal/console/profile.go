package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// AccountLinks is what Профиль and Пользователи need of internal/account's
// Service to link console users to their messenger accounts: a one-time
// code the user sends as `/link CODE` in the managers' team chat, the
// links, and unlinking (audited under the actor of the context).
type AccountLinks interface {
	StartLink(ctx context.Context, name, platform string) (account.LinkCode, error)
	LinksOf(ctx context.Context, name string) ([]account.Link, error)
	Links(ctx context.Context) ([]account.Link, error)
	Unlink(ctx context.Context, name, platform string) error
}

// ProfilePages is what Профиль (every signed-in user's own account page)
// needs. The zero value shows the page without messenger accounts.
type ProfilePages struct {
	// Links makes link codes and lists and removes links; with it
	// Пользователи also shows every user's links (admins unlink there).
	Links AccountLinks
	// Platforms are the platforms with a managers' team chat, in the
	// order shown ("telegram", "vk"): each offers «Привязать …». A link of
	// another platform is still shown and can be removed.
	Platforms []string
}

// linkPoll: a shown code's box asks this often whether it was used.
const linkPoll = "3s"

// profileRoutes registers Профиль's routes (any signed-in user).
func (c *Console) profileRoutes(mux *http.ServeMux) {
	c.handle(mux, "GET /profile", account.RoleOperator, c.profilePage)
	if c.cfg.Profile.Links == nil {
		return
	}
	c.handle(mux, "POST /profile/link/{platform}", account.RoleOperator, c.profileLink)
	c.handle(mux, "GET /profile/link/{platform}/status", account.RoleOperator, c.profileLinkStatus)
	c.handle(mux, "POST /profile/unlink/{platform}", account.RoleOperator, c.profileUnlink)
}

// profileView is the data of Профиль.
type profileView struct {
	Name string
	Role account.Role
	// Linking is false when no link service is configured: the messenger
	// accounts are left out.
	Linking bool
	// Accounts are the platforms offered or linked, in order.
	Accounts []linkSlot
	// Done says what the last change did, Error why it failed.
	Done, Error string
}

// linkSlot is one platform on Профиль: its link, or the offer to link,
// with the code just made (Code) or the news that the last one expired.
type linkSlot struct {
	Lang     i18n.Lang
	Platform string
	// Offered is true when the platform has a team chat to send a code in.
	Offered bool
	Linked  bool
	// Account is the linked account's name and id as shown.
	Account string
	// Since, SinceDatetime: when it was linked.
	Since, SinceDatetime string
	// Code is a code just made, Expires when it stops working, Poll the
	// address that tells, every Interval, when it was used.
	Code, Expires, ExpiresDatetime, Poll, Interval string
	// Expired is true when a shown code ran out unused.
	Expired bool
}

// profilePage is Профиль: the user's name and role and their messenger
// accounts; ?done=unlink&platform= says what a change just did.
func (c *Console) profilePage(w http.ResponseWriter, r *http.Request) {
	var v profileView
	q := r.URL.Query()
	if p := q.Get("platform"); q.Get("done") == "unlink" && slices.Contains(account.LinkPlatforms, p) {
		lang := langOf(r.Context())
		v.Done = i18n.T(lang, "profile.done.unlink", i18n.T(lang, "profile.platform."+p))
	}
	c.renderProfile(w, r, http.StatusOK, v, nil)
}

// renderProfile renders Профиль with v's message; code, when not nil, is a
// code just made, shown in its platform's slot.
func (c *Console) renderProfile(w http.ResponseWriter, r *http.Request, status int, v profileView, code *account.LinkCode) {
	u := userFrom(r.Context())
	v.Name, v.Role = u.Name, u.Role
	if links := c.cfg.Profile.Links; links != nil {
		ls, err := links.LinksOf(r.Context(), u.Name)
		if err != nil {
			c.cfg.Logger.Error("console: list a user's links", "err", err)
			c.serverError(w, r)
			return
		}
		v.Linking = true
		v.Accounts = c.linkSlots(r, ls, code)
	}
	if r.Method == http.MethodPost {
		r = renderRequestAt(w, r, "/profile")
	}
	c.render(w, r, status, "profile", "profile.title", v)
}

// linkSlots are the offered platforms, then any other linked one.
func (c *Console) linkSlots(r *http.Request, links []account.Link, code *account.LinkCode) []linkSlot {
	lang := langOf(r.Context())
	var out []linkSlot
	seen := map[string]bool{}
	add := func(p string, offered bool) {
		if seen[p] {
			return
		}
		seen[p] = true
		s := linkSlot{Lang: lang, Platform: p, Offered: offered}
		for _, l := range links {
			if l.Platform == p {
				s.fillLinked(lang, l)
			}
		}
		if code != nil && code.Platform == p && !s.Linked {
			s.Code = code.Code
			s.Expires, s.ExpiresDatetime = code.Expires.UTC().Format(i18n.T(lang, "profile.code.time_layout")), code.Expires.UTC().Format(time.RFC3339)
			s.Poll = "/profile/link/" + p + "/status?" + url.Values{"until": {strconv.FormatInt(code.Expires.Unix(), 10)},
				sessionPollParam: {"1"}}.Encode()
			s.Interval = linkPoll
		}
		out = append(out, s)
	}
	for _, p := range c.cfg.Profile.Platforms {
		add(p, true)
	}
	for _, l := range links {
		add(l.Platform, false)
	}
	return out
}

func (s *linkSlot) fillLinked(lang i18n.Lang, l account.Link) {
	s.Linked = true
	s.Account = linkAccountText(lang, l)
	s.Since, s.SinceDatetime = l.LinkedAt.UTC().Format(i18n.T(lang, "users.time_layout")), l.LinkedAt.UTC().Format(time.RFC3339)
}

// linkAccountText is a linked account as the pages show it: its name
// there and its id.
func linkAccountText(lang i18n.Lang, l account.Link) string {
	if l.DisplayName == "" {
		return i18n.T(lang, "profile.account.id", l.PlatformUserID)
	}
	return i18n.T(lang, "profile.account.named", l.DisplayName, l.PlatformUserID)
}

// profilePlatform is the request's {platform} when the page may link it
// (offered) or unlink it (any known platform); "" and a 404 answer when not.
func (c *Console) profilePlatform(w http.ResponseWriter, r *http.Request, offered bool) string {
	p := r.PathValue("platform")
	if (offered && !slices.Contains(c.cfg.Profile.Platforms, p)) || !slices.Contains(account.LinkPlatforms, p) {
		c.notFound(w, r)
		return ""
	}
	return p
}

// profileLink makes a one-time code for the platform and shows it with
// how to send it; the code's box then asks every few seconds whether it
// was used.
func (c *Console) profileLink(w http.ResponseWriter, r *http.Request) {
	p := c.profilePlatform(w, r, true)
	if p == "" {
		return
	}
	code, err := c.cfg.Profile.Links.StartLink(r.Context(), userFrom(r.Context()).Name, p)
	if err != nil {
		c.cfg.Logger.Error("console: make a link code", "platform", p, "err", err)
		c.serverError(w, r)
		return
	}
	c.renderProfile(w, r, http.StatusOK, profileView{}, &code)
}

// profileLinkStatus is the poll of a shown code's box: 204 (nothing to
// change) while the code may still be used, else the platform's slot as it
// now is: linked, or the code expired.
func (c *Console) profileLinkStatus(w http.ResponseWriter, r *http.Request) {
	p := c.profilePlatform(w, r, true)
	if p == "" {
		return
	}
	until, _ := strconv.ParseInt(r.URL.Query().Get("until"), 10, 64)
	lang := langOf(r.Context())
	ls, err := c.cfg.Profile.Links.LinksOf(r.Context(), userFrom(r.Context()).Name)
	if err != nil {
		c.cfg.Logger.Error("console: list a user's links", "err", err)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent) // the box stays and asks again
		return
	}
	s := linkSlot{Lang: lang, Platform: p, Offered: true}
	for _, l := range ls {
		if l.Platform == p {
			s.fillLinked(lang, l)
		}
	}
	if !s.Linked && time.Now().Unix() < until {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.Expired = !s.Linked
	c.fragment(w, "profile", "link-slot", s)
}

// profileUnlink removes the user's own link on the platform.
func (c *Console) profileUnlink(w http.ResponseWriter, r *http.Request) {
	p := c.profilePlatform(w, r, false)
	if p == "" {
		return
	}
	err := c.cfg.Profile.Links.Unlink(actorContext(r), userFrom(r.Context()).Name, p)
	lang := langOf(r.Context())
	switch {
	case errors.Is(err, account.ErrNoLink):
		c.renderProfile(w, r, http.StatusNotFound, profileView{Error: i18n.T(lang, "profile.error.no_link", i18n.T(lang, "profile.platform."+p))}, nil)
		return
	case err != nil:
		c.cfg.Logger.Error("console: unlink", "platform", p, "err", err)
		c.serverError(w, r)
		return
	}
	http.Redirect(w, r, "/profile?"+url.Values{"done": {"unlink"}, "platform": {p}}.Encode(), http.StatusSeeOther)
}
