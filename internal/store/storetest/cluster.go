package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// A local Redis Cluster for tests: three masters, no replicas, each a
// redis-server process on a free loopback port (and the port + 10000 for the
// cluster bus) with its files in a temporary directory. It is started once
// per test binary, by the first test that asks for it, and stopped by
// StopRedisCluster (call it from TestMain) or, at the latest, when the test
// binary exits: the servers are started with a parent-death signal.
//
// TEST_REDIS_CLUSTER_URL names an existing cluster instead
// (redis+cluster://host1:port1,host2:port2,…; each test still uses its own
// key prefix). Without it and without redis-server on PATH, the tests that
// need a cluster are skipped, unless CHATHUB_REQUIRE_REDIS_CLUSTER=1 (.ci/run
// sets it), which fails them.

// ClusterMasters is how many masters the local test cluster has.
const ClusterMasters = 3

var (
	clusterOnce sync.Once
	clusterURL  string
	clusterErr  error
	clusterMu   sync.Mutex
	clusterProc []clusterNode
	clusterDir  string
)

// RedisClusterURL returns the redis+cluster:// URL of the test cluster (see
// above), starting the local one on first use. It skips t when no cluster
// can be had and none is required, and fails it otherwise.
func RedisClusterURL(t testing.TB) string {
	t.Helper()
	if os.Getenv("CHATHUB_SKIP_REDIS") == "1" {
		t.Skip("CHATHUB_SKIP_REDIS set")
	}
	if u := os.Getenv("TEST_REDIS_CLUSTER_URL"); u != "" {
		return u
	}
	clusterOnce.Do(func() { clusterURL, clusterErr = startCluster() })
	if clusterErr != nil {
		if os.Getenv("CHATHUB_REQUIRE_REDIS_CLUSTER") == "1" || !errors.Is(clusterErr, exec.ErrNotFound) {
			t.Fatalf("local Redis Cluster: %v", clusterErr)
		}
		t.Skipf("local Redis Cluster unavailable (install redis-server, or set TEST_REDIS_CLUSTER_URL; "+
			"CHATHUB_REQUIRE_REDIS_CLUSTER=1 makes this a failure): %v", clusterErr)
	}
	return clusterURL
}

// StopRedisCluster stops the local test cluster, if this process started
// one, and removes its files. Call it from TestMain after m.Run.
func StopRedisCluster() {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	for _, n := range clusterProc {
		_ = n.proc.Kill()
		select {
		case <-n.exited:
		case <-time.After(5 * time.Second):
		}
	}
	clusterProc = nil
	if clusterDir != "" {
		_ = os.RemoveAll(clusterDir)
		clusterDir = ""
	}
}

// RedisClusterClient returns a client of the test cluster, closed when t ends.
func RedisClusterClient(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	opts, err := clusterOptions(RedisClusterURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClusterClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RedisClusterPrefix returns a fresh key prefix on the test cluster whose
// keys are deleted, on every master, when t ends.
func RedisClusterPrefix(t testing.TB) string {
	t.Helper()
	prefix := Name(t, "t")
	CleanRedisClusterPrefix(t, prefix)
	return prefix
}

// CleanRedisClusterPrefix deletes every key under prefix from every master
// of the test cluster when t ends.
func CleanRedisClusterPrefix(t testing.TB, prefix string) {
	t.Helper()
	opts, err := clusterOptions(RedisClusterURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := goredis.NewClusterClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			iter := m.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				m.Del(ctx, iter.Val())
			}
			return iter.Err()
		})
		if err != nil {
			t.Errorf("clean redis cluster prefix %s: %v", prefix, err)
		}
	})
}

// clusterOptions reads a redis+cluster:// URL the way the store does, for
// the tests' own clients (storetest must not import the store).
func clusterOptions(raw string) (*goredis.ClusterOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "redis+cluster" && scheme != "rediss+cluster") {
		return nil, fmt.Errorf("TEST_REDIS_CLUSTER_URL: want redis+cluster://host:port,…")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	opts := &goredis.ClusterOptions{}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		u, err := url.Parse("redis://" + auth[:at+1] + "x")
		if err != nil {
			return nil, fmt.Errorf("TEST_REDIS_CLUSTER_URL: %w", err)
		}
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
		auth = auth[at+1:]
	}
	opts.Addrs = strings.Split(auth, ",")
	return opts, nil
}

