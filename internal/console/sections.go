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
}

// sections is the menu in order. Operators see the overview and the
// scenarios (and, later, the playground and analytics); managers also
// clients, segments and campaigns; admins also users and the audit log.
var sections = []section{
	{"/", "menu.overview", account.RoleOperator},
	{"/clients", "menu.clients", account.RoleManager},
	{"/segments", "menu.segments", account.RoleManager},
	{"/campaigns", "menu.campaigns", account.RoleManager},
	{"/scenarios", "menu.scenarios", account.RoleOperator},
	{"/users", "menu.users", account.RoleAdmin},
	{"/audit", "menu.audit", account.RoleAdmin},
}

// menuItem is a section as the layout shows it.
type menuItem struct {
	Path, Key string
	Current   bool
}

// menuFor lists the sections role may open, marking the one path belongs
// to: the section's own page or any page under it (/campaigns/5,
// /clients/7/delete); the overview "/" only for "/" itself.
func menuFor(role account.Role, path string) []menuItem {
	var items []menuItem
	for _, s := range sections {
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
