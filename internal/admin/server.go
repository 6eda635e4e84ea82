// Package admin is chathub's HTTP server: health and readiness probes,
// Prometheus metrics, and the mount point for platform webhooks (and, later,
// the managers' API).
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger is a dependency /readyz checks (the CRM database, Redis).
type Pinger interface {
	Ping(ctx context.Context) error
}

// BotStatus is one bot's intake as /readyz reports it.
type BotStatus struct {
	// Platform is "telegram" or "vk".
	Platform string `json:"platform"`
	// Bot is the bot's name: a config file's, or "default" for the bot of
	// the environment variables.
	Bot string `json:"bot"`
	// Intake is "polling" or "webhook".
	Intake string `json:"intake"`
	// State is how the intake last found the platform: starting, ok,
	// unreachable (retrying), unauthorized, conflict or failed; standby
	// for a polled bot that another process polls.
	State string `json:"state"`
	// Stopped is set when the intake has ended for good (a refused token,
	// another consumer of the bot's updates): /readyz then fails.
	Stopped bool `json:"stopped"`
	// Error is why it stopped (no token in it).
	Error string `json:"error,omitempty"`
	// Poller, for a polled bot, is the process that polls it (host, pid and
	// instance id; "" while none does), whichever process answers.
	Poller string `json:"poller,omitempty"`
	// Role, for a polled bot, is "poller" when this process polls it and
	// "standby" when another does or none yet (ready either way: a standby
	// handles its share of the bot's queue and takes over when the poller
	// goes).
	Role string `json:"role,omitempty"`
	// QueuePending, for a polled bot, is how many updates its shared queue
	// held at the last look (fetched, not yet handled); absent when 0.
	QueuePending int64 `json:"queue_pending,omitempty"`
}

// Config configures a Server.
type Config struct {
	// Addr is the listen address. Default ":8080".
	Addr string
	// Checks are pinged by /readyz, by name. Default: none (always ready).
	Checks map[string]Pinger
	// Bots, when set, lists the bots' intakes for /readyz, which fails while
	// one of them has stopped for good.
	Bots func() []BotStatus
	// Gatherer serves /metrics. Default: none (404).
	Gatherer prometheus.Gatherer
	// CheckTimeout bounds each readiness check. Default 2s.
	CheckTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server serves the probes, metrics and mounted handlers.
type Server struct {
	cfg  Config
	mux  *http.ServeMux
	srv  *http.Server
	ln   net.Listener
	done chan error

	mu      sync.Mutex
	failing map[string]bool // readiness checks failing at the last /readyz
}

// New returns a Server with /healthz, /readyz and /metrics routed.
func New(cfg Config) *Server {
	cfg.setDefaults()
	s := &Server{cfg: cfg, mux: http.NewServeMux(), failing: map[string]bool{}}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.HandleFunc("GET /readyz", s.ready)
	if cfg.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Handle mounts h on pattern (webhooks); call before Start.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Start listens on Addr and serves in the background.
func (s *Server) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln, s.done = ln, make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	s.cfg.Logger.Info("http server listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop stops accepting connections and waits for running requests until ctx ends.
func (s *Server) Stop(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// logCheck logs a readiness check when it starts failing and when it
// passes again, not at every probe of an outage.
func (s *Server) logCheck(name string, err error) {
	s.mu.Lock()
	was := s.failing[name]
	s.failing[name] = err != nil
	s.mu.Unlock()
	switch {
	case err != nil && !was:
		s.cfg.Logger.Warn("readiness check failed", "check", name, "err", err)
	case err == nil && was:
		s.cfg.Logger.Info("readiness check passes again", "check", name)
	}
}

// ready pings every check; 503 with the failing names when any fails.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	failed := map[string]string{}
	for name, c := range s.cfg.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
		err := c.Ping(ctx)
		if err != nil {
			failed[name] = "unreachable"
		}
		s.logCheck(name, err)
		cancel()
	}
	var bots []BotStatus
	stopped := false
	if s.cfg.Bots != nil {
		bots = s.cfg.Bots()
		for _, b := range bots {
			stopped = stopped || b.Stopped
		}
	}
	ready := len(failed) == 0 && !stopped
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	names := make([]string, 0, len(s.cfg.Checks))
	for n := range s.cfg.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	status := map[string]string{}
	for _, n := range names {
		status[n] = "ok"
		if v, bad := failed[n]; bad {
			status[n] = v
		}
	}
	body := map[string]any{"ready": ready, "checks": status}
	if bots != nil {
		body["bots"] = bots
	}
	_ = json.NewEncoder(w).Encode(body)
}