// startCluster starts the local cluster and returns its URL.
func startCluster() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server: %w", err)
	}
	dir, err := os.MkdirTemp("", "chathub-redis-cluster-")
	if err != nil {
		return "", err
	}
	clusterMu.Lock()
	clusterDir = dir
	clusterMu.Unlock()
	var addrs []string
	for i := range ClusterMasters {
		addr, err := startNode(bin, dir, i)
		if err != nil {
			StopRedisCluster()
			return "", err
		}
		addrs = append(addrs, addr)
	}
	if err := formCluster(addrs); err != nil {
		StopRedisCluster()
		return "", err
	}
	return "redis+cluster://" + strings.Join(addrs, ","), nil
}

// startNode starts cluster node i on a free port pair and waits until it
// answers; it returns the node's address.
func startNode(bin, dir string, i int) (string, error) {
	var lastErr error
	for range 20 {
		port := freePortPair()
		if port == 0 {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command(bin,
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
			"--cluster-node-timeout", "5000",
			"--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, fmt.Sprintf("node-%d.log", i)))
		if err := startOrphanSafe(cmd); err != nil {
			return "", fmt.Errorf("start redis-server: %w", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitPing(addr, exited); err != nil {
			_ = cmd.Process.Kill()
			lastErr = fmt.Errorf("redis-server on %s: %w (log: %s)", addr, err,
				filepath.Join(dir, fmt.Sprintf("node-%d.log", i)))
			continue // the port was taken meanwhile: try another
		}
		clusterMu.Lock()
		clusterProc = append(clusterProc, clusterNode{proc: cmd.Process, exited: exited})
		clusterMu.Unlock()
		return addr, nil
	}
	return "", lastErr
}

// freePortPair returns a port p such that p and p+10000 (the cluster bus)
// are free on the loopback interface now, 0 when the try found none.
func freePortPair() int {
	p := 20000 + rand.IntN(20000)
	for _, q := range []int{p, p + 10000} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(q)))
		if err != nil {
			return 0
		}
		_ = l.Close()
	}
	return p
}

// waitPing waits until the server at addr answers PING, or it exits.
func waitPing(addr string, exited <-chan error) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("exited: %v", werr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer: %w", err)
		}
	}
}

// formCluster splits the 16384 slots evenly among the nodes, makes them
// meet (as redis-cli --cluster create does) and waits until every node
// reports the cluster ok and a cluster client reaches every master.
func formCluster(addrs []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clients := make([]*goredis.Client, len(addrs))
	for i, a := range addrs {
		clients[i] = goredis.NewClient(&goredis.Options{Addr: a})
		defer clients[i].Close()
	}
	const slots = 16384
	for i, c := range clients {
		from, to := i*slots/len(addrs), (i+1)*slots/len(addrs)-1
		args := []any{"cluster", "addslots"}
		for s := from; s <= to; s++ {
			args = append(args, s)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("cluster addslots %d-%d on %s: %w", from, to, addrs[i], err)
		}
		if err := c.Do(ctx, "cluster", "set-config-epoch", i+1).Err(); err != nil {
			return fmt.Errorf("cluster set-config-epoch on %s: %w", addrs[i], err)
		}
	}
	for _, a := range addrs[1:] {
		host, port, _ := net.SplitHostPort(a)
		if err := clients[0].Do(ctx, "cluster", "meet", host, port).Err(); err != nil {
			return fmt.Errorf("cluster meet %s: %w", a, err)
		}
	}
	for i, c := range clients {
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(addrs))) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("cluster on %s not ok in time: %v %q", addrs[i], err, info)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	for {
		n := 0
		err := cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			clusterMu.Lock()
			n++
			clusterMu.Unlock()
			return m.Ping(ctx).Err()
		})
		if err == nil && n == len(addrs) {
			return nil
		}
		cc.ReloadState(ctx)
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster client sees %d of %d masters: %v", n, len(addrs), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startOrphanSafe starts cmd from an OS thread that lives as long as the
// process, so a parent-death signal (where the platform has one) kills the
// server when the test binary exits without StopRedisCluster.
func startOrphanSafe(cmd *exec.Cmd) error {
	starterOnce.Do(func() {
		starter = make(chan startReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives until exit
			for r := range starter {
				setParentDeathSignal(r.cmd)
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	starter <- startReq{cmd: cmd, done: done}
	return <-done
}

// clusterNode is a running server of the local cluster.
type clusterNode struct {
	proc   *os.Process
	exited <-chan error // receives once the process ended (and was reaped)
}

type startReq struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	starterOnce sync.Once
	starter     chan startReq
)
