package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runMain(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), &Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }})
	return code, stdout.String(), stderr.String()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("id: bad\nstart: a\nsteps:\n  a:\n    say: hi\n    next: nowhere\n    sya: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrRE string
	}{
		{"shipped scenarios", []string{"validate", repoPath(t, "scenarios")}, 0, "4 scenario(s) valid", ""},
		{"default dir from env", []string{"validate"}, 0, "scenario(s) valid", ""},
		{"bad file", []string{"validate", bad}, 1, "", `(?m)^.*bad\.yaml:6:\d+: .*nowhere.*\n.*bad\.yaml:7:\d+: .*sya`},
		{"missing path", []string{"validate", filepath.Join(dir, "none")}, 1, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, map[string]string{"SCENARIOS_DIR": repoPath(t, "scenarios")}, "", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if tt.stderrRE != "" && !regexp.MustCompile(tt.stderrRE).MatchString(errOut) {
				t.Fatalf("stderr %q does not match %s", errOut, tt.stderrRE)
			}
		})
	}
}

func TestSchemaIsJSON(t *testing.T) {
	t.Parallel()
	code, out, _ := runMain(t, nil, "", "schema")
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["$schema"] == nil {
		t.Fatalf("schema exit %d: %.200s", code, out)
	}
}

func TestUsageAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{nil, nil, 2, "Commands:"},
		{[]string{"--help"}, nil, 0, "Commands:"},
		{[]string{"help"}, nil, 0, "Commands:"},
		{[]string{"fly"}, nil, 2, `unknown command "fly"`},
		{[]string{"version"}, nil, 0, "chathub"},
		{[]string{"validate"}, map[string]string{"STATE_TTL": "soon"}, 2, "STATE_TTL"},
		{[]string{"clients", "--format", "xml"}, nil, 2, `unknown format "xml"`},
		{[]string{"chat", "--scenario", "nope"}, map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "x.db"), "SCENARIOS_DIR": repoPath(t, "scenarios")}, 2, "available: b2b, feedback, portrait, profile"},
	}
	for _, tt := range tests {
		code, out, errOut := runMain(t, tt.env, "", tt.args...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("%v: exit %d, output %q %q; want %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
	}
}

// TestSubcommandHelpFlags: -h or --help after any subcommand prints its
// usage to stdout with exit 0, like `chathub help`; a wrong flag prints the
// error and the usage to stderr with exit 2.
func TestSubcommandHelpFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // a flag the usage lists
	}{
		{[]string{"chat", "-h"}, "-scenario"},
		{[]string{"clients", "--help"}, "-segment"},
		{[]string{"run", "-h"}, "-config"},
		{[]string{"validate", "-h"}, "-config"},
		{[]string{"segment", "count", "-h"}, "Usage of segment count"},
		{[]string{"broadcast", "status", "-h"}, "-follow"},
		{[]string{"broadcast", "create", "--help"}, "-segment"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "x.db")}
			code, out, errOut := runMain(t, env, "", tt.args...)
			if code != 0 || !strings.Contains(out, tt.want) || errOut != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the usage (%q) on stdout only", code, out, errOut, tt.want)
			}
			bad := append(tt.args[:len(tt.args)-1:len(tt.args)-1], "--no-such-flag")
			code, out, errOut = runMain(t, env, "", bad...)
			if code != 2 || out != "" || !strings.Contains(errOut, "flag provided but not defined") || !strings.Contains(errOut, tt.want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and the error with the usage on stderr", bad, code, out, errOut)
			}
		})
	}
}
