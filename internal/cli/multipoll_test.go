package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// pollCluster is several `chathub run` processes long polling one bot of
// the fake Bot API, on one PostgreSQL schema and one Redis prefix.
type pollCluster struct {
	t     *testing.T
	procs []*child
	urls  []string
	// redisURL and prefix are the Redis (single or cluster) the processes use.
	redisURL, prefix string
}

// pollRedis returns the Redis URL and a fresh key prefix, deleted when t
// ends, for a pollCluster: the shared Redis, or with onCluster the local
// three-master Redis Cluster of storetest (started on first use).
func pollRedis(t *testing.T, onCluster bool) (url, prefix string) {
	t.Helper()
	if onCluster {
		return storetest.RedisClusterURL(t), storetest.RedisClusterPrefix(t)
	}
	prefix = storetest.Name(t, "poll")
	t.Cleanup(func() { cleanRedisPrefix(t, prefix) })
	return storetest.RedisURL(), prefix
}

// redisHost is a Redis URL's scheme and host only, for logs: the URL may
// carry a password.
func redisHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "redis"
	}
	return u.Scheme + "://" + u.Host
}

// pollPlatform is a fake platform the cluster long polls.
type pollPlatform struct {
	name string
	env  []string // the bot's variables
	send func(user int64, text string)
	// replies returns the texts the bot sent the user so far.
	replies func(user int64) []string
	// overlaps returns when a long poll overlapped another (two pollers).
	overlaps func() []time.Time
}

func telegramPlatform(fake *telegramtest.Server) pollPlatform {
	return pollPlatform{name: "telegram",
		env:      []string{"TELEGRAM_TOKEN=" + fake.Token(), "TELEGRAM_API_URL=" + fake.URL()},
		send:     func(u int64, text string) { fake.SendText(u, text) },
		replies:  func(u int64) []string { return texts(fake.Messages(u)) },
		overlaps: fake.PollOverlaps,
	}
}

func vkPlatform(fake *vktest.Server) pollPlatform {
	return pollPlatform{name: "vk",
		env: []string{"VK_TOKEN=" + fake.Token(), "VK_API_URL=" + fake.URL(), "VK_GROUP_ID=" + strconv.Itoa(fake.GroupID())},
		send: func(u int64, text string) {
			if text == "/start" {
				fake.Start(int(u), "")
				return
			}
			fake.SendText(int(u), text, "")
		},
		replies: func(u int64) []string {
			var out []string
			for _, m := range fake.Messages(int(u)) {
				out = append(out, m.Text)
			}
			return out
		},
		overlaps: func() []time.Time { return nil }, // not observed by the VK fake
	}
}

// startPollCluster starts n processes on the fake Bot API, each with its
// own HTTP port and TMPDIR (so none mistakes another for a predecessor),
// and waits until every one is ready.
func startPollCluster(t *testing.T, fake *telegramtest.Server, n int, onCluster bool, extra ...string) *pollCluster {
	t.Helper()
	return startPlatformCluster(t, telegramPlatform(fake), n, onCluster, extra...)
}

