package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func TestProbes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "chathub_test_total", Help: "x"})
	reg.MustRegister(c)
	c.Inc()
	tests := []struct {
		name   string
		checks map[string]Pinger
		path   string
		method string
		code   int
		body   string
	}{
		{"healthz", nil, "/healthz", "GET", 200, "ok"},
		{"ready", map[string]Pinger{"postgres": pinger{}, "redis": pinger{}}, "/readyz", "GET", 200, `"ready":true`},
		{"not ready", map[string]Pinger{"postgres": pinger{}, "redis": pinger{errors.New("dial tcp: refused password=secret")}}, "/readyz", "GET", 503, `"redis":"unreachable"`},
		{"metrics", nil, "/metrics", "GET", 200, "chathub_test_total 1"},
		{"wrong method", nil, "/healthz", "POST", 405, ""},
		{"unknown path", nil, "/nope", "GET", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(Config{Addr: "127.0.0.1:0", Checks: tt.checks, Gatherer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
			req, _ := http.NewRequest(tt.method, "http://"+s.Addr()+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.body) {
				t.Fatalf("%s %s = %d %q", tt.method, tt.path, resp.StatusCode, body)
			}
			if strings.Contains(string(body), "secret") {
				t.Fatalf("readiness leaks error details: %s", body)
			}
		})
	}
}
