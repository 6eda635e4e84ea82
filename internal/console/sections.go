package console

import (
	"strings"

	"github.com/chathub/chathub/internal/account"
)

// section is one entry of the menu: its page and the least role that may
// open it. The role is enforced on the server (require), the menu only
// leaves out what the user may not open.
type section struct {
	path string
	key  string // the menu label's message key
	min  account.Role
	// optional sections are left out of the menu while their service is
	// not configured (Диалоги without the hand-off service).
	optional bool
}

// sections is the menu in order. Operators see the overview and the
// scenarios (and, later, the playground and analytics); managers also
// the inbox of hand-off requests, clients, segments and campaigns; admins
// also users and the audit log.
var sections = []section{
	{path: "/", key: "menu.overview", min: account.RoleOperator},
	{path: "/inbox", key: "menu.inbox", min: account.RoleManager, optional: true},
	{path: "/clients", key: "menu.clients", min: account.RoleManager},
	{path: "/segments", key: "menu.segments", min: account.RoleManager},
	{path: "/campaigns", key: "menu.campaigns", min: account.RoleManager},
	{path: "/scenarios", key: "menu.scenarios", min: account.RoleOperator},
	{path: "/users", key: "menu.users", min: account.RoleAdmin},
	{path: "/audit", key: "menu.audit", min: account.RoleAdmin},
}

// menuItem is a section as the layout shows it.
type menuItem struct {
	Path, Key string
	Current   bool
	// Badge is the section's count beside its label (Диалоги: the
	// requests waiting); nil for none.
	Badge *menuBadge
}

// menuFor lists the sections role may open, marking the one path belongs
// to: the section's own page or any page under it (/campaigns/5,
// /clients/7/delete); the overview "/" only for "/" itself. An optional
// section is listed only when built says it is configured.
func menuFor(role account.Role, path string, built func(string) bool) []menuItem {
	var items []menuItem
	for _, s := range sections {
		if s.optional && (built == nil || !built(s.path)) {
			continue
		}
		if role.AtLeast(s.min) {
			items = append(items, menuItem{Path: s.path, Key: s.key, Current: menuIn(s.path, path)})
		}
	}
	return items
}

// menuIn reports whether path is section's page or a page under it.
func menuIn(section, path string) bool {
	if path == section {
		return true
	}
	return section != "/" && strings.HasPrefix(path, section+"/")
}
