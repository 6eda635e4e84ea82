package cli

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/store/storetest"
)

// personaPostgres seeds DOMAIN.md's personas into a fresh PostgreSQL
// schema and returns the environment pointing at it.
func personaPostgres(t *testing.T) map[string]string {
	t.Helper()
	storetest.SkipUnlessServices(t)
	url := storetest.PostgresURL(t)
	seedPersonas(t, url)
	return map[string]string{"DATABASE_URL": url, "SCENARIOS_DIR": repoPath(t, "scenarios")}
}

// TestBroadcastEndToEnd drives a campaign through the real broadcast
// service on PostgreSQL: create, list, dry run, start (the ledger fill),
// status, export, pause, cancel. No workers run, so nothing is sent.
func TestBroadcastEndToEnd(t *testing.T) {
	t.Parallel()
	env := personaPostgres(t)
	stdout := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runMain(t, env, "", args...)
		if code != wantCode {
			t.Fatalf("chathub %s: code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out, errOut
	}
	run := func(wantCode int, args ...string) string {
		t.Helper()
		out, errOut := stdout(wantCode, args...)
		return out + errOut
	}
	n, err := strconv.Atoi(strings.TrimSpace(run(0, "segment", "count", "subscribed")))
	if err != nil || n == 0 {
		t.Fatalf("subscribed personas: %d, %v", n, err)
	}

	out := run(1, "broadcast", "create", "--name", "Тест", "--segment", "subscribed and agee > 1", "--text", "x")
	if !strings.Contains(out, `--segment: segment:1:16: unknown field "agee"`) {
		t.Errorf("bad segment: %s", out)
	}
	out = run(1, "broadcast", "create", "--name", "Тест", "--segment", "subscribed", "--text", "x", "--button-scenario", "Анкета|nope")
	if !strings.Contains(out, "--button") || !strings.Contains(out, "nope") {
		t.Errorf("unknown scenario button: %s", out)
	}
	out = run(0, "broadcast", "create", "--name", "Декабрь", "--segment", "subscribed",
		"--text", `Здравствуйте, {{ .client.first_name | default "друг" }}!`, "--button-scenario", "Анкета|portrait",
		"--button", "Сайт|https://example.com", "--ignore-quiet-hours", "--ignore-cap")
	if !strings.HasPrefix(out, `created campaign 1 "Декабрь" (draft)`) {
		t.Fatalf("create: %s", out)
	}
	if out := run(0, "broadcast", "list"); !regexp.MustCompile(`(?m)^1 +Декабрь +draft +all `).MatchString(out) {
		t.Errorf("list: %s", out)
	}
	if out := run(0, "broadcast", "dry-run", "1", "-n", "2"); strings.Count(out, "would be sent") != min(2, n) ||
		!strings.Contains(out, "  | Здравствуйте, ") {
		t.Errorf("dry run: %s", out)
	}
	if out := run(0, "broadcast", "start", "1"); !strings.HasPrefix(out, `campaign 1 "Декабрь" is running`) {
		t.Errorf("start: %s", out)
	}
	status := run(0, "broadcast", "status", "1")
	if !regexp.MustCompile(`targeted +`+strconv.Itoa(n)+`\n`).MatchString(status) ||
		!regexp.MustCompile(`queued +`+strconv.Itoa(n)+`\n`).MatchString(status) {
		t.Errorf("status after start, want %d targeted and queued:\n%s", n, status)
	}
	csvOut, _ := stdout(0, "broadcast", "export", "1")
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil || len(rows) != n+1 || rows[0][0] != "campaign_id" || rows[1][4] != "queued" {
		t.Errorf("export: %q, %v", rows, err)
	}
	run(0, "broadcast", "pause", "1")
	if out := run(1, "broadcast", "pause", "1"); !strings.Contains(out, "invalid state transition") {
		t.Errorf("second pause: %s", out)
	}
	run(0, "broadcast", "cancel", "1")
	follow := run(0, "broadcast", "status", "1", "--follow")
	if !strings.Contains(follow, "· cancelled\n") || !regexp.MustCompile(`skipped +`+strconv.Itoa(n)+`  \(cancelled `+strconv.Itoa(n)+`\)`).MatchString(follow) {
		t.Errorf("status --follow of a cancelled campaign:\n%s", follow)
	}
	if out := run(1, "broadcast", "status", "42"); !strings.Contains(out, "not found (see chathub broadcast list)") {
		t.Errorf("unknown campaign: %s", out)
	}
	// Every change made above is in the audit log as the CLI's, newest
	// first; the refused ones (bad segment, second pause) are not.
	run(0, "segment", "save", "vip", `"vip" in tags`)
	run(0, "segment", "delete", "vip")
	audit, _ := stdout(0, "audit", "--actor", "cli", "--format", "json")
	var entries []struct{ Action, Object, Details string }
	if err := json.Unmarshal([]byte(audit), &entries); err != nil {
		t.Fatalf("audit: %v\n%s", err, audit)
	}
	var got []string
	for _, e := range entries {
		got = append(got, strings.TrimSpace(e.Action+" "+e.Object+" "+e.Details))
	}
	want := []string{"segment.delete segment vip", "segment.save segment vip", "campaign.cancel campaign 1",
		"campaign.pause campaign 1", "campaign.start campaign 1", `campaign.create campaign 1 "Декабрь"`}
	if !slices.Equal(got, want) {
		t.Errorf("audit log:\n got %q\nwant %q", got, want)
	}
}

// TestBroadcastCreateAt: a start time in the past is refused (beyond a
// minute's slack); within it the campaign is scheduled and the output says
// it starts now; a future one says when.
func TestBroadcastCreateAt(t *testing.T) {
	t.Parallel()
	env := personaPostgres(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		at   time.Time
		code int
		want string
	}{
		{"an hour ago", now.Add(-time.Hour), 1, "--at: " + now.Add(-time.Hour).Format(time.RFC3339) + " is in the past"},
		{"seconds ago", now.Add(-5 * time.Second), 0, "(scheduled)\n  preview: chathub broadcast dry-run 1\n  starts:  now ("},
		{"tomorrow", now.Add(24 * time.Hour), 0, "(scheduled)\n  preview: chathub broadcast dry-run 2\n  starts:  " + now.Add(24*time.Hour).Format(time.RFC3339) + ", by itself"},
	} {
		code, out, errOut := runMain(t, env, "", "broadcast", "create", "--name", "n", "--segment", "subscribed", "--text", "x",
			"--at", tc.at.Format(time.RFC3339))
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%s: code %d, output:\n%s%s\nwant code %d and %q", tc.name, code, out, errOut, tc.code, tc.want)
		}
	}
}
