package console

import (
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// TestAuditActionsLabelled checks that every action the services can write
// (account.AuditActions) has a label in Russian and English and is offered
// by Журнал's action filter.
func TestAuditActionsLabelled(t *testing.T) {
	t.Parallel()
	for _, a := range account.AuditActions() {
		for _, l := range []i18n.Lang{i18n.Ru, i18n.En} {
			if !i18n.Has(l, "audit.action."+a) {
				t.Errorf("action %q has no %s label (audit.action.%s)", a, l, a)
			}
		}
		if !slices.Contains(auditActions, a) {
			t.Errorf("action %q is not offered by the filter", a)
		}
		var offered bool
		for _, o := range actionOptions(i18n.Ru, "") {
			offered = offered || (o.Value == a && o.Label != a)
		}
		if !offered {
			t.Errorf("the filter does not offer %q with its label", a)
		}
	}
	if ru, en := i18n.T(i18n.Ru, "audit.action.campaign.edit"), i18n.T(i18n.En, "audit.action.campaign.edit"); ru == en {
		t.Errorf("campaign.edit reads %q in both languages", ru)
	}
}
