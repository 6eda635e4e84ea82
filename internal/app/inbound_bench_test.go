package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/proccpu"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// inboundScript is one client's way through the portrait scenario; every
// message gets exactly one reply.
var inboundScript = []string{"/start", "1", "Анна", "43", "Самара", "2", "1, 2", "+79123456789"}

// inboundStep is one client message: a typed text or, when press > 0, a
// press of the press-th inline button (counted row by row) of the bot's
// newest message, which sends that button's callback query.
type inboundStep struct {
	text  string
	press int
}

// pressScript is inboundScript with the button steps pressed
// (INBOUND_PRESS=1): the consent's «Да, согласен», the family status's «В
// браке», and on the interests' multi-select «Фитнес», «Путешествия» (each
// toggle's reply edits the question) and «Готово». Name, age, city and
// phone stay typed. Every step gets exactly one reply: a new message or an
// edit of the question's text.
var pressScript = []inboundStep{
	{text: "/start"}, {press: 1}, {text: "Анна"}, {text: "43"}, {text: "Самара"}, {press: 2},
	{press: 1}, {press: 2}, {press: 6}, {text: "+79123456789"},
}

// inboundSteps is the script the clients follow: pressScript with
// INBOUND_PRESS=1, else inboundScript.
func inboundSteps() []inboundStep {
	if os.Getenv("INBOUND_PRESS") == "1" {
		return pressScript
	}
	steps := make([]inboundStep, len(inboundScript))
	for i, text := range inboundScript {
		steps[i] = inboundStep{text: text}
	}
	return steps
}

// inboundAPIDelay reads INBOUND_API_DELAY: how long the fake waits before
// answering each Bot API call other than getUpdates (a network round trip
// to Telegram; default 0).
func inboundAPIDelay(b *testing.B) time.Duration {
	v := os.Getenv("INBOUND_API_DELAY")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("INBOUND_API_DELAY: %v", err)
	}
	return d
}

// BenchmarkInboundTelegram drives simulated clients (INBOUND_CLIENTS, default
// 1,000) through the portrait scenario over the fake Bot API (typing every
// answer, or with INBOUND_PRESS=1 pressing the inline buttons of the
// button steps, see pressScript; INBOUND_API_DELAY delays the fake's
// answers to all calls but getUpdates, as network latency would): the Telegram
// adapter long-polls it, the dispatcher and dialog handler run on PostgreSQL
// and Redis. It reports updates/s, update-to-reply latency percentiles and
// the process's peak RSS (which includes the fake server and the clients).
// Targets (issue 3): ≥ 2,000 updates/s, p99 ≤ 50 ms, RSS ≤ 200 MB.
//
// Two modes:
//   - saturated: each client sends its next message as soon as it has the
//     reply (closed loop: latency is then clients ÷ throughput by Little's
//     law), one pass of the script;
//   - paced: the clients together send at a fixed rate (INBOUND_RATE,
//     default 2,000 updates/s) for INBOUND_ROUNDS passes of the script
//     (default 3: 24,000 updates, 12 s at 2,000/s). Client i sends its k-th
//     message at start + (i + k·clients)/rate, so the offered load is even
//     over the whole run with no ramp; a client whose reply comes after its
//     next slot sends at once when it comes, so a system that falls behind
//     shows it as a lower achieved rate, not as a hidden queue;
//   - webhook-paced: the paced load in webhook mode: the fake posts every
//     update to chathub's webhook as Telegram does, over at most 40
//     connections at a time (Telegram's default max_connections), and the
//     webhook answers each once it is handled.
func BenchmarkInboundTelegram(b *testing.B) {
	storetest.SkipUnlessServices(b)
	clients, rate, rounds := inboundLoad()
	for _, mode := range inboundModes(rate, rounds, true) {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				runInbound(b, clients, mode.rate, mode.rounds, mode.webhook)
			}
		})
	}
}

