package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			http.Error(w, "redis: unreachable", http.StatusServiceUnavailable)
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	tests := []struct {
		name   string
		addr   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"ready fails", ":" + port, []string{"probe"}, 1, "", "503"},
		{"healthz ok", ":" + port, []string{"probe", "--path", "/healthz"}, 0, "200 OK", ""},
		{"explicit host", "127.0.0.1:" + port, []string{"probe", "--path", "/healthz"}, 0, "200 OK", ""},
		{"nobody listens", "127.0.0.1:1", []string{"probe"}, 1, "", "127.0.0.1:1"},
		{"bad path", ":" + port, []string{"probe", "--path", "readyz"}, 2, "", "usage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runMain(t, map[string]string{"HTTP_ADDR": tc.addr}, "", tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("code %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
	if got := probeHost("[::]:8080"); got != "[::1]:8080" {
		t.Errorf("probeHost([::]:8080) = %s", got)
	}
}
