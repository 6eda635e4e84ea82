package app

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestTwoProcessesOneChat runs two chathub runtimes in webhook mode on one
// PostgreSQL and one Redis (two processes behind a load balancer). A burst
// of one client's messages arrives at both, every update twice (as retried
// webhooks may): each is handled exactly once, one at a time, and the
// conversation advances through every step in order.
func TestTwoProcessesOneChat(t *testing.T) {
	t.Parallel()
	for _, redis := range twoProcessRedis {
		t.Run(redis, func(t *testing.T) {
			t.Parallel()
			testTwoProcessesOneChat(t, redis)
		})
	}
}

// twoProcessRedis are the Redis setups the two-process tests run on: one
// server and a three-master Redis Cluster.
var twoProcessRedis = []string{"redis", "redis-cluster"}

func testTwoProcessesOneChat(t *testing.T, redis string) {
	fake, processes, urls := startTwoProcesses(t, redis)
	const user = 4242
	// The client answers the whole portrait scenario in one burst.
	script := inboundScript
	var wg sync.WaitGroup
	for i, text := range script {
		raw := fake.Update(fake.SendText(user, text))
		for _, u := range []string{urls[i%2], urls[(i+1)%2]} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, err := telegramtest.PostWebhook(u, webhookSecret, raw); err != nil || code != 200 {
					t.Errorf("webhook %s: %d %v", u, code, err)
				}
			}()
		}
		wg.Wait() // Telegram sends one chat's updates one after another
	}
	msgs := fake.Messages(user)
	if len(msgs) != len(script) {
		for _, m := range msgs {
			t.Log(m.Text)
		}
		t.Fatalf("%d replies to %d messages: an update was lost or answered twice", len(msgs), len(script))
	}
	c, err := processes[0].stores.CRM.GetClient(context.Background(), messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.Itoa(user)})
	if err != nil || c == nil || c.FirstName != "Анна" || c.Phone != "+79123456789" || !c.HasTag("portrait_done") {
		t.Fatalf("client = %+v, %v", c, err)
	}
	answers, err := processes[1].stores.CRM.Answers(context.Background(), c.ID, 100)
	if err != nil || len(answers) != len(script)-1 {
		t.Fatalf("answers = %d (%v), want %d: each answer recorded once", len(answers), err, len(script)-1)
	}
	if d := processes[0].Dispatcher().Stats().Duplicates() + processes[1].Dispatcher().Stats().Duplicates(); d != int64(len(script)) {
		t.Errorf("duplicates skipped = %d, want %d", d, len(script))
	}
}

// TestTwoProcessesConcurrentBurst: one client's distinct updates arrive at
// both processes at the same time. The chat lock makes them take turns: every
// update is answered exactly once and no state compare-and-set ever conflicts
// (a conflict would mean a retry and an answer recorded twice).
func TestTwoProcessesConcurrentBurst(t *testing.T) {
	t.Parallel()
	for _, redis := range twoProcessRedis {
		t.Run(redis, func(t *testing.T) {
			t.Parallel()
			testTwoProcessesConcurrentBurst(t, redis)
		})
	}
}

func testTwoProcessesConcurrentBurst(t *testing.T, redis string) {
	fake, processes, urls := startTwoProcesses(t, redis)
	const user = 4343
	raw := fake.Update(fake.SendText(user, "/start"))
	if code, err := telegramtest.PostWebhook(urls[0], webhookSecret, raw); err != nil || code != 200 {
		t.Fatalf("start: %d %v", code, err)
	}
	const burst = 16
	var wg sync.WaitGroup
	for i := range burst {
		raw := fake.Update(fake.SendText(user, "нет"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, err := telegramtest.PostWebhook(urls[i%2], webhookSecret, raw); err != nil || code != 200 {
				t.Errorf("webhook: %d %v", code, err)
			}
		}()
	}
	wg.Wait()
	// A webhook is answered once its update is handled or, when the chat is
	// busy in the other process, parked behind it: parked updates are
	// answered by the sweep, later on a loaded machine.
	waitLong(t, "every update is answered", func() bool { return len(fake.Messages(user)) >= burst+1 })
	time.Sleep(200 * time.Millisecond) // room for a reply sent twice to show
	if n := len(fake.Messages(user)); n != burst+1 {
		t.Fatalf("%d replies to %d updates", n, burst+1)
	}
	for i, p := range processes {
		if r := p.Dispatcher().Stats().Retries(); r != 0 {
			t.Errorf("process %d retried %d times: two processes advanced the chat at once", i, r)
		}
	}
}

// webhookSecret is the Telegram webhook secret of the test processes.
const webhookSecret = "s3cret"

// startTwoProcesses starts two runtimes in Telegram webhook mode on one
// PostgreSQL schema and one Redis prefix; it returns the fake Bot API, the
// runtimes and their webhook URLs. redis is "redis" (the test server) or
// "redis-cluster" (the local three-master cluster).
func startTwoProcesses(t *testing.T, redis string) (*telegramtest.Server, []*Runtime, []string) {
	t.Helper()
	storetest.SkipUnlessServices(t)
	fake := telegramtest.New(t)
	cfg := fullStepConfig(t)
	if redis == "redis-cluster" {
		cfg.RedisURL, cfg.RedisPrefix = storetest.RedisClusterURL(t), storetest.RedisClusterPrefix(t)
	}
	cfg.HTTPAddr = "127.0.0.1:0"
	var processes []*Runtime
	var urls []string
	for range 2 {
		rt, u := startWebhookProcess(t, cfg, fake)
		processes, urls = append(processes, rt), append(urls, u)
	}
	return fake, processes, urls
}

func startWebhookProcess(t *testing.T, cfg config.Config, fake *telegramtest.Server) (*Runtime, string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	bot, err := telegram.New(telegram.Config{Token: fake.Token(), APIURL: fake.URL(),
		WebhookURL: "https://chathub.example/tg", WebhookSecret: webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(cfg, stores, []Bot{{Platform: messenger.Telegram, Sender: bot,
		WebhookPath: bot.WebhookPath(), Webhook: bot.WebhookHandler}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	return rt, "http://" + rt.Addr() + "/tg"
}
