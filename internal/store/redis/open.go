package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

// openPingTimeout bounds the connection check in Open when ctx has no deadline.
const openPingTimeout = 10 * time.Second

// Open connects to Redis and checks that it answers.
//
// rawURL is "redis://[user:password@]host:port/db" or "rediss://…" (TLS),
// with go-redis query options allowed, or a Redis Cluster's
// "redis+cluster://host1:7000,host2:7001,…" ("rediss+cluster://" for TLS,
// see cluster.go), opened as a *goredis.ClusterClient behind the same
// UniversalClient. An empty rawURL starts an in-process
// Redis-compatible server (miniredis) and connects to it: the zero-config
// embedded default, where conversation state lives in memory and is lost on
// exit. The returned close func closes the client and, if one was started,
// the embedded server; it is safe to call more than once.
//
// Errors and logs name the host but never the password. go-redis's own log
// lines go to logger at debug level (see routeClientLogs).
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (goredis.UniversalClient, func() error, error) {
	if logger == nil {
		logger = slog.Default()
	}
	routeClientLogs(logger)
	if strings.TrimSpace(rawURL) == "" {
		return openEmbedded(ctx, logger)
	}
	if isClusterURL(rawURL) {
		return openCluster(ctx, rawURL, logger)
	}
	return openURL(ctx, rawURL, logger)
}

// clientLogger is where go-redis' own log lines go: the logger of the
// latest Open (go-redis has one logger per process).
var (
	clientLogger   atomic.Pointer[slog.Logger]
	clientLogsOnce sync.Once
)

// routeClientLogs sends go-redis' own log lines ("connection pool: failed
// to dial after 5 attempts: …", written to stderr by default, several per
// second while Redis is down) to logger at debug level. The store's callers
// report an outage in their own words; the client's lines are detail for
// LOG_LEVEL=debug.
func routeClientLogs(logger *slog.Logger) {
	clientLogger.Store(logger)
	clientLogsOnce.Do(func() { goredis.SetLogger(clientLog{}) })
}

// clientLog is go-redis' internal.Logging over clientLogger.
type clientLog struct{}

// Printf implements go-redis' logger interface.
func (clientLog) Printf(ctx context.Context, format string, v ...any) {
	l := clientLogger.Load()
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	l.DebugContext(ctx, "redis client: "+msg)
}

// openURL connects to the Redis server named by rawURL.
func openURL(ctx context.Context, rawURL string, logger *slog.Logger) (goredis.UniversalClient, func() error, error) {
	safe, password := redactURL(rawURL), urlPassword(rawURL)
	scheme, _, _ := strings.Cut(rawURL, "://")
	if scheme != "redis" && scheme != "rediss" {
		return nil, nil, fmt.Errorf("redis: REDIS_URL for %s: scheme must be redis://, rediss://, redis+cluster:// or rediss+cluster://", urlHost(rawURL))
	}
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: REDIS_URL for %s: %w", urlHost(rawURL), scrub(err, rawURL, safe, password))
	}
	client := goredis.NewClient(opts)
	if err := pingWithTimeout(ctx, client); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("redis: connect to %s (db %d): %w",
			opts.Addr, opts.DB, scrub(err, rawURL, safe, password, opts.Password))
	}
	logger.Info("redis connected", "addr", opts.Addr, "db", opts.DB, "tls", opts.TLSConfig != nil)
	return client, onceFunc(client.Close), nil
}

// openEmbedded starts miniredis and connects a client to it.
func openEmbedded(ctx context.Context, logger *slog.Logger) (goredis.UniversalClient, func() error, error) {
	srv, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("redis: start embedded server: %w", err)
	}
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	if err := pingWithTimeout(ctx, client); err != nil {
		_ = client.Close()
		srv.Close()
		return nil, nil, fmt.Errorf("redis: connect to embedded server at %s: %w", srv.Addr(), err)
	}
	logger.Info("REDIS_URL is not set: using an in-process Redis (miniredis); "+
		"conversation state is kept in memory and lost on exit", "addr", srv.Addr())
	stopClock := runClock(srv, embeddedClockTick)
	return client, onceFunc(func() error {
		stopClock()
		err := client.Close()
		srv.Close()
		return err
	}), nil
}

// embeddedClockTick is how often the embedded server's clock follows wall time.
const embeddedClockTick = 100 * time.Millisecond

// runClock makes miniredis expire keys as real Redis does: its TTLs only
// decrease through FastForward, so a ticker advances them by the wall time
// that passed. The returned func stops the ticker.
func runClock(srv *miniredis.Miniredis, tick time.Duration) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(tick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				srv.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// pingWithTimeout pings c, bounding the wait when ctx has no deadline.
func pingWithTimeout(ctx context.Context, c goredis.UniversalClient) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openPingTimeout)
		defer cancel()
	}
	return c.Ping(ctx).Err()
}

// onceFunc makes f run at most once; later calls return the first result.
func onceFunc(f func() error) func() error {
	var (
		once sync.Once
		err  error
	)
	return func() error {
		once.Do(func() { err = f() })
		return err
	}
}

// userinfoRE matches "//user:password@" (or "//:password@") in a URL that
// net/url could not parse.
var userinfoRE = regexp.MustCompile(`//([^/@:]*):([^/@]*)@`)

// urlPassword extracts the password from rawURL, even when net/url cannot
// parse it, so it can be scrubbed from error texts.
func urlPassword(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		p, _ := u.User.Password()
		return p
	}
	if m := userinfoRE.FindStringSubmatch(rawURL); m != nil {
		return m[2]
	}
	return ""
}

// urlHost returns the host[:port] part of rawURL for messages, or
// "an unparseable URL" when there is none.
func urlHost(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return u.Host
	}
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		if i := strings.LastIndexByte(rest, '@'); i >= 0 {
			rest = rest[i+1:]
		}
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[:i]
		}
		if rest != "" {
			return rest
		}
	}
	return "an unparseable URL"
}

// redactURL returns rawURL with any password replaced by "xxxxx".
func redactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Redacted()
	}
	return userinfoRE.ReplaceAllString(rawURL, "//${1}:xxxxx@")
}

// scrub returns err unchanged when its text contains none of the secrets
// (the raw URL, the password); otherwise a plain error with the raw URL
// replaced by safe and any password replaced by "xxxxx".
func scrub(err error, rawURL, safe string, passwords ...string) error {
	msg := err.Error()
	leaked := rawURL != safe && strings.Contains(msg, rawURL)
	for _, p := range passwords {
		if p != "" && strings.Contains(msg, p) {
			leaked = true
		}
	}
	if !leaked {
		return err
	}
	msg = strings.ReplaceAll(msg, rawURL, safe)
	for _, p := range passwords {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return errors.New(msg)
}
