package console

import (
	"testing"

	"github.com/chathub/chathub/internal/account"
)

// TestMenuCurrentOnSubpages checks that a section's subpages mark the
// section current in the menu, and the overview only on "/".
func TestMenuCurrentOnSubpages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path, want string // want: the current section ("" none)
	}{
		{"/", "/"},
		{"/clients", "/clients"},
		{"/clients/7", "/clients"},
		{"/clients/7/delete", "/clients"},
		{"/segments/new", "/segments"},
		{"/segments/vip", "/segments"},
		{"/campaigns", "/campaigns"},
		{"/campaigns/new", "/campaigns"},
		{"/campaigns/5", "/campaigns"},
		{"/campaigns/5/edit", "/campaigns"},
		{"/scenarios/shop", "/scenarios"},
		{"/scenarios/x/play", "/scenarios"},
		{"/users/ann/remove", "/users"},
		{"/audit", "/audit"},
		{"/clientsx", ""},
		{"/campaignsnew", ""},
		{"/nowhere", ""},
		{"/login", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			var current []string
			for _, m := range menuFor(account.RoleAdmin, tc.path, nil) {
				if m.Current {
					current = append(current, m.Path)
				}
			}
			switch {
			case tc.want == "" && len(current) != 0:
				t.Errorf("menuFor(%q) marks %v current, want none", tc.path, current)
			case tc.want != "" && (len(current) != 1 || current[0] != tc.want):
				t.Errorf("menuFor(%q) marks %v current, want [%s]", tc.path, current, tc.want)
			}
		})
	}
}
