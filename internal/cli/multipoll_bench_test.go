package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/platformtest/proccpu"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/relay"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestPollingThroughputProcesses measures, for docs/BENCHMARKS.md ("Issue
// 15"), the throughput of one bot long polled by one `chathub run` against
// three (one polls, all three handle through the Redis queue): clients
// walk the portrait survey as fast as the replies come (closed loop), and
// the CPU the chathub processes used during the load (utime + stime from
// /proc, each process) and the CPU of the Redis servers (INFO cpu of the
// single server or of every cluster master) are divided by the updates.
// Rounds alternate 1, 3, 1, 3, …. Run it with
//
//	CHATHUB_POLL_BENCH=1 go test -run TestPollingThroughputProcesses -v -count=1 ./internal/cli/
//
// CHATHUB_POLL_CLIENTS (default 300) and CHATHUB_POLL_ROUNDS (default 3 per
// size) tune it; CHATHUB_POLL_REDIS is "single" (TEST_REDIS_URL, the
// default), "cluster" (the local Redis Cluster) or "both" (alternating
// within each round). The Redis CPU counts everything the servers did
// meanwhile: give the single-Redis runs a private server.
func TestPollingThroughputProcesses(t *testing.T) {
	if os.Getenv("CHATHUB_POLL_BENCH") != "1" {
		t.Skip("a measurement: set CHATHUB_POLL_BENCH=1")
	}
	storetest.SkipUnlessServices(t)
	clients, rounds := envInt("CHATHUB_POLL_CLIENTS", 300), envInt("CHATHUB_POLL_ROUNDS", 3)
	var kinds []bool // onCluster
	switch os.Getenv("CHATHUB_POLL_REDIS") {
	case "", "single":
		kinds = []bool{false}
	case "cluster":
		kinds = []bool{true}
	case "both":
		kinds = []bool{false, true}
	default:
		t.Fatalf("CHATHUB_POLL_REDIS %q: want single, cluster or both", os.Getenv("CHATHUB_POLL_REDIS"))
	}
	for r := range rounds {
		for _, onCluster := range kinds {
			for _, n := range []int{1, 3} {
				redis := "single"
				if onCluster {
					redis = "cluster"
				}
				t.Run(fmt.Sprintf("round%d/%s/%dproc", r+1, redis, n), func(t *testing.T) {
					m := measurePolling(t, n, clients, onCluster)
					procs := make([]string, len(m.procCPU))
					for i, c := range m.procCPU {
						procs[i] = fmt.Sprintf("%.0f", c)
						if i == m.poller {
							procs[i] += "(poller)"
						}
					}
					t.Logf("RESULT redis=%s processes=%d clients=%d updates=%d: %.0f updates/s, %.0f µs CPU/update (chathub processes: %s), redis-server %.0f µs CPU/update; load %s",
						redis, n, clients, clients*len(crashScript), m.rate, m.total(), strings.Join(procs, " + "), m.redisCPU, loadAvg())
				})
			}
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// pollMeasure is one round's result.
type pollMeasure struct {
	rate     float64   // updates/s
	procCPU  []float64 // µs CPU per update, each chathub process
	poller   int       // the index of the polling process
	redisCPU float64   // µs CPU per update, the Redis servers together
}

func (m pollMeasure) total() float64 {
	var s float64
	for _, c := range m.procCPU {
		s += c
	}
	return s
}

// measurePolling runs one round: n processes, clients walking the survey.
func measurePolling(t *testing.T, n, clients int, onCluster bool) pollMeasure {
	fake := telegramtest.New(t)
	replies := make(map[int64]chan struct{}, clients)
	for i := range clients {
		replies[int64(20000+i)] = make(chan struct{}, len(crashScript)*2)
	}
	fake.SetOnSend(func(user int64, _ telegramtest.Sent) {
		if ch, ok := replies[user]; ok {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	})
	pc := startPollCluster(t, fake, n, onCluster)
	alive := make([]int, n)
	for i := range alive {
		alive[i] = i
	}
	var m pollMeasure
	waitFor(t, "one process polls", 30*time.Second, func() bool { m.poller = pc.poller(alive); return m.poller >= 0 })
	pc.waitBalanced(relay.DefaultPartitions)
	walk(t, fake, 500, crashScript, 0) // warm up: scenario, connections
	before, redisBefore := pc.cpu(t), redisCPU(t, onCluster)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for user, ch := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, text := range crashScript {
				fake.SendText(user, text)
				select {
				case <-ch:
				case <-time.After(2 * time.Minute):
					errs <- fmt.Errorf("user %d: no reply to message %d", user, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	after, redisAfter := pc.cpu(t), redisCPU(t, onCluster)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range pc.procs {
		c.stop()
	}
	updates := float64(clients * len(crashScript))
	m.rate = updates / elapsed.Seconds()
	for i := range after {
		m.procCPU = append(m.procCPU, float64((after[i]-before[i]).Microseconds())/updates)
	}
	m.redisCPU = float64((redisAfter - redisBefore).Microseconds()) / updates
	return m
}

// waitBalanced waits until the processes hold the n queue partitions
// between them, each its share (chathub_queue_partitions of /metrics): a
// process that just started takes its partitions from the others within a
// few seconds.
func (pc *pollCluster) waitBalanced(n int) {
	pc.t.Helper()
	share := n / len(pc.procs)
	start := time.Now()
	defer func() {
		pc.t.Logf("queue partitions balanced over %d processes %s after the last was ready", len(pc.procs), time.Since(start).Round(10*time.Millisecond))
	}()
	waitFor(pc.t, "the queue partitions balanced", time.Minute, func() bool {
		total := 0
		for _, u := range pc.urls {
			held := queuePartitions(u)
			if held < share {
				return false
			}
			total += held
		}
		return total == n
	})
}

// queuePartitions reads chathub_queue_partitions from a process's /metrics
// (-1 when it cannot).
func queuePartitions(url string) int {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "chathub_queue_partitions{") {
			f := strings.Fields(line)
			n, err := strconv.Atoi(f[len(f)-1])
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// cpu returns the CPU time (user + system) each of the cluster's processes
// used so far, from /proc/<pid>/stat (clock ticks of 10 ms).
func (pc *pollCluster) cpu(t *testing.T) []time.Duration {
	t.Helper()
	var out []time.Duration
	for _, c := range pc.procs {
		out = append(out, proccpu.Of(c.cmd.Process.Pid))
	}
	return out
}

// redisCPU returns the CPU time the Redis server (TEST_REDIS_URL), or
// every master of the test cluster, used so far (INFO cpu:
// used_cpu_sys + used_cpu_user).
func redisCPU(t *testing.T, onCluster bool) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if onCluster {
		var mu sync.Mutex
		var total time.Duration
		err := storetest.RedisClusterClient(t).ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			d, err := infoCPU(ctx, c)
			mu.Lock()
			total += d
			mu.Unlock()
			return err
		})
		if err != nil {
			t.Fatalf("redis cluster CPU: %v", err)
		}
		return total
	}
	opt, err := goredis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	d, err := infoCPU(ctx, c)
	if err != nil {
		t.Fatalf("redis CPU: %v", err)
	}
	return d
}

func infoCPU(ctx context.Context, c *goredis.Client) (time.Duration, error) {
	raw, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, err
	}
	var total float64
	for _, line := range strings.Split(raw, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second)), nil
}

// loadAvg is the machine's load averages (/proc/loadavg), for the record.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// TestPollingIdleCost measures, for docs/BENCHMARKS.md ("Issue 15"), what
// one bot long polled by one or three `chathub run` processes costs with
// no traffic at all: the Redis commands per second (INFO commandstats,
// scripts counted once and with the commands they run) and the CPU of the
// processes and of the Redis server over CHATHUB_POLL_IDLE_SECONDS
// (default 20). Give it a private Redis (TEST_REDIS_URL) so that nothing
// else counts:
//
//	CHATHUB_POLL_BENCH=1 TEST_REDIS_URL=redis://127.0.0.1:6431/0 \
//	  go test -run TestPollingIdleCost -v -count=1 ./internal/cli/
func TestPollingIdleCost(t *testing.T) {
	if os.Getenv("CHATHUB_POLL_BENCH") != "1" {
		t.Skip("a measurement: set CHATHUB_POLL_BENCH=1")
	}
	storetest.SkipUnlessServices(t)
	secs := envInt("CHATHUB_POLL_IDLE_SECONDS", 20)
	opt, err := goredis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%dproc", n), func(t *testing.T) {
			fake := telegramtest.New(t)
			pc := startPollCluster(t, fake, n, false)
			time.Sleep(3 * time.Second) // settle: leases, partitions
			calls0 := fake.Calls("getUpdates")
			before, redisBefore := pc.cpu(t), redisCPU(t, false)
			stats0 := commandCalls(ctx, t, rdb)
			start := time.Now()
			time.Sleep(time.Duration(secs) * time.Second)
			elapsed := time.Since(start).Seconds()
			stats1 := commandCalls(ctx, t, rdb)
			after, redisAfter := pc.cpu(t), redisCPU(t, false)
			var total int64
			var parts []string
			for cmd, c := range stats1 {
				if d := c - stats0[cmd]; d > 0 && cmd != "info" {
					total += d
					parts = append(parts, fmt.Sprintf("%s %.2f/s", cmd, float64(d)/elapsed))
				}
			}
			slices.Sort(parts)
			var procs []string
			for i := range after {
				procs = append(procs, fmt.Sprintf("%.2f%%", 100*(after[i]-before[i]).Seconds()/elapsed))
			}
			t.Logf("RESULT idle, %d process(es), %.0f s: Redis %.1f commands/s (%s); redis-server CPU %.2f%%; chathub CPU %s of a core; getUpdates %.2f/s; load %s",
				n, elapsed, float64(total)/elapsed, strings.Join(parts, ", "), 100*(redisAfter-redisBefore).Seconds()/elapsed,
				strings.Join(procs, " + "), float64(fake.Calls("getUpdates")-calls0)/elapsed, loadAvg())
			for _, c := range pc.procs {
				c.stop()
			}
		})
	}
}

// commandCalls returns the calls of each command so far (INFO
// commandstats; commands run by scripts included).
func commandCalls(ctx context.Context, t *testing.T, rdb *goredis.Client) map[string]int64 {
	t.Helper()
	raw, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(raw, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out
}
