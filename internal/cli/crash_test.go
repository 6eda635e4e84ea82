package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// childEnv, when set in the environment, makes the test binary run
// `chathub run` with the process environment instead of the tests, so the
// crash test can SIGKILL a real process.
const childEnv = "CHATHUB_TEST_CHILD_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, &Env{Args: []string{"run"}, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
		stop()
		os.Exit(code)
	}
	code := m.Run()
	storetest.StopRedisCluster()
	os.Exit(code)
}

// crashScript is one client's way through the portrait scenario; every
// message gets exactly one reply.
var crashScript = []string{"/start", "1", "Анна", "43", "Самара", "2", "1, 2", "+79123456789"}

// child is a `chathub run` process on the fake Bot API.
type child struct {
	t   *testing.T
	env []string
	cmd *exec.Cmd
	log *os.File
}

func (c *child) start() {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start chathub run: %v", err)
	}
	c.cmd = cmd
	// A failing test must not leave a process behind holding connections.
	c.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
}

// kill9 kills the process with SIGKILL: no drain, no offset commit.
func (c *child) kill9() {
	c.t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		c.t.Fatalf("kill -9: %v", err)
	}
	_ = c.cmd.Wait()
}

// stop ends the process gracefully (SIGTERM) and checks it exited cleanly.
func (c *child) stop() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			c.t.Errorf("chathub run exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		c.t.Error("chathub run did not stop on SIGTERM")
	}
}

