package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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

// switchPinger fails while err is set.
type switchPinger struct {
	mu  sync.Mutex
	err error
}

func (p *switchPinger) Ping(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *switchPinger) set(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// TestReadinessLoggedAtChanges: an outage seen by many /readyz probes is
// one warning when the check starts failing and one line when it passes
// again.
func TestReadinessLoggedAtChanges(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	redis := &switchPinger{}
	s := New(Config{Addr: "127.0.0.1:0", Checks: map[string]Pinger{"redis": redis},
		Logger: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logs.Write(p)
		}), nil))})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	probe := func(want int) {
		t.Helper()
		resp, err := http.Get("http://" + s.Addr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("/readyz = %d, want %d", resp.StatusCode, want)
		}
	}
	probe(200)
	redis.set(errors.New("connection refused"))
	for range 5 {
		probe(503)
	}
	redis.set(nil)
	probe(200)
	probe(200)
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "readiness check failed"); n != 1 {
		t.Errorf("%d failure lines for one outage:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "readiness check passes again"); n != 1 {
		t.Errorf("%d recovery lines:\n%s", n, logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
