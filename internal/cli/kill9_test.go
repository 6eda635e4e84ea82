package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// startRun starts a `chathub run` child on the fake Bot API, PostgreSQL and
// Redis (under prefix) with the shipped scenarios and the default
// HANDLE_TIMEOUT (30s: a dead process's chat turn expires after 35s), its
// log in dir; extra environment comes last.
func startRun(t *testing.T, fake *telegramtest.Server, prefix, dir string, extra ...string) *child {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(dir, "run.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	c := &child{t: t, log: logf, env: append([]string{
		childEnv + "=1",
		"TELEGRAM_TOKEN=" + fake.Token(), "TELEGRAM_API_URL=" + fake.URL(),
		"DATABASE_URL=" + storetest.PostgresURL(t), "REDIS_URL=" + storetest.RedisURL(), "REDIS_PREFIX=" + prefix,
		"SCENARIOS_DIR=" + repoPath(t, "scenarios"), "HTTP_ADDR=127.0.0.1:" + freePort(t),
		"LOG_LEVEL=info", "LOG_FORMAT=json",
	}, extra...)}
	c.start()
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := os.ReadFile(logf.Name())
			t.Logf("chathub run log (tail):\n%s", tail(string(logs), 6000))
		}
	})
	return c
}

// TestKill9OtherChatsFlowOn kills a real `chathub run` (long polling, on
// PostgreSQL and Redis, default HANDLE_TIMEOUT 30s) with SIGKILL while 20
// chats' updates are in flight, each holding its chat's turn, and restarts
// it. Before the fix every chat waited HANDLE_TIMEOUT + 5s = 35s: the
// restarted process waited for the dead one's turns and those updates
// pinned the getUpdates offset, so after 99 newer updates nobody was
// answered. Now 150 new chats writing after the restart are answered at
// once, and the 20 held chats too: at once when the restart is on the same
// host (the process recognises its predecessor), else once the dead
// process's liveness expires (10s), their updates parked meanwhile.
func TestKill9OtherChatsFlowOn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills real processes")
	}
	storetest.SkipUnlessServices(t)
	for _, tc := range []struct {
		name      string
		sameHost  bool
		heldBound time.Duration // the held chats answered within, after the restart
	}{
		{"restart on the same host", true, 5 * time.Second},
		{"restart elsewhere", false, 25 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := telegramtest.New(t)
			prefix := storetest.Name(t, "kill9")
			t.Cleanup(func() { cleanRedisPrefix(t, prefix) })
			dir := t.TempDir()
			tmpA, tmpB := filepath.Join(dir, "tmp-a"), filepath.Join(dir, "tmp-b")
			for _, d := range []string{tmpA, tmpB} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			c := startRun(t, fake, prefix, dir, "TMPDIR="+tmpA)
			const held = 20
			users := make([]int64, held)
			for i := range users {
				users[i] = int64(2000 + i)
				walk(t, fake, users[i], crashScript[:2], 0)
			}
			sendsBefore := fake.Calls("sendMessage")
			fake.DelayMethod("sendMessage", time.Hour) // every chat in flight holds its turn
			for _, u := range users {
				fake.SendText(u, crashScript[2])
			}
			if n := waitStable(t, func() int { return fake.Calls("sendMessage") - sendsBefore }); n == 0 {
				t.Fatal("no update in flight at the kill")
			}
			c.kill9()
			fake.DelayMethod("sendMessage", 0)
			restartTmp := tmpA
			if !tc.sameHost {
				restartTmp = tmpB // no restart slot to find: the predecessor is not recognised
			}
			restarted := time.Now()
			c.env[len(c.env)-1] = "TMPDIR=" + restartTmp
			c.start()
			const fresh = 150
			for i := range fresh {
				fake.SendText(int64(3000+i), "/start")
			}
			for i := range fresh {
				fake.WaitMessages(int64(3000+i), 1, 60*time.Second)
			}
			others := time.Since(restarted)
			for _, u := range users {
				fake.WaitMessages(u, 3, 60*time.Second)
			}
			heldAt := time.Since(restarted)
			t.Logf("after the restart: %d new chats answered within %s, the %d held chats within %s",
				fresh, others.Round(time.Millisecond), held, heldAt.Round(time.Millisecond))
			// 35s (HANDLE_TIMEOUT + 5s) is what everybody waited before.
			if others > 10*time.Second {
				t.Errorf("the new chats were answered %s after the restart; want them not to wait for the dead process's chats", others)
			}
			if heldAt > tc.heldBound {
				t.Errorf("the held chats were answered %s after the restart; want within %s", heldAt, tc.heldBound)
			}
			c.stop()
		})
	}
}
