package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/faultproxy"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// Texts of the shipped portrait scenario the outage tests expect, by step.
const (
	portraitConsent   = "Здравствуйте! Ответьте на 6 коротких вопросов"
	portraitName      = "Как к вам обращаться?"
	portraitAge       = "Анна, сколько вам лет?"
	portraitCity      = "В каком городе вы живёте?"
	portraitFamily    = "Ваше семейное положение?"
	portraitInterests = "Что вам интересно?"
	portraitPhone     = "Последний вопрос: оставьте номер"
	portraitThanks    = "Спасибо, Анна! Дарим вам"
	// fallbackText answers a message when no conversation runs
	// (dialog.DefaultTexts().Fallback).
	fallbackText = "Здравствуйте! Чтобы начать, отправьте /start."
)

// portraitTurn is one client message of the portrait scenario and the start
// of the bot's answer to it.
type portraitTurn struct{ say, reply string }

// portraitTurns is inboundScript with the replies it gets.
var portraitTurns = []portraitTurn{
	{"/start", portraitConsent}, {"1", portraitName}, {"Анна", portraitAge}, {"43", portraitCity},
	{"Самара", portraitFamily}, {"2", portraitInterests}, {"1, 2", portraitPhone}, {"+79123456789", portraitThanks},
}

// outageTimeout bounds every wait of the outage tests: recovery after a
// restore takes one pipeline retry round and one poller backoff (both well
// under a second with the test settings), so this is only a safety net.
const outageTimeout = 20 * time.Second

// outageSecret is the webhook secret of the outage runtimes.
const outageSecret = "outage-s3cret"

// outageRuntime is one chathub run process on the fake Bot API with the
// stores a test points it at (through fault proxies, or a private Redis).
type outageRuntime struct {
	rt      *Runtime
	stores  *Stores
	fake    *telegramtest.Server
	logs    *syncBuffer
	webhook string // the webhook URL; "" when long polling
}

// outageConfig is the production setup on the test services, isolated (own
// schema and Redis prefix, see fullStepConfig), with short shutdown.
func outageConfig(t *testing.T) config.Config {
	t.Helper()
	storetest.SkipUnlessServices(t)
	cfg := fullStepConfig(t)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Workers = 4
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// proxyDatabase puts a fault proxy between cfg's DATABASE_URL and the test
// PostgreSQL.
func proxyDatabase(t *testing.T, cfg *config.Config) *faultproxy.Proxy {
	t.Helper()
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatalf("parse test DATABASE_URL: %v", err)
	}
	p := faultproxy.Start(t, u.Host)
	u.Host = p.Addr()
	cfg.DatabaseURL = u.String()
	return p
}

// proxyRedis puts a fault proxy between cfg's REDIS_URL and its Redis.
func proxyRedis(t *testing.T, cfg *config.Config) *faultproxy.Proxy {
	t.Helper()
	u, err := url.Parse(cfg.RedisURL)
	if err != nil {
		t.Fatalf("parse test REDIS_URL: %v", err)
	}
	p := faultproxy.Start(t, u.Host)
	u.Host = p.Addr()
	cfg.RedisURL = fastRedisRetries(u)
	return p
}

