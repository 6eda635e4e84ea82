package postgres

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenSQLiteExplainsPlace: a SQLite file that cannot be opened because
// of its place gets an error naming the path and the reason, never SQLite's
// "out of memory (14)" (SQLITE_CANTOPEN) or a probe file's name.
func TestOpenSQLiteExplainsPlace(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	notDir := filepath.Join(tmp, "plain")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	isDir := filepath.Join(tmp, "adir")
	if err := os.Mkdir(isDir, 0o700); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(tmp, "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url string
		want      []string
		root      bool // the case cannot happen for root (permissions do not apply)
	}{
		{"missing directory", filepath.Join(tmp, "no", "such", "x.db"),
			[]string{filepath.Join(tmp, "no", "such", "x.db"), "directory " + filepath.Join(tmp, "no", "such") + " does not exist"}, false},
		{"missing directory, sqlite://", "sqlite://" + filepath.Join(tmp, "nope", "x.db"),
			[]string{"directory " + filepath.Join(tmp, "nope") + " does not exist"}, false},
		{"parent is a file", filepath.Join(notDir, "x.db"), []string{notDir + " is not a directory"}, false},
		{"path is a directory", isDir, []string{isDir, "is a directory"}, false},
		{"read-only directory", filepath.Join(readOnly, "x.db"), []string{"directory " + readOnly + " is not writable"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.root && os.Geteuid() == 0 {
				t.Skip("root writes to read-only directories")
			}
			s, err := Open(context.Background(), Config{URL: c.url})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", c.url)
			}
			if !errors.Is(err, ErrSQLiteUnusable) {
				t.Errorf("Open(%q) = %v, want ErrSQLiteUnusable", c.url, err)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Open(%q) = %q, want it to name %q", c.url, msg, w)
				}
			}
			for _, bad := range []string{"out of memory", "(14)", "probe", "unable to open"} {
				if strings.Contains(msg, bad) {
					t.Errorf("Open(%q) = %q, must not say %q", c.url, msg, bad)
				}
			}
		})
	}
}

func TestSQLiteFilePath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url, path string
		ok        bool
	}{
		{"", DefaultSQLitePath, true},
		{"data/crm.db", "data/crm.db", true},
		{"sqlite:///var/lib/chathub.db", "/var/lib/chathub.db", true},
		{"file:crm.db?mode=rwc", "crm.db", true},
		{":memory:", "", false},
		{"file::memory:?cache=shared", "", false},
		{"file:x.db?mode=memory", "", false},
	}
	for _, c := range cases {
		path, ok := sqliteFilePath(c.url)
		if path != c.path || ok != c.ok {
			t.Errorf("sqliteFilePath(%q) = %q, %v; want %q, %v", c.url, path, ok, c.path, c.ok)
		}
	}
}
