package redis

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// quietLogger discards logs.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOpenEmbedded(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	client, closeFn, err := Open(t.Context(), "", logger)
	if err != nil {
		t.Fatalf("Open(\"\"): %v", err)
	}
	if !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "lost on exit") {
		t.Errorf("embedded start should log at info that state is lost on exit; got %q", logs.String())
	}
	s, err := New(client, Config{})
	if err != nil {
		t.Fatal(err)
	}
	k := messenger.ChatKey{Platform: messenger.Terminal, ID: "local"}
	if rev, err := saveData(s, t.Context(), k, []byte("hi"), 0); err != nil || rev != 1 {
		t.Fatalf("SaveState on embedded = %d, %v", rev, err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping after close succeeded; want error")
	}
}

func TestOpenURLErrorsHideSecrets(t *testing.T) {
	t.Parallel()
	const secret = "s3cretPa55"
	tests := []struct {
		name, url, wantHost string
	}{
		{"unreachable", "redis://user:" + secret + "@127.0.0.1:1/0", "127.0.0.1:1"},
		{"unparseable", "redis://user:" + secret + "%zz@127.0.0.1:1/0", "127.0.0.1:1"},
		{"bad db", "redis://:" + secret + "@127.0.0.1:1/notadb", "127.0.0.1:1"},
		{"bad scheme", "http://user:" + secret + "@example.com/", "example.com"},
		{"bad option", "redis://:" + secret + "@127.0.0.1:1/0?dial_timeout=abc", "127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			c, closeFn, err := Open(ctx, tc.url, slog.New(slog.NewTextHandler(&logs, nil)))
			if err == nil {
				_ = closeFn()
				_ = c
				t.Fatalf("Open(%s) succeeded; want error", tc.name)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
				t.Fatalf("password leaked: err %q, logs %q", err, logs.String())
			}
			if tc.wantHost != "" && !strings.Contains(err.Error(), tc.wantHost) {
				t.Errorf("error %q should name the host %s", err, tc.wantHost)
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestOpenRealRedis(t *testing.T) {
	t.Parallel()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		u = defaultTestRedisURL
	}
	realRedis(t) // fails or skips consistently when the server is absent
	c, closeFn, err := Open(t.Context(), u, quietLogger)
	if err != nil {
		t.Fatalf("Open(TEST_REDIS_URL): %v", err)
	}
	defer closeFn()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	// Wrong credentials fail without echoing them.
	bad := strings.Replace(u, "://", "://chathub_no_such_user:s3cretPa55@", 1)
	if i := strings.Index(u, "@"); i >= 0 { // TEST_REDIS_URL already has credentials
		bad = "redis://chathub_no_such_user:s3cretPa55@" + u[i+1:]
	}
	if _, _, err := Open(t.Context(), bad, quietLogger); err == nil || strings.Contains(err.Error(), "s3cretPa55") {
		t.Fatalf("Open with wrong credentials: err = %v; want an error without the password", err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"redis://u:pw@h:6379/0", "redis://u:xxxxx@h:6379/0"},
		{"redis://:pw@h:6379", "redis://:xxxxx@h:6379"},
		{"redis://h:6379/1", "redis://h:6379/1"},
		{"redis://u:p%zz@h/0", "redis://u:xxxxx@h/0"}, // unparseable: regex fallback
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	if got := urlPassword("redis://u:p%zz@h/0"); got != "p%zz" {
		t.Errorf("urlPassword(unparseable) = %q", got)
	}
}