// startPlatformCluster is startPollCluster on any fake platform; with
// onCluster the processes use the local Redis Cluster instead of the
// shared Redis.
func startPlatformCluster(t *testing.T, pp pollPlatform, n int, onCluster bool, extra ...string) *pollCluster {
	t.Helper()
	redisURL, prefix := pollRedis(t, onCluster)
	dbURL := storetest.PostgresURL(t)
	dir := t.TempDir()
	pc := &pollCluster{t: t, redisURL: redisURL, prefix: prefix}
	for i := range n {
		tmp := filepath.Join(dir, "tmp"+strconv.Itoa(i))
		if err := os.Mkdir(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("run%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logf.Close() })
		port := freePort(t)
		c := &child{t: t, log: logf, env: append(append([]string{
			childEnv + "=1",
			"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL, "REDIS_PREFIX=" + prefix,
			"SCENARIOS_DIR=" + repoPath(t, "scenarios"), "HTTP_ADDR=127.0.0.1:" + port,
			"LOG_LEVEL=info", "LOG_FORMAT=json", "TMPDIR=" + tmp,
		}, pp.env...), extra...)}
		c.start()
		pc.procs, pc.urls = append(pc.procs, c), append(pc.urls, "http://127.0.0.1:"+port)
		t.Cleanup(func() {
			if t.Failed() {
				logs, _ := os.ReadFile(logf.Name())
				t.Logf("process %d log (tail):\n%s", i, tail(string(logs), 3000))
			}
		})
	}
	for i := range pc.procs {
		pc.waitReady(i, 90*time.Second)
	}
	return pc
}

// pollStatus is the part of /readyz this test reads.
type pollStatus struct {
	Ready bool `json:"ready"`
	Bots  []struct {
		Role         string `json:"role"`
		Poller       string `json:"poller"`
		State        string `json:"state"`
		QueuePending int64  `json:"queue_pending"`
	} `json:"bots"`
}

func (pc *pollCluster) readyz(i int) (pollStatus, error) {
	var st pollStatus
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(pc.urls[i] + "/readyz")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, err
	}
	if resp.StatusCode != http.StatusOK || !st.Ready {
		return st, fmt.Errorf("/readyz %d", resp.StatusCode)
	}
	return st, nil
}

func (pc *pollCluster) waitReady(i int, d time.Duration) {
	pc.t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := pc.readyz(i)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			pc.t.Fatalf("process %d not ready: %v", i, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// poller returns the index of the process that reports itself the poller
// among alive (-1 when none does), checking that the others name it.
func (pc *pollCluster) poller(alive []int) int {
	found, name := -1, ""
	for _, i := range alive {
		st, err := pc.readyz(i)
		if err != nil || len(st.Bots) != 1 {
			continue
		}
		if st.Bots[0].Role == "poller" {
			if found >= 0 {
				pc.t.Errorf("processes %d and %d both report polling", found, i)
			}
			found, name = i, st.Bots[0].Poller
		}
	}
	if found >= 0 {
		for _, i := range alive {
			if st, err := pc.readyz(i); err == nil && len(st.Bots) == 1 && i != found &&
				(st.Bots[0].Role != "standby" || st.Bots[0].Poller != name) {
				pc.t.Logf("process %d: role %q, poller %q (the poller is %q)", i, st.Bots[0].Role, st.Bots[0].Poller, name)
			}
		}
	}
	return found
}

// TestThreeProcessesLongPollingKill9 runs three `chathub run` processes
// long polling one bot (Telegram; VK's Bots Long Poll): exactly one polls
// (the others report standby), clients walk the portrait survey, and the
// poller is killed with SIGKILL mid-run. Another process must poll within
// the lease (POLL_LEASE=3s, plus slack for a loaded machine), every survey
// must complete with the replies of an uninterrupted one, a chat may see
// at most one repeated reply (the send-to-record window of the killed
// process), and the fake Bot API must never see two getUpdates at once.
// CHATHUB_POLL_CLIENTS sets the number of clients (default 200; 1000 for
// the documented run).
func TestThreeProcessesLongPollingKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills real processes")
	}
	storetest.SkipUnlessServices(t)
	clients := envInt("CHATHUB_POLL_CLIENTS", 200)
	t.Run("telegram", func(t *testing.T) { testKillPoller(t, telegramPlatform(telegramtest.New(t)), clients, false) })
	t.Run("vk", func(t *testing.T) {
		fake := vktest.New(t)
		testKillPoller(t, vkPlatform(fake), clients, false)
	})
}

// TestThreeProcessesLongPollingKill9Cluster is
// TestThreeProcessesLongPollingKill9 on the local three-master Redis
// Cluster (storetest): the poller lease, the queue's partitions and every
// chat's keys go through cluster clients. CHATHUB_POLL_CLUSTER_CLIENTS
// sets the number of clients (default 60, which keeps CI short; 1000 for
// the documented run).
func TestThreeProcessesLongPollingKill9Cluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills real processes")
	}
	storetest.SkipUnlessServices(t)
	storetest.RedisClusterURL(t) // skips (or fails, when required) without a cluster
	clients := envInt("CHATHUB_POLL_CLUSTER_CLIENTS", 60)
	t.Run("telegram", func(t *testing.T) { testKillPoller(t, telegramPlatform(telegramtest.New(t)), clients, true) })
	t.Run("vk", func(t *testing.T) {
		fake := vktest.New(t)
		testKillPoller(t, vkPlatform(fake), clients, true)
	})
}

