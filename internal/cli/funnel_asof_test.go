package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/funnel"
)

// TestFunnelTableAsOf: the table says when rollup counts were taken, and
// nothing for live ones.
func TestFunnelTableAsOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 14, 5, 0, 0, time.Local)
	for _, tt := range []struct {
		asOf time.Time
		want string
	}{{at, "(as of 14:05)"}, {time.Time{}, ""}} {
		var b bytes.Buffer
		if err := writeFunnelTable(&b, &funnel.Report{Scenario: "portrait", AsOf: tt.asOf}); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(b.String(), "\n")
		if tt.want != "" && !strings.Contains(first, tt.want) || tt.want == "" && strings.Contains(first, "as of") {
			t.Errorf("first line %q, want %q", first, tt.want)
		}
	}
}
