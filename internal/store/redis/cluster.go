package redis

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster URL schemes: REDIS_URL names a Redis Cluster with
//
//	redis+cluster://[user:password@]host1:7000,host2:7001,host3:7002[/][?option=value&…]
//	rediss+cluster://…   the same over TLS (each node's certificate is checked against its own host)
//
// The hosts are seed nodes: go-redis asks them for the slot map and finds
// every other master and replica itself, so two or three of them are
// enough. A missing port is 6379. There is no database number (a cluster
// has only database 0: a path other than "/" or "/0" is refused). The
// options are go-redis' cluster URL options (ParseClusterURL), e.g.
// dial_timeout, read_timeout, write_timeout, pool_size, max_redirects,
// max_retries, read_only, route_by_latency, route_randomly.
const (
	clusterScheme    = "redis+cluster"
	clusterTLSScheme = "rediss+cluster"
)

// isClusterURL reports whether rawURL names a Redis Cluster.
func isClusterURL(rawURL string) bool {
	scheme, _, _ := strings.Cut(rawURL, "://")
	return scheme == clusterScheme || scheme == clusterTLSScheme
}

// ParseClusterURL turns a redis+cluster:// or rediss+cluster:// URL (see
// the schemes above) into go-redis cluster options. Errors may contain the
// URL: callers scrub them (Open does).
func ParseClusterURL(rawURL string) (*goredis.ClusterOptions, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || (scheme != clusterScheme && scheme != clusterTLSScheme) {
		return nil, fmt.Errorf("scheme must be %s:// or %s://", clusterScheme, clusterTLSScheme)
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	var hosts []string
	for _, h := range strings.Split(authority, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), "6379")
		}
		host, port, err := net.SplitHostPort(h)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("cluster node %q: want host:port", h)
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no cluster node: want %s://host1:port1,host2:port2,…", scheme)
	}
	path, query, _ := strings.Cut(tail, "?")
	path, _, _ = strings.Cut(path, "#")
	query, _, _ = strings.Cut(query, "#")
	if path != "" && path != "/" && path != "/0" {
		return nil, fmt.Errorf("database %q: a Redis Cluster has only database 0", strings.TrimPrefix(path, "/"))
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	base := "redis"
	if scheme == clusterTLSScheme {
		base = "rediss"
	}
	opts, err := goredis.ParseClusterURL(base + "://" + userinfo + hosts[0] + "/?" + q.Encode())
	if err != nil {
		return nil, err
	}
	if opts.TLSConfig != nil {
		// go-redis names the first seed as the server of every node; with
		// no name, each TLS dial checks the certificate against the host it
		// dials (crypto/tls.DialWithDialer).
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opts, nil
}

// openCluster connects to the Redis Cluster named by rawURL and checks that
// every master answers.
func openCluster(ctx context.Context, rawURL string, logger *slog.Logger) (goredis.UniversalClient, func() error, error) {
	safe, password := redactURL(rawURL), urlPassword(rawURL)
	opts, err := ParseClusterURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: REDIS_URL for %s: %w", urlHost(rawURL), scrub(err, rawURL, safe, password))
	}
	client := goredis.NewClusterClient(opts)
	masters, err := pingMasters(ctx, client)
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("redis: connect to cluster %s: %w",
			strings.Join(opts.Addrs, ","), scrub(err, rawURL, safe, password, opts.Password))
	}
	logger.Info("redis cluster connected", "seeds", strings.Join(opts.Addrs, ","), "masters", masters,
		"tls", opts.TLSConfig != nil)
	return client, onceFunc(client.Close), nil
}

// pingMasters pings every master of the cluster (bounding the wait when ctx
// has no deadline) and returns how many answered.
func pingMasters(ctx context.Context, c *goredis.ClusterClient) (int, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openPingTimeout)
		defer cancel()
	}
	var n atomic.Int32
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		if err := m.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("master %s: %w", m.Options().Addr, err)
		}
		n.Add(1)
		return nil
	})
	return int(n.Load()), err
}
