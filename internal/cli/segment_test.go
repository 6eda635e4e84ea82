package cli

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/segment/segmenttest"
	"github.com/chathub/chathub/internal/store/postgres"
)

// personaDB creates a SQLite database holding DOMAIN.md's personas, seen
// relative to now, and returns the environment pointing at it.
func personaDB(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crm.db")
	seedPersonas(t, path)
	return map[string]string{"DATABASE_URL": path}
}

// seedPersonas writes DOMAIN.md's personas, seen relative to now, into the
// CRM at url.
func seedPersonas(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range segmenttest.Personas(time.Now().UTC()) {
		for i := range p.Changes {
			if _, err := db.ApplyChanges(ctx, p.Key, &p.Changes[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

const domainExample = `city == "Москва" and age >= 25 and "fitness" in attributes.interests and subscribed and last_seen_at > ago("30d")`

func TestSegmentCommands(t *testing.T) {
	t.Parallel()
	env := personaDB(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdoutRE string
		stderrRE string
	}{
		{"count the DOMAIN example", []string{"segment", "count", domainExample}, 0, `^2\n$`, `^$`},
		{"count an exclusion", []string{"segment", "count", `not ("minor" in tags) and gender != "male"`}, 0, `^4\n$`, ``},
		{"count activity", []string{"segment", "count", `completed("portrait") or answered("feedback", "csat")`}, 0, `^2\n$`, ``},
		{"misspelt field", []string{"segment", "count", `city == "Москва" and agee >= 25`}, 1, `^$`,
			`^segment:1:22: unknown field "agee" \(did you mean "age"\?\)\n  city == "Москва" and agee >= 25\n {23}\^\n$`},
		{"bad enum value", []string{"segment", "sample", `gender == "robot"`}, 1, `^$`, `^segment:1:11: "robot" is not a value of gender`},
		{"sample table", []string{"segment", "sample", `occupation contains "бухгалтер"`, "-n", "3"}, 0, `(?s)^ID .*CITY.*\n\d+ +telegram +persona-anna +Анна .*Самара`, ``},
		{"sample nobody", []string{"segment", "sample", `age > 100`}, 0, `^no clients in this segment\n$`, ``},
		{"sample bad n", []string{"segment", "sample", `subscribed`, "-n", "0"}, 1, ``, `-n must be from 1 to 1000`},
		{"sample bad format", []string{"segment", "sample", "--format", "xml", `subscribed`}, 1, ``, `unknown format "xml"`},
		{"explain", []string{"segment", "explain", `"vip" in tags`}, 0, `(?s)-- sqlite.*SELECT id FROM clients WHERE \(EXISTS \(SELECT 1 FROM client_tags .*-- arg 1: "vip"`, ``},
		{"no subcommand", []string{"segment"}, 2, ``, `Usage:`},
		{"help", []string{"segment", "help"}, 0, `^Usage:\n  chathub segment count`, `^$`},
		{"-h", []string{"segment", "-h"}, 0, `^Usage:`, `^$`},
		{"unknown subcommand", []string{"segment", "cnt", "x"}, 2, ``, `unknown subcommand "cnt"`},
		{"unquoted expression", []string{"segment", "count", "age", ">=", "25"}, 2, ``, `want EXPR, got 3 argument\(s\); quote the expression`},
		{"delete missing", []string{"segment", "delete", "nope"}, 1, ``, `no saved segment "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, env, "", tt.args...)
			if code != tt.code || !regexp.MustCompile(tt.stdoutRE).MatchString(out) || !regexp.MustCompile(tt.stderrRE).MatchString(errOut) {
				t.Fatalf("exit %d (want %d)\nstdout %q\nstderr %q", code, tt.code, out, errOut)
			}
		})
	}
}

func TestSegmentSampleJSON(t *testing.T) {
	t.Parallel()
	env := personaDB(t)
	code, out, errOut := runMain(t, env, "", "segment", "sample", "--format", "json", domainExample, "-n", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var clients []map[string]any
	if err := json.Unmarshal([]byte(out), &clients); err != nil || len(clients) != 2 {
		t.Fatalf("sample json = %d clients, %v: %s", len(clients), err, out)
	}
	for _, c := range clients {
		if c["city"] != "Москва" || c["first_name"] == nil {
			t.Errorf("sampled %v", c)
		}
	}
}

func TestSegmentSavedFlow(t *testing.T) {
	t.Parallel()
	env := personaDB(t)
	steps := []struct {
		args     []string
		code     int
		stdoutRE string
		stderrRE string
	}{
		{[]string{"segment", "save", "adults", "age >= 18", "--description", "взрослые"}, 0, `^saved segment adults: 6 client\(s\) match now; use it as segment\("adults"\)\n$`, ``},
		{[]string{"segment", "save", "moscow-adults", `segment("adults") and city == "Москва"`}, 0, `: 2 client\(s\) match now`, ``},
		{[]string{"segment", "save", "count", "age >= 18"}, 1, `^$`, `segment name "count": reserved segment name`},
		{[]string{"segment", "save", "sample", "age >= 18"}, 1, `^$`, `segment name "sample": reserved segment name`},
		{[]string{"segment", "save", "typo", "agee >= 18"}, 1, `^$`, `^segment:1:1: unknown field "agee"`},
		{[]string{"segment", "save", "adults", `segment("moscow-adults")`}, 1, `^$`, `cycle: moscow-adults → adults → moscow-adults`},
		{[]string{"segment", "count", `segment("moscow-adults") and subscribed`}, 0, `^2\n$`, ``},
		{[]string{"segment", "list"}, 0, `(?s)^NAME +EXPRESSION +DESCRIPTION +UPDATED\nadults +age >= 18 +взрослые .*\nmoscow-adults +segment\("adults"\) and city == "Москва" +- `, ``},
		{[]string{"segment", "delete", "adults"}, 1, ``, `used by other segments: moscow-adults`},
		{[]string{"segment", "delete", "moscow-adults"}, 0, `^deleted segment moscow-adults\n$`, ``},
		{[]string{"segment", "list", "--format", "json"}, 0, `(?s)^\[\s*\{\s*"name": "adults",\s*"expression": "age >= 18",\s*"description": "взрослые"`, ``},
	}
	for _, st := range steps {
		code, out, errOut := runMain(t, env, "", st.args...)
		if code != st.code || !regexp.MustCompile(st.stdoutRE).MatchString(out) || !regexp.MustCompile(st.stderrRE).MatchString(errOut) {
			t.Fatalf("%s: exit %d (want %d)\nstdout %q\nstderr %q", strings.Join(st.args, " "), code, st.code, out, errOut)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		n    int
		pos  []string
	}{
		{[]string{"x", "-n", "3"}, 3, []string{"x"}},
		{[]string{"-n", "2", "x", "y"}, 2, []string{"x", "y"}},
		{[]string{"x", "--", "-n"}, 5, []string{"x", "-n"}},
	} {
		fs := newTestFlagSet()
		n := fs.Int("n", 5, "")
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || *n != tt.n || strings.Join(pos, "|") != strings.Join(tt.pos, "|") {
			t.Errorf("parseInterspersed(%q) = %q, n=%d, %v", tt.args, pos, *n, err)
		}
	}
}

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
