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
	okBot := BotStatus{Platform: "telegram", Bot: "default", Intake: "polling", State: "ok"}
	unreachable := BotStatus{Platform: "vk", Bot: "shop", Intake: "polling", State: "unreachable"}
	refused := BotStatus{Platform: "telegram", Bot: "club", Intake: "polling", State: "unauthorized", Stopped: true,
		Error: "telegram: polling stopped: telegram: getUpdates: 401 Unauthorized"}
	stores := map[string]Pinger{"postgres": pinger{}, "redis": pinger{}}
	tests := []struct {
		name   string
		checks map[string]Pinger
		bots   []BotStatus
		path   string
		method string
		code   int
		body   string
	}{
		{"bots ok", stores, []BotStatus{okBot}, "/readyz", "GET", 200, `"bots":[{"platform":"telegram","bot":"default","intake":"polling","state":"ok","stopped":false}]`},
		{"bot unreachable, retrying", stores, []BotStatus{okBot, unreachable}, "/readyz", "GET", 200, `"state":"unreachable"`},
		{"bot stopped for good", stores, []BotStatus{okBot, refused}, "/readyz", "GET", 503, `"ready":false`},
		{"healthz with a stopped bot", stores, []BotStatus{refused}, "/healthz", "GET", 200, "ok"},
		{"healthz", nil, nil, "/healthz", "GET", 200, "ok"},
		{"ready", map[string]Pinger{"postgres": pinger{}, "redis": pinger{}}, nil, "/readyz", "GET", 200, `"ready":true`},
		{"not ready", map[string]Pinger{"postgres": pinger{}, "redis": pinger{errors.New("dial tcp: refused password=secret")}}, nil, "/readyz", "GET", 503, `"redis":"unreachable"`},
		{"metrics", nil, nil, "/metrics", "GET", 200, "chathub_test_total 1"},
		{"wrong method", nil, nil, "/healthz", "POST", 405, ""},
		{"unknown path", nil, nil, "/nope", "GET", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Addr: "127.0.0.1:0", Checks: tt.checks, Gatherer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if tt.bots != nil {
				cfg.Bots = func() []BotStatus { return tt.bots }
			}
			s := New(cfg)
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