// TestCrashKill9 kills a real `chathub run` process (long polling the fake
// Bot API, on PostgreSQL and Redis) with SIGKILL while updates are in flight
// and restarts it: no update is lost and none is handled twice.
//
// Phase 1 is exact: every client's answer has been applied (CRM written,
// state saved) and its reply is on the wire, held by the fake server, when
// the process dies; the reply never arrives. After the restart each of those
// updates is redelivered and answered exactly once, with the recorded reply
// (not by running the engine again, which would take the redelivered answer
// for the next question). Phase 1b does the same at an answer whose turn
// writes its state with the end of the turn (dialog.TurnStateStore): at the
// kill the state is still the one before it, and the redelivery runs the
// turn again with the same reply. Phase 2 kills at random moments while clients
// answer; every conversation must still finish with the same replies as an
// uninterrupted one. The one duplicate the design allows (a reply that
// reached Telegram in the instant before the process recorded it as sent;
// Telegram has no idempotency key) can only repeat the same text: it is
// counted and reported, never a different reply.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills real processes")
	}
	storetest.SkipUnlessServices(t)
	fake := telegramtest.New(t)
	prefix := storetest.Name(t, "crash")
	t.Cleanup(func() { cleanRedisPrefix(t, prefix) })
	logf, err := os.Create(filepath.Join(t.TempDir(), "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	dbURL := storetest.PostgresURL(t)
	c := &child{t: t, log: logf, env: []string{
		childEnv + "=1",
		"TELEGRAM_TOKEN=" + fake.Token(), "TELEGRAM_API_URL=" + fake.URL(),
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + storetest.RedisURL(), "REDIS_PREFIX=" + prefix,
		"SCENARIOS_DIR=" + repoPath(t, "scenarios"), "HTTP_ADDR=127.0.0.1:" + freePort(t),
		"HANDLE_TIMEOUT=2s", "LOG_LEVEL=info", "LOG_FORMAT=json",
	}}
	c.start()
	defer func() {
		if t.Failed() {
			logs, _ := os.ReadFile(logf.Name())
			_ = os.WriteFile(filepath.Join(os.TempDir(), "chathub-crash-run.log"), logs, 0o644)
			t.Logf("chathub run log (tail):\n%s", tail(string(logs), 4000))
		}
	}()

	// A reference conversation, uninterrupted.
	const ref = int64(500)
	walk(t, fake, ref, crashScript, 0)
	want := texts(fake.Messages(ref))
	if len(want) != len(crashScript) {
		t.Fatalf("reference conversation: %d replies to %d messages: %q", len(want), len(crashScript), want)
	}

	// Phase 1: every client's third answer is applied and its reply held on
	// the wire when the process is killed.
	const clients = 20
	users := make([]int64, clients)
	for i := range users {
		users[i] = int64(1000 + i)
		walk(t, fake, users[i], crashScript[:2], 0)
	}
	sendsBefore := fake.Calls("sendMessage")
	fake.DelayMethod("sendMessage", time.Hour) // replies are held (dropped if the caller goes away)
	for _, u := range users {
		fake.SendText(u, crashScript[2])
	}
	// Chats that share a pipeline shard wait behind the held one: wait until
	// the held sends stop growing; those updates are applied, the rest queued.
	held := waitStable(t, func() int { return fake.Calls("sendMessage") - sendsBefore })
	if held == 0 {
		t.Fatal("no reply reached the fake server before the kill")
	}
	t.Logf("phase 1: %d of %d answers applied with their reply held on the wire, the rest queued, at the kill", held, clients)
	c.kill9()
	fake.DelayMethod("sendMessage", 0)
	for _, u := range users {
		if got := len(fake.Messages(u)); got != 2 {
			t.Fatalf("user %d has %d replies before the restart; want 2 (the third held)", u, got)
		}
	}
	restarted := time.Now()
	c.start()
	defer func() {
		if t.Failed() {
			t.Logf("pending at the fake: %v", fake.Pending())
			for _, r := range fake.Requests("") {
				if r.Time.After(restarted) {
					t.Logf("after restart: %s %s %v", r.Time.Format("15:04:05.000"), r.Method, r.Params)
				}
			}
		}
	}()
	for _, u := range users {
		msgs := fake.WaitMessages(u, 3, 30*time.Second)
		if got := texts(msgs); len(got) != 3 || got[2] != want[2] {
			t.Fatalf("user %d after the restart: replies %q; want the third to be %q", u, got, want[2])
		}
	}

	// Phase 1b: the same for a turn whose state is written with the end of
	// the turn (the age answer: the next question reads neither the client
	// card nor the clock), so at the kill the state is still the one before
	// it. The redelivery runs the turn again: the same reply, once, and the
	// answer recorded once (checked at the end).
	sendsBefore = fake.Calls("sendMessage")
	fake.DelayMethod("sendMessage", time.Hour)
	for _, u := range users {
		fake.SendText(u, crashScript[3])
	}
	held = waitStable(t, func() int { return fake.Calls("sendMessage") - sendsBefore })
	if held == 0 {
		t.Fatal("no reply reached the fake server before the second kill")
	}
	t.Logf("phase 1b: %d of %d answers run with their reply held on the wire and their state not yet written, at the kill", held, clients)
	c.kill9()
	fake.DelayMethod("sendMessage", 0)
	if step := storedStep(t, prefix, users[0]); step != "age" {
		t.Fatalf("user %d's stored step at the kill is %q; want still \"age\" (the state written with the end of the turn)", users[0], step)
	}
	c.start()
	for _, u := range users {
		msgs := fake.WaitMessages(u, 4, 30*time.Second)
		if got := texts(msgs); len(got) != 4 || got[3] != want[3] {
			t.Fatalf("user %d after the restart: replies %q; want the fourth to be %q", u, got, want[3])
		}
	}

	// Phase 2: the clients finish their conversations while the process is
	// killed twice at random moments.
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			walk(t, fake, u, crashScript[4:], 4)
		}()
	}
	for range 2 {
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		c.kill9()
		c.start()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond) // a late duplicate would show up now
	dups := 0
	for _, u := range users {
		got := texts(fake.Messages(u))
		collapsed := collapseRepeats(got)
		if strings.Join(collapsed, "\n") != strings.Join(want, "\n") {
			t.Errorf("user %d: replies %q; want %q", u, got, want)
		}
		dups += len(got) - len(collapsed)
	}
	t.Logf("phase 2: %d clients × %d messages, 2 kills: %d repeated identical replies (the send-to-record window)",
		clients, len(crashScript)-4, dups)
	c.stop()
	checkPortraits(t, c.env, append(users, ref))
	checkAnswerHistory(t, dbURL, ref, users)
}

