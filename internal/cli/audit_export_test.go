package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// TestAuditShowsClientExport: `chathub audit` lists a console export of
// client cards (client.export) with its filter and row count.
func TestAuditShowsClientExport(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	err := writeAuditTable(&b, []account.AuditEntry{{ID: 9, At: time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC),
		Actor: "manager", Action: "client.export", Object: "clients", Details: "filter: segment vip; rows: 42"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"manager", "client.export", "clients", "filter: segment vip; rows: 42"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("audit table lacks %q:\n%s", want, b.String())
		}
	}
}
