package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/cli"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// childEnv, when "1" in the environment, makes the test binary run
// `chathub run` with the process environment instead of the tests (see
// TestMain), so a test can start real processes. The child is the test
// binary itself: built with -race, the processes run under the race
// detector too, and a race makes them exit with status 66.
const childEnv = "CHATHUB_E2E_CHILD_RUN"

// runChild is `chathub run` until SIGTERM or SIGINT.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, &cli.Env{Args: []string{"run"}, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
}

// clusterSecret is the Telegram webhook secret of a cluster's processes.
const clusterSecret = "e2e-webhook-secret"

// cluster is several real `chathub run` processes on one PostgreSQL
// schema and one Redis prefix, serving the same Telegram bot in webhook
// mode (as behind a load balancer): the fake Bot API queues the users'
// updates and the test posts each one to a process of its choice.
type cluster struct {
	fake  *telegramtest.Server
	procs []*process
	db    *sql.DB
	next  atomic.Int64 // round robin of deliver
}

// process is one `chathub run`: url is its HTTP server (the console, the
// webhook at /tg).
type process struct {
	name string
	url  string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited; err is then set
	err  error
}

// startCluster starts n processes on the fake with env added to their
// environment, after creating the console accounts of accounts and one
// manager account per name of managers (password(name) each).
func startCluster(t *testing.T, fake *telegramtest.Server, n int, managers []string, env ...string) *cluster {
	t.Helper()
	storetest.SkipUnlessServices(t)
	dbURL, prefix := storetest.PostgresURL(t), storetest.RedisPrefix(t)
	scenarios, err := filepath.Abs("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	addAccounts(t, dbURL, prefix, scenarios, managers)
	pcfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*pcfg)
	t.Cleanup(func() { db.Close() })
	base := append([]string{
		childEnv + "=1",
		"TELEGRAM_TOKEN=" + fake.Token(), "TELEGRAM_API_URL=" + fake.URL(),
		"TELEGRAM_WEBHOOK_URL=https://chathub.example/tg", "TELEGRAM_WEBHOOK_SECRET=" + clusterSecret,
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + storetest.RedisURL(), "REDIS_PREFIX=" + prefix,
		"SCENARIOS_DIR=" + scenarios, "WORKERS=4", "SHUTDOWN_TIMEOUT=5s",
		"LOG_LEVEL=info", "LOG_FORMAT=json",
	}, env...)
	c := &cluster{fake: fake, db: db}
	dir := t.TempDir()
	for i := range n {
		p := &process{name: fmt.Sprintf("process %d", i), log: filepath.Join(dir, fmt.Sprintf("run%d.log", i))}
		p.start(t, base)
		c.procs = append(c.procs, p)
	}
	for _, p := range c.procs {
		p.waitReady(t)
	}
	return c
}

// addAccounts creates the console accounts before the processes start.
func addAccounts(t *testing.T, dbURL, prefix, scenarios string, managers []string) {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL, cfg.RedisURL, cfg.RedisPrefix = dbURL, storetest.RedisURL(), prefix
	cfg.ScenariosDir = scenarios
	ctx := context.Background()
	stores, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open stores: %v", err)
	}
	defer stores.Close()
	users, ok := stores.ConsoleAuth.(*account.Service)
	if !ok {
		t.Fatalf("console auth is %T, want *account.Service", stores.ConsoleAuth)
	}
	all := map[string]account.Role{}
	for name, role := range accounts {
		all[name] = role
	}
	for _, name := range managers {
		all[name] = account.RoleManager
	}
	for name, role := range all {
		if _, err := users.AddUser(ctx, name, role, password(name)); err != nil {
			t.Fatalf("add user %s: %v", name, err)
		}
	}
}

// start runs the process: the test binary again, in child mode. It is
// stopped (SIGTERM, then SIGKILL) when t ends, and a process that did not
// exit cleanly (a race detected: status 66) fails the test.
func (p *process) start(t *testing.T, env []string) {
	t.Helper()
	addr := "127.0.0.1:" + freePort(t)
	p.url = "http://" + addr
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), "HTTP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
}

// stop ends the process with SIGTERM (SIGKILL after 30 s) and checks its
// exit and its log: an error logged fails the test, a warning is shown;
// the log's tail is shown when the test failed.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM", p.name)
	}
	logs, _ := os.ReadFile(p.log)
	if p.err != nil {
		t.Errorf("%s exited with %v (66: the race detector found a race)", p.name, p.err)
	}
	if strings.Contains(string(logs), "WARNING: DATA RACE") {
		t.Errorf("%s: data race", p.name)
	}
	for _, line := range strings.Split(string(logs), "\n") {
		switch {
		case strings.Contains(line, `"level":"ERROR"`):
			t.Errorf("%s logged an error: %s", p.name, line)
		case strings.Contains(line, `"level":"WARN"`):
			t.Logf("%s warned: %s", p.name, line)
		}
	}
	if t.Failed() {
		t.Logf("%s log (tail):\n%s", p.name, logTail(string(logs), 6000))
	}
}

// waitReady waits until the process answers /readyz.
func (p *process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.done:
			logs, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited at start (%v):\n%s", p.name, p.err, logTail(string(logs), 4000))
		default:
		}
		resp, err := client.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 90 s (last: %v)", p.name, errors.Join(err, statusErr(resp)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func statusErr(resp *http.Response) error {
	if resp == nil {
		return nil
	}
	return fmt.Errorf("status %d", resp.StatusCode)
}

// deliver posts update id to process i's webhook until it is taken (200),
// as Telegram retries a webhook that failed.
func (c *cluster) deliver(t *testing.T, i, id int) {
	t.Helper()
	if id == 0 {
		t.Fatal("no update to deliver (the fake kept the message from the bot)")
	}
	raw := c.fake.Update(id)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, err := telegramtest.PostWebhook(c.procs[i].url+"/tg", clusterSecret, raw)
		if err == nil && code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never took update %d: %d %v", c.procs[i].name, id, code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// spread delivers update id to the next process in turn.
func (c *cluster) spread(t *testing.T, id int) {
	t.Helper()
	c.deliver(t, int(c.next.Add(1)-1)%len(c.procs), id)
}

// signIn opens a fresh browser tab signed in to process i's console as
// name.
func (c *cluster) signIn(t *testing.T, i int, name string) context.Context {
	t.Helper()
	ctx := browsertest.NewTab(t)
	browsertest.SignIn(t, ctx, c.procs[i].url, "ru", name, password(name))
	browsertest.Run(t, ctx, chromedpWaitMenu())
	return ctx
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func logTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