// storedStep returns the step of the conversation state Redis holds for a
// Telegram user's chat (found by its hash tag, whatever the key layout
// around it), "" when none.
func storedStep(t *testing.T, prefix string, user int64) string {
	t.Helper()
	opt, err := goredis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	var key string
	it := rdb.Scan(ctx, 0, prefix+":*{telegram:"+fmt.Sprint(user)+"}*state", 1000).Iterator()
	for key == "" && it.Next(ctx) {
		key = it.Val()
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if key == "" {
		return ""
	}
	data, err := rdb.HGet(ctx, key, "data").Result()
	if err != nil {
		return ""
	}
	var st struct {
		Step string `json:"st"`
	}
	_ = json.Unmarshal([]byte(data), &st)
	return st.Step
}

// checkAnswerHistory checks that every user's answer history (the fields
// answered, in order) is the reference conversation's: no answer lost or
// recorded twice across the kills.
func checkAnswerHistory(t *testing.T, dbURL string, ref int64, users []int64) {
	t.Helper()
	pcfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*pcfg)
	defer db.Close()
	rows, err := db.Query(`SELECT c.platform_user_id, string_agg(a.field, ',' ORDER BY a.id)
		FROM answers a JOIN clients c ON c.id = a.client_id GROUP BY c.platform_user_id`)
	if err != nil {
		t.Fatalf("read the answer history: %v", err)
	}
	defer rows.Close()
	history := map[string]string{}
	for rows.Next() {
		var user, fields string
		if err := rows.Scan(&user, &fields); err != nil {
			t.Fatal(err)
		}
		history[user] = fields
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := history[fmt.Sprint(ref)]
	if want == "" {
		t.Fatal("the reference conversation recorded no answers")
	}
	for _, u := range users {
		if got := history[fmt.Sprint(u)]; got != want {
			t.Errorf("user %d answer history %q; want %q", u, got, want)
		}
	}
}

// walk sends each message of script as user, waiting for its reply (the
// user already has done replies).
func walk(t *testing.T, fake *telegramtest.Server, user int64, script []string, done int) {
	t.Helper()
	for i, text := range script {
		fake.SendText(user, text)
		if got := fake.WaitMessages(user, done+i+1, 60*time.Second); len(got) < done+i+1 {
			t.Errorf("user %d: no reply to %q (replies %q)", user, text, texts(got))
			return
		}
	}
}

func texts(msgs []telegramtest.Sent) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

// collapseRepeats drops a reply identical to the one before it.
func collapseRepeats(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// waitStable waits until n() is positive and unchanged for 300 ms, and returns it.
func waitStable(t *testing.T, n func() int) int {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		v := n()
		if v != last {
			last, since = v, time.Now()
		} else if v > 0 && time.Since(since) > 300*time.Millisecond {
			return v
		}
	}
	return last
}

// checkPortraits reads the CRM with `chathub clients --format json` and
// checks every client's portrait was recorded.
func checkPortraits(t *testing.T, env []string, users []int64) {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	code, out, errOut := runMain(t, vars, "", "clients", "--format", "json", "--limit", "1000")
	if code != 0 {
		t.Fatalf("chathub clients: exit %d: %s", code, errOut)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("clients json: %v\n%.500s", err, out)
	}
	byID := map[string]map[string]any{}
	for _, c := range list {
		byID[fmt.Sprint(c["user_id"])] = c
	}
	for _, u := range users {
		c := byID[fmt.Sprint(u)]
		if c == nil {
			t.Errorf("user %d has no CRM record", u)
			continue
		}
		if c["first_name"] != "Анна" || fmt.Sprint(c["age"]) != "43" || c["city"] != "Самара" || c["phone"] != "+79123456789" {
			t.Errorf("user %d portrait: %v", u, c)
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// cleanRedisPrefix deletes the keys the child processes wrote (the shared
// Redis keeps data between runs).
func cleanRedisPrefix(t *testing.T, prefix string) {
	opt, err := goredis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Errorf("parse TEST_REDIS_URL: %v", err)
		return
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		_ = rdb.Del(ctx, keys...).Err()
	}
}
