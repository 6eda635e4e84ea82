package cli

import (
	"encoding/csv"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

// personaNames lists the clients of a JSON listing as first_name/user_id.
func personaNames(t *testing.T, out string) []string {
	t.Helper()
	var clients []map[string]any
	if err := json.Unmarshal([]byte(out), &clients); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var names []string
	for _, c := range clients {
		names = append(names, strings.TrimPrefix(c["user_id"].(string), "persona-"))
	}
	return names
}

func TestClientsFilters(t *testing.T) {
	t.Parallel()
	env := personaDB(t) // seeded in order: anna, oleg, marina, marina-zotova, sergey, maria
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"newest first", nil, []string{"maria", "sergey", "marina-zotova", "marina", "oleg", "anna"}},
		{"limit keeps the newest", []string{"--limit", "2"}, []string{"maria", "sergey"}},
		{"id", []string{"--id", "2"}, []string{"oleg"}},
		{"segment", []string{"--segment", `city == "Москва" and subscribed`}, []string{"maria", "marina"}},
		{"segment negation", []string{"--segment", `not subscribed`}, []string{"marina-zotova", "sergey"}},
		{"search by name, any case", []string{"--search", "марина"}, []string{"marina-zotova", "marina"}},
		{"search first and last name", []string{"--search", "марина зот"}, []string{"marina-zotova"}},
		{"search and segment", []string{"--search", "мар", "--segment", "age > 30"}, []string{"maria", "marina-zotova"}},
		{"search finds nobody", []string{"--search", "+7 900 000-00-00"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"clients", "--format", "json"}, tt.args...)
			code, out, errOut := runMain(t, env, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got := personaNames(t, out)
			if tt.name == "segment negation" {
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("clients %v = %q, want %q", tt.args, got, tt.want)
			}
			if strings.Contains(errOut, "Марина") || strings.Contains(errOut, "марина") {
				t.Errorf("personal data in logs: %s", errOut)
			}
		})
	}
}

func TestClientsFilterErrors(t *testing.T) {
	t.Parallel()
	env := personaDB(t)
	tests := []struct {
		args     []string
		code     int
		stderrRE string
	}{
		{[]string{"clients", "--segment", "agee > 30"}, 1, `(?s)^segment:1:1: unknown field "agee" \(did you mean "age"\?\)\n  agee > 30\n  \^`},
		{[]string{"clients", "--search", strings.Repeat("я", 101)}, 1, `bad client search: at most 100 characters`},
		{[]string{"clients", "--search", "--"}, 1, `has no letter or digit`},
		{[]string{"clients", "--id", "-3"}, 2, `--id must be a positive client id`},
		{[]string{"clients", "city", "==", "x"}, 2, `unexpected argument "city"`},
	}
	for _, tt := range tests {
		code, _, errOut := runMain(t, env, "", tt.args...)
		if code != tt.code || !regexp.MustCompile(tt.stderrRE).MatchString(errOut) {
			t.Errorf("%q: exit %d (want %d), stderr %q", tt.args, code, tt.code, errOut)
		}
	}
}

// jsonName is the JSON/CSV column of a crm.Client field.
func jsonName(field string) string {
	switch field {
	case "ID":
		return "id"
	case "PlatformUserID":
		return "user_id"
	}
	var b strings.Builder
	for i, r := range field {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestClientsJSONAndCSVAreTheFullRecord(t *testing.T) {
	t.Parallel()
	env := personaDB(t)
	var want []string
	typ := reflect.TypeOf(crm.Client{})
	for i := range typ.NumField() {
		want = append(want, jsonName(typ.Field(i).Name))
	}
	code, out, errOut := runMain(t, env, "", "clients", "--format", "csv", "--search", "сергей")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv = %d rows, %v:\n%s", len(rows), err, out)
	}
	for _, col := range want {
		if !slices.Contains(rows[0], col) {
			t.Errorf("csv lacks column %q (a field of crm.Client)", col)
		}
	}
	row := map[string]string{}
	for i, col := range rows[0] {
		row[col] = rows[1][i]
	}
	// Sergey unsubscribed: the record says when, and when it was made.
	for _, col := range []string{"unsubscribed_at", "created_at", "updated_at", "confirmed"} {
		if row[col] == "" || row[col] == "{}" {
			t.Errorf("csv %s is empty: %v", col, row)
		}
	}
	if rows[0][27] != "bot" {
		t.Errorf("column 28 is %q: columns before bot must keep their positions", rows[0][27])
	}

	code, out, _ = runMain(t, env, "", "clients", "--format", "json", "--search", "сергей")
	var clients []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &clients) != nil || len(clients) != 1 {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	for _, col := range []string{"unsubscribed_at", "created_at", "updated_at", "confirmed", "attributes", "tags", "last_seen_at"} {
		if _, ok := clients[0][col]; !ok {
			t.Errorf("json lacks %q: %v", col, clients[0])
		}
	}
}
