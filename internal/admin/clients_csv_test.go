package admin

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// TestClientCSV: a BOM, the header, one row per client with the portrait's
// fields, and formulas neutralised while phones stay as typed.
func TestClientCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewClientCSV(&buf)
	age := 34
	born := time.Date(1991, 4, 2, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("MSK", 3*3600))
	c := &crm.Client{ID: 5, Platform: "telegram", PlatformUserID: "42", FirstName: "=HYPERLINK(\"x\")", LastName: "Иванова, \"Аня\"",
		Phone: "+79123456789", Age: &age, BirthDate: &born, City: "Самара", Subscribed: true, Tags: []string{"vip", "a"},
		Attributes: map[string]any{"interests": []any{"фитнес"}}, CreatedAt: at, UpdatedAt: at, LastSeenAt: at}
	if err := w.Write(c); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\uFEFFid,platform,") || !strings.Contains(out, "\r\n") {
		t.Fatalf("no BOM, header or CRLF: %q", out)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("read back: %v, %d records", err, len(recs))
	}
	got := map[string]string{}
	for i, col := range recs[0] {
		got[col] = recs[1][i]
	}
	for col, want := range map[string]string{
		"first_name": "'=HYPERLINK(\"x\")", "last_name": "Иванова, \"Аня\"", "phone": "+79123456789",
		"age": "34", "birth_date": "1991-04-02", "city": "Самара", "subscribed": "true", "tags": "a; vip",
		"attributes": `{"interests":["фитнес"]}`, "created_at": "2026-12-01T07:00:00Z", "consent_at": "",
	} {
		if got[col] != want {
			t.Errorf("%s = %q, want %q", col, got[col], want)
		}
	}
	if len(recs[0]) != len(ClientColumns) || w.Rows() != 1 {
		t.Errorf("%d columns, %d rows", len(recs[0]), w.Rows())
	}
	for in, want := range map[string]string{"-1+2": "'-1+2", "-5": "-5", "-x": "'-x", "@a": "'@a", "+7 (912) 000-11-22": "+7 (912) 000-11-22"} {
		if got := noFormula(in); got != want {
			t.Errorf("noFormula(%q) = %q, want %q", in, got, want)
		}
	}
}