// inboundLoad reads INBOUND_CLIENTS, INBOUND_RATE and INBOUND_ROUNDS (see
// BenchmarkInboundTelegram for the defaults).
func inboundLoad() (clients int, rate float64, rounds int) {
	clients, rate, rounds = 1000, 2000, 3
	if v, err := strconv.Atoi(os.Getenv("INBOUND_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("INBOUND_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	if v, err := strconv.Atoi(os.Getenv("INBOUND_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	return clients, rate, rounds
}

// inboundMode is one load of the inbound benchmarks.
type inboundMode struct {
	name    string
	rate    float64 // updates/s offered by all clients together; 0: saturated
	rounds  int     // passes of the script
	webhook bool
}

// inboundModes returns the saturated load (one pass) and the paced one at
// rate for rounds passes, then, with webhook, the paced one in webhook mode.
func inboundModes(rate float64, rounds int, webhook bool) []inboundMode {
	modes := []inboundMode{
		{"saturated", 0, 1, false},
		{fmt.Sprintf("paced-%gups", rate), rate, rounds, false},
	}
	if webhook {
		modes = append(modes, inboundMode{fmt.Sprintf("webhook-paced-%gups", rate), rate, rounds, true})
	}
	return modes
}

// webhookConns is how many updates the fake posts to the webhook at once:
// Telegram's default max_connections.
const webhookConns = 40

func runInbound(b *testing.B, clients int, rate float64, rounds int, webhook bool) {
	fake := telegramtest.New(b)
	fake.DelayCalls(inboundAPIDelay(b))
	cfg := fullStepConfig(b)
	cfg.HTTPAddr = "127.0.0.1:0"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	stores, err := Open(ctx, cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer stores.Close()
	if os.Getenv("INBOUND_TRANSCRIPT") == "off" {
		stores.clients = func(c dialog.ClientStore) dialog.ClientStore { return noTranscript{c} }
	}
	limit, _ := strconv.Atoi(os.Getenv("INBOUND_POLL_LIMIT"))
	tcfg := telegram.Config{Token: fake.Token(), APIURL: fake.URL(), PollTimeout: time.Second, PollLimit: limit, Logger: logger}
	if webhook {
		tcfg.WebhookURL, tcfg.WebhookSecret = "https://chathub.example/tg", webhookSecret
	}
	bot, err := telegram.New(tcfg)
	if err != nil {
		b.Fatal(err)
	}
	entry := Bot{Platform: messenger.Telegram, Sender: bot, Poll: bot.Run}
	if webhook {
		entry = Bot{Platform: messenger.Telegram, Sender: bot, WebhookPath: bot.WebhookPath(), Webhook: bot.WebhookHandler}
	}
	trace := newStageTrace(fake)
	trace.hook(stores, &entry)
	rt, err := NewRuntime(cfg, stores, []Bot{entry}, logger)
	if err != nil {
		b.Fatal(err)
	}
	replies, completed := watchReplies(fake, clients, trace)
	if err := rt.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer rt.Stop(ctx)
	if webhook {
		defer fake.DeliverTo("http://"+rt.Addr()+"/tg", webhookSecret, webhookConns)()
	}
	pg := postmasterOf(b, cfg.DatabaseURL)
	cpu0, machine0, pg0 := processCPU(), machineCPU(), proccpu.Tree(pg)
	lat, elapsed := driveClients(b, fake, replies, rate, rounds, trace)
	reportInbound(b, lat, elapsed)
	trace.report(b)
	checkCompleted(b, completed, clients*rounds)
	b.ReportMetric(float64(fake.Calls("answerCallbackQuery")), "answerCallbackQuery")
	b.ReportMetric(float64(fake.Calls("editMessageReplyMarkup")), "editMessageReplyMarkup")
	b.ReportMetric(float64(fake.Calls("editMessageText")), "editMessageText")
	b.ReportMetric(float64(fake.Calls("getUpdates")), "getUpdates")
	b.ReportMetric(float64(rt.Dispatcher().Stats().Retries()), "retries")
	if n := float64(len(lat)); n > 0 {
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/n, "proc-cpu-µs/update")
		b.ReportMetric(float64((machineCPU()-machine0).Microseconds())/n, "machine-cpu-µs/update")
		if pg > 0 {
			b.ReportMetric(float64((proccpu.Tree(pg)-pg0).Microseconds())/n, "pg-cpu-µs/update")
		}
	}
}

// noTranscript is a CRM that records a turn's changes without its
// transcript rows: INBOUND_TRANSCRIPT=off runs the inbound benchmark on it,
// so that the transcript's cost is the difference between two runs of the
// same binary.
type noTranscript struct{ dialog.ClientStore }

func (n noTranscript) RecordChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) error {
	ch.Messages = nil
	return n.ClientStore.RecordChanges(ctx, key, ch)
}

// inboundClient is a simulated client: its replies are signalled on
// replies; newest is the bot's newest message to it, whose buttons it
// presses.
type inboundClient struct {
	replies chan struct{}
	newest  atomic.Pointer[botMessage]
}

// botMessage is a bot message as a client sees it: its id and the callback
// data of its inline buttons, row by row.
type botMessage struct {
	id      int
	buttons []string
}

// newBotMessage reads what a client needs of a message.
func newBotMessage(m telegramtest.Sent) *botMessage {
	bm := &botMessage{id: m.MessageID}
	if m.ReplyMarkup.IsInline() {
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			for _, btn := range row {
				bm.buttons = append(bm.buttons, btn.CallbackData)
			}
		}
	}
	return bm
}

// watchReplies makes the fake keep no history and signal each client's
// replies on the client's channel (users 100000 on, as driveClients sends
// from them): every new message and every edit of the text of the client's
// newest message (how a multi-select's toggle answers), not the edits of
// the markup alone (the marks of the chosen options). completed counts the
// surveys' closing messages («Спасибо, …»), by which a run shows that every
// client went through the whole scenario. The trace (nil: none) marks when
// the fake received each reply.
func watchReplies(fake *telegramtest.Server, clients int, trace *stageTrace) (map[int64]*inboundClient, *atomic.Int64) {
	replies := make(map[int64]*inboundClient, clients)
	for i := range clients {
		replies[int64(100000+i)] = &inboundClient{replies: make(chan struct{}, 4)}
	}
	completed := new(atomic.Int64)
	signal := func(c *inboundClient) {
		select {
		case c.replies <- struct{}{}:
		default:
		}
	}
	fake.DiscardMessages() // the clients read replies through SetOnSend and SetOnEdit
	fake.SetOnSend(func(user int64, m telegramtest.Sent) {
		trace.mark(user, markReceived, time.Now())
		if strings.HasPrefix(m.Text, "Спасибо") {
			completed.Add(1)
		}
		if c, ok := replies[user]; ok {
			c.newest.Store(newBotMessage(m))
			signal(c)
		}
	})
	fake.SetOnEdit(func(user int64, method string, m telegramtest.Sent) {
		c, ok := replies[user]
		if !ok || method != "editMessageText" {
			return
		}
		if cur := c.newest.Load(); cur != nil && cur.id == m.MessageID {
			c.newest.Store(newBotMessage(m))
			signal(c)
		}
	})
	return replies, completed
}

// checkCompleted fails the benchmark unless want surveys were completed.
func checkCompleted(b *testing.B, completed *atomic.Int64, want int) {
	if got := completed.Load(); got != int64(want) {
		b.Errorf("%d surveys completed, want %d (one per client and round)", got, want)
	}
}

// driveClients runs every client's script (inboundSteps) rounds times
// concurrently, each client waiting for the reply before its next message;
// with a rate, the messages are sent on an even schedule (see
// BenchmarkInboundTelegram). It returns the latencies and the time the run
// took. The trace (nil: none) marks when each update was queued and when
// its reply came.
func driveClients(b *testing.B, fake *telegramtest.Server, clients map[int64]*inboundClient, rate float64, rounds int, trace *stageTrace) ([]time.Duration, time.Duration) {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	script := inboundSteps()
	users := slices.Sorted(maps.Keys(clients))
	start := time.Now()
	for i, user := range users {
		c := clients[user]
		wg.Go(func() {
			mine := make([]time.Duration, 0, rounds*len(script))
			for k := range rounds * len(script) {
				if rate > 0 {
					slot := start.Add(time.Duration(float64(i+k*len(users)) / rate * float64(time.Second)))
					time.Sleep(time.Until(slot))
				}
				step := script[k%len(script)]
				t0 := time.Now()
				trace.begin(user, t0)
				id := sendStep(fake, user, c, step)
				if id == 0 {
					b.Errorf("user %d: the bot's newest message has no button %d to press", user, step.press)
					return
				}
				trace.queued(user, id)
				select {
				case <-c.replies:
					mine = append(mine, time.Since(t0))
					trace.mark(user, markReplied, time.Now())
				case <-time.After(30 * time.Second):
					b.Errorf("user %d: no reply to %+v", user, step)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat, time.Since(start)
}

// sendStep sends one step of a client's script: its text, or the press of
// a button of the bot's newest message. It returns the update's id, 0 when
// that message has no such button.
func sendStep(fake *telegramtest.Server, user int64, c *inboundClient, step inboundStep) (updateID int) {
	if step.press == 0 {
		return fake.SendText(user, step.text)
	}
	m := c.newest.Load()
	if m == nil || step.press > len(m.buttons) || m.buttons[step.press-1] == "" {
		return 0
	}
	return fake.PressButton(user, m.id, m.buttons[step.press-1])
}

func reportInbound(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "updates/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.90), "p90-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// peakRSSMB reads the process's peak resident set (VmHWM) from /proc.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb / 1024
		}
	}
	return 0
}

// processCPU is the user + system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postmasterOf is the process id of the PostgreSQL server at url when it
// runs on this machine (the parent of a backend), else 0.
func postmasterOf(b *testing.B, url string) int {
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		b.Fatal(err)
	}
	return proccpu.Parent(backend)
}

// machineCPU is the busy CPU time of the whole machine so far (all
// processes: PostgreSQL and Redis included), from /proc/stat.
func machineCPU() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}
