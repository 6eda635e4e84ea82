package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestPollingThroughputProcesses measures, for docs/BENCHMARKS.md ("Issue
// 15"), the throughput of one bot long polled by one `chathub run` against
// three (one polls, all three handle through the Redis queue): clients
// walk the portrait survey as fast as the replies come (closed loop), and
// the CPU the chathub processes used during the load (utime + stime from
// /proc) is divided by the updates. Rounds alternate 1, 3, 1, 3, …. Run it
// with
//
//	CHATHUB_POLL_BENCH=1 go test -run TestPollingThroughputProcesses -v -count=1 ./internal/cli/
//
// CHATHUB_POLL_CLIENTS (default 300) and CHATHUB_POLL_ROUNDS (default 3 per
// size) tune it.
func TestPollingThroughputProcesses(t *testing.T) {
	if os.Getenv("CHATHUB_POLL_BENCH") != "1" {
		t.Skip("a measurement: set CHATHUB_POLL_BENCH=1")
	}
	storetest.SkipUnlessServices(t)
	clients, rounds := envInt("CHATHUB_POLL_CLIENTS", 300), envInt("CHATHUB_POLL_ROUNDS", 3)
	for r := range rounds {
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("round%d/%dproc", r+1, n), func(t *testing.T) {
				rate, cpu := measurePolling(t, n, clients)
				t.Logf("RESULT processes=%d clients=%d updates=%d: %.0f updates/s, %.0f µs CPU/update (chathub processes)",
					n, clients, clients*len(crashScript), rate, cpu)
			})
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// measurePolling runs one round: n processes, clients walking the survey.
func measurePolling(t *testing.T, n, clients int) (perSecond, cpuPerUpdate float64) {
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
	pc := startPollCluster(t, fake, n)
	waitFor(t, "one process polls", 30*time.Second, func() bool {
		alive := make([]int, n)
		for i := range alive {
			alive[i] = i
		}
		return pc.poller(alive) >= 0
	})
	walk(t, fake, 500, crashScript, 0) // warm up: scenario, connections
	before := pc.cpu(t)
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
	used := pc.cpu(t) - before
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range pc.procs {
		c.stop()
	}
	updates := float64(clients * len(crashScript))
	return updates / elapsed.Seconds(), float64(used.Microseconds()) / updates
}

// cpu returns the CPU time (user + system) the cluster's processes used so
// far, from /proc/<pid>/stat (clock ticks of 10 ms).
func (pc *pollCluster) cpu(t *testing.T) time.Duration {
	t.Helper()
	var total time.Duration
	for _, c := range pc.procs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
		if err != nil {
			t.Fatalf("read the process's CPU: %v", err)
		}
		// Fields after the command name (which may hold spaces) in parentheses.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		utime, _ := strconv.Atoi(f[11])
		stime, _ := strconv.Atoi(f[12])
		total += time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return total
}