// fastRedisRetries sets go-redis's own retries of a failed command (REDIS_URL
// options; by default 3 retries backing off up to 512ms, so each command
// takes about half a second to fail) to one quick retry: the pipeline's
// retries are what the outage tests look at.
func fastRedisRetries(u *url.URL) string {
	q := u.Query()
	for k, v := range map[string]string{"max_retries": "1", "min_retry_backoff": "1ms", "max_retry_backoff": "5ms"} {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// startOutageRuntime opens the stores and runs one Telegram bot on fake,
// long polling or (webhook true) serving the webhook; stopped when t ends.
// The adapter and the pipeline retry within fractions of a second.
func startOutageRuntime(t *testing.T, cfg config.Config, fake *telegramtest.Server, webhook bool) *outageRuntime {
	t.Helper()
	return startTunedOutageRuntime(t, cfg, fake, webhook, func(tc *telegram.Config) {
		tc.RetryDelay, tc.MaxRetryDelay = 20*time.Millisecond, 200*time.Millisecond
	})
}

// startTunedOutageRuntime is startOutageRuntime with the adapter's settings
// changed by tune (nil keeps the production retry delays).
func startTunedOutageRuntime(t *testing.T, cfg config.Config, fake *telegramtest.Server, webhook bool,
	tune func(*telegram.Config)) *outageRuntime {
	t.Helper()
	o := &outageRuntime{fake: fake, logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	o.stores = stores
	tcfg := telegram.Config{Token: fake.Token(), APIURL: fake.URL(), PollTimeout: time.Second, Logger: logger}
	if tune != nil {
		tune(&tcfg)
	}
	if webhook {
		tcfg.WebhookURL, tcfg.WebhookSecret = "https://chathub.example/tg", outageSecret
	}
	bot, err := telegram.New(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	b := Bot{Platform: messenger.Telegram, Sender: bot, Poll: bot.Run}
	if webhook {
		b = Bot{Platform: messenger.Telegram, Sender: bot, WebhookPath: bot.WebhookPath(), Webhook: bot.WebhookHandler}
	}
	if o.rt, err = NewRuntime(cfg, stores, []Bot{b}, logger); err != nil {
		t.Fatal(err)
	}
	if err := o.rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.rt.Stop(context.Background()) })
	if webhook {
		o.webhook = "http://" + o.rt.Addr() + "/tg"
	}
	return o
}

// send queues the client's message at the fake Bot API and returns its
// update id; in webhook mode it also posts it to the webhook as Telegram
// does and returns the HTTP status (0 when polling).
func (o *outageRuntime) send(t *testing.T, user int64, text string) (id, status int) {
	t.Helper()
	id = o.fake.SendText(user, text)
	return id, o.post(t, id)
}

// post (webhook mode) delivers a queued update to the webhook, as Telegram
// does and does again after a non-2xx answer; 0 when polling.
func (o *outageRuntime) post(t *testing.T, id int) int {
	t.Helper()
	if o.webhook == "" {
		return 0
	}
	status, err := telegramtest.PostWebhook(o.webhook, outageSecret, o.fake.Update(id))
	if err != nil {
		t.Fatalf("post update %d: %v", id, err)
	}
	return status
}

// turn sends text and waits for exactly one new reply starting with want.
func (o *outageRuntime) turn(t *testing.T, user int64, text, want string) {
	t.Helper()
	before := len(o.fake.Messages(user))
	if _, status := o.send(t, user, text); o.webhook != "" && status != http.StatusOK {
		t.Fatalf("webhook answered %d to %q", status, text)
	}
	o.expectReply(t, user, before, want)
}

// expectReply waits for message number before+1 to the user, checks that it
// starts with want and that no other message follows it.
func (o *outageRuntime) expectReply(t *testing.T, user int64, before int, want string) {
	t.Helper()
	msgs := o.fake.WaitMessages(user, before+1, outageTimeout)
	if got := msgs[before].Text; !strings.HasPrefix(got, want) {
		t.Fatalf("reply %d = %.60q, want it to start with %q", before+1, got, want)
	}
	o.waitIdle(t)
	if n := len(o.fake.Messages(user)); n != before+1 {
		t.Fatalf("%d replies where one was due: %q", n-before, texts(o.fake.Messages(user)[before:]))
	}
}

// waitIdle waits until the fake has no unconfirmed update and the pipeline
// no queued one (polling), so later assertions see the final picture.
func (o *outageRuntime) waitIdle(t *testing.T) {
	t.Helper()
	eventually(t, "every update is handled and confirmed", func() bool {
		return (o.webhook != "" || len(o.fake.Pending()) == 0) && o.rt.Dispatcher().Stats().QueueDepth() == 0
	})
}

// converse runs turns in order.
func (o *outageRuntime) converse(t *testing.T, user int64, turns ...portraitTurn) {
	t.Helper()
	for _, tr := range turns {
		o.turn(t, user, tr.say, tr.reply)
	}
}

// client reads the user's CRM record.
func (o *outageRuntime) client(t *testing.T, user int64) *crm.Client {
	t.Helper()
	c, err := o.stores.CRM.GetClient(context.Background(), tgChat(user))
	if err != nil || c == nil {
		t.Fatalf("GetClient(%d) = %v, %v", user, c, err)
	}
	return c
}

// answers reads the user's answer history, oldest first.
func (o *outageRuntime) answers(t *testing.T, user int64) []crm.Answer {
	t.Helper()
	list, err := o.stores.CRM.Answers(context.Background(), o.client(t, user).ID, 1000)
	if err != nil {
		t.Fatalf("Answers: %v", err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// answerFields lists the fields of the user's answers, oldest first.
func (o *outageRuntime) answerFields(t *testing.T, user int64) []string {
	t.Helper()
	var out []string
	for _, a := range o.answers(t, user) {
		out = append(out, a.Field)
	}
	return out
}

// readiness is what /readyz answered.
type readiness struct {
	status int
	checks map[string]string
}

func (o *outageRuntime) ready(t *testing.T) readiness {
	t.Helper()
	resp, err := http.Get("http://" + o.rt.Addr() + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return readiness{status: resp.StatusCode, checks: body.Checks}
}

// waitReadiness waits until /readyz answers status with each named check
// as in checks.
func (o *outageRuntime) waitReadiness(t *testing.T, status int, checks map[string]string) {
	t.Helper()
	var last readiness
	eventually(t, fmt.Sprintf("/readyz answers %d %v", status, checks), func() bool {
		last = o.ready(t)
		for k, v := range checks {
			if last.checks[k] != v {
				return false
			}
		}
		return last.status == status
	})
}

// noPersonalData fails the test when the logs hold any of the given answers.
func (o *outageRuntime) noPersonalData(t *testing.T, values ...string) {
	t.Helper()
	logs := o.logs.String()
	for _, v := range values {
		if strings.Contains(logs, v) {
			t.Errorf("logs contain the client's answer %q", v)
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

func tgChat(user int64) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(user, 10)}
}

// eventually polls cond until it holds or outageTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(outageTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", outageTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---- a private Redis ----

// redisServer is a redis-server process of one test, on its own port, which
// the test may kill and start again (the shared Redis is never touched).
type redisServer struct {
	t    *testing.T
	bin  string
	args []string
	addr string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer
}

// startRedisServer starts redis-server on a free port. persistent keeps the
// data in an append-only file written on every command (so it survives a
// kill); otherwise nothing is saved and a restart comes back empty.
func startRedisServer(t *testing.T, persistent bool) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (apt-get install redis-server; CI installs it): %v", err)
	}
	port := freePort(t)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(), "--save", "",
		"--daemonize", "no", "--protected-mode", "no"}
	if persistent {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	r := &redisServer{t: t, bin: bin, args: args, addr: "127.0.0.1:" + port, out: &syncBuffer{}}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// URL is the server's REDIS_URL (with quick client retries, see
// fastRedisRetries).
func (r *redisServer) URL() string {
	return fastRedisRetries(&url.URL{Scheme: "redis", Host: r.addr, Path: "/0"})
}

// start runs the server and waits until it answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	cmd := exec.Command(r.bin, r.args...)
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	c := goredis.NewClient(&goredis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		select {
		case <-exited:
			r.t.Fatalf("redis-server exited at start:\n%s", r.out.String())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server does not answer on %s:\n%s", r.addr, r.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL (no shutdown save) and waits for it.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// freePort returns a TCP port that was free a moment ago.
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
