package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// TestCommandErrorTexts: commands that fail say what is wrong in their own
// words (no driver internals, no temp file names) and exit non-zero.
func TestCommandErrorTexts(t *testing.T) {
	t.Parallel()
	scen := repoPath(t, "scenarios")
	db := func() string { return filepath.Join(t.TempDir(), "x.db") }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		want    []string // in stderr
		notWant []string // in stdout+stderr
	}{
		{"chat with an empty user", []string{"chat", "--user", ""}, map[string]string{"DATABASE_URL": db(), "SCENARIOS_DIR": scen},
			2, []string{"--user must not be empty"}, []string{"invalid chat key", "redis"}},
		{"chat with a blank user", []string{"chat", "--user", "  "}, map[string]string{"DATABASE_URL": db(), "SCENARIOS_DIR": scen},
			2, []string{"--user must not be empty"}, nil},
		{"every configuration problem at once", []string{"run"}, map[string]string{"STATE_TTL": "1s", "WORKERS": "many", "VK_TOKEN": "t"},
			2, []string{"chathub: configuration:\n", `WORKERS="many"`, "STATE_TTL must be at least 1m", "set VK_GROUP_ID"}, nil},
		{"SQLite in a missing directory", []string{"clients"}, map[string]string{"DATABASE_URL": "/no/such/dir/x.db"},
			1, []string{"/no/such/dir/x.db", "directory /no/such/dir does not exist"}, []string{"out of memory", "(14)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, tt.env, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not say %q", errOut, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out+errOut, w) {
					t.Errorf("output %q %q says %q", out, errOut, w)
				}
			}
		})
	}
}

// TestChatLoopExitCode: a message the handler failed on is reported and the
// conversation goes on, but `chathub chat` then exits 1.
func TestChatLoopExitCode(t *testing.T) {
	t.Parallel()
	fail := errors.New("boom")
	tests := []struct {
		name   string
		failOn string
		code   int
	}{
		{"all handled", "", 0},
		{"one failed", "b", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			env := &Env{Stdin: strings.NewReader("a\nb\nc\n"), Stdout: &out, Stderr: &errOut}
			term := &terminal{out: &out, chat: messenger.ChatKey{Platform: messenger.Terminal, ID: "u"}}
			var seen []string
			handle := func(_ context.Context, upd *messenger.Update) error {
				seen = append(seen, upd.Text)
				if upd.Text == tt.failOn {
					return fail
				}
				return nil
			}
			code := chatLoop(context.Background(), env, term, handle, nil)
			if code != tt.code || len(seen) != 3 {
				t.Errorf("exit %d after %v, want %d after all 3 lines; stderr %q", code, seen, tt.code, errOut.String())
			}
			if tt.failOn != "" && !strings.Contains(errOut.String(), "boom") {
				t.Errorf("stderr %q does not report the error", errOut.String())
			}
		})
	}
}

// TestExportErrorTexts: a failed `broadcast export -o FILE` names FILE and
// the cause, never the temporary file written beside it.
func TestExportErrorTexts(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	isDir := filepath.Join(tmp, "adir")
	if err := os.Mkdir(isDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, out string
		want      string
	}{
		{"missing directory", filepath.Join(tmp, "no", "out.csv"),
			"export to " + filepath.Join(tmp, "no", "out.csv") + ": directory " + filepath.Join(tmp, "no") + " does not exist"},
		{"target is a directory", isDir, "export to " + isDir + ": is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runFakeBroadcast(t, sampleCampaigns(), "export", "2", "-o", tt.out)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
			if strings.Contains(errOut, "."+filepath.Base(tt.out)+".") {
				t.Errorf("stderr %q names the temporary file", errOut)
			}
		})
	}
}

// TestClientsEmptyTable: an empty table says why — an empty database
// suggests `chathub chat`, a filter that matches nobody says so.
func TestClientsEmptyTable(t *testing.T) {
	t.Parallel()
	empty := map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "x.db")}
	one := map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "x.db"), "SCENARIOS_DIR": repoPath(t, "scenarios")}
	if code, _, errOut := runMain(t, one, "1\n", "chat", "--scenario", "portrait", "--user", "anna"); code != 0 {
		t.Fatalf("chat: exit %d: %s", code, errOut)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"empty database", empty, []string{"clients"}, "no clients yet: run `chathub chat` and answer a few questions\n"},
		{"empty database, filtered", empty, []string{"clients", "--platform", "vk"}, "no clients yet: run `chathub chat` and answer a few questions\n"},
		{"no vk client", one, []string{"clients", "--platform", "vk"}, "no client matches the filter\n"},
		{"no such bot", one, []string{"clients", "--bot", "shop"}, "no client matches the filter\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, tt.env, "", tt.args...)
			if code != 0 || out != tt.want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out, errOut, tt.want)
			}
		})
	}
}
