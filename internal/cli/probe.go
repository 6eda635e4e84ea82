package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/config"
)

// runProbe asks this host's chathub HTTP server (HTTP_ADDR) for a probe,
// /readyz by default, and exits 0 when it answers 200 and 1 otherwise: the
// container healthcheck of an image without a shell or curl
// (docker-compose.replicated.yml).
func runProbe(ctx context.Context, env *Env, cfg config.Config, _ *slog.Logger) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	path := fs.String("path", "/readyz", "the probe's path: /readyz (ready for traffic) or /healthz (alive)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(env.Args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || !strings.HasPrefix(*path, "/") || *timeout <= 0 {
		fmt.Fprintln(env.Stderr, "chathub probe: usage: probe [--path /readyz|/healthz] [--timeout 3s]")
		return 2
	}
	url := "http://" + probeHost(cfg.HTTPAddr) + *path
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub probe: %v\n", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub probe: %s: %v\n", url, err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "chathub probe: %s: %s\n%s\n", url, resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	fmt.Fprintf(env.Stdout, "%s: %s\n", url, resp.Status)
	return 0
}

// probeHost is where a probe reaches HTTP_ADDR from the same host: its
// port on the loopback interface when it listens on every interface.
func probeHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