func testKillPoller(t *testing.T, pp pollPlatform, clients int, onCluster bool) {
	const lease = 3 * time.Second
	pc := startPlatformCluster(t, pp, 3, onCluster, "POLL_LEASE="+lease.String(), "HANDLE_TIMEOUT=5s")
	alive := []int{0, 1, 2}
	var first int
	waitFor(t, "one process polls", 30*time.Second, func() bool { first = pc.poller(alive); return first >= 0 })
	time.Sleep(500 * time.Millisecond) // VK: events before the first long poll are not delivered

	const ref = int64(500)
	for i, text := range crashScript {
		pp.send(ref, text)
		waitFor(t, "the reference conversation's reply", time.Minute, func() bool { return len(pp.replies(ref)) >= i+1 })
	}
	want := pp.replies(ref)

	users := make([]int64, clients)
	for i := range users {
		users[i] = int64(10000 + i)
	}
	start := time.Now()
	killStep := len(crashScript) / 2
	var killedAt time.Time
	for step, text := range crashScript {
		for _, u := range users {
			pp.send(u, text)
		}
		if step == killStep {
			time.Sleep(200 * time.Millisecond) // mid-step: updates polled, queued and in flight
			killedAt = time.Now()
			pc.procs[first].kill9()
			alive = slicesWithout(alive, first)
			var next int
			waitFor(t, "another process polls", 30*time.Second, func() bool { next = pc.poller(alive); return next >= 0 })
			took := time.Since(killedAt)
			t.Logf("poller (process %d) killed; process %d polls %s later (lease %s)", first, next, took.Round(10*time.Millisecond), lease)
			if took > lease+3*time.Second {
				t.Errorf("takeover took %s, want about the lease (%s)", took, lease)
			}
		}
		waitFor(t, fmt.Sprintf("every client answered at step %d", step), 5*time.Minute, func() bool {
			for _, u := range users {
				if len(pp.replies(u)) < step+1 {
					return false
				}
			}
			return true
		})
	}
	elapsed := time.Since(start)
	time.Sleep(500 * time.Millisecond) // a late duplicate would show up now
	repeats, worst := 0, 0
	for _, u := range users {
		got := pp.replies(u)
		collapsed := collapseRepeats(got)
		if strings.Join(collapsed, "\n") != strings.Join(want, "\n") {
			t.Errorf("user %d: replies %q; want %q", u, got, want)
			continue
		}
		repeats += len(got) - len(collapsed)
		worst = max(worst, len(got)-len(collapsed))
	}
	if worst > 1 {
		t.Errorf("a chat saw %d repeated replies; want at most one per killed process", worst)
	}
	if o := pp.overlaps(); len(o) != 0 {
		t.Errorf("the fake platform saw %d long polls overlapping another (two pollers) at %v; the kill was at %v, the start at %v",
			len(o), o, killedAt.Format("15:04:05.000"), start.Format("15:04:05.000"))
	}
	updates := clients * len(crashScript)
	t.Logf("%s (%s): %d clients × %d messages = %d updates through 3 processes in %s (%.0f updates/s) with one kill -9; %d repeated replies in all",
		pp.name, redisHost(pc.redisURL), clients, len(crashScript), updates, elapsed.Round(time.Millisecond), float64(updates)/elapsed.Seconds(), repeats)
	for _, i := range alive {
		pc.procs[i].stop()
	}
}

func slicesWithout(s []int, v int) []int {
	var out []int
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
