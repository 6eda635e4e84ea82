package app

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/platformtest/proccpu"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// BenchmarkInboundExternalBot drives another bot through the same survey,
// clients and fake Bot API as BenchmarkInboundTelegram, to compare chathub
// with it: INBOUND_EXTERNAL_BOT is the bot's command line (run by sh from
// this package's directory), started with TELEGRAM_TOKEN, TELEGRAM_API_URL
// (the fake's API root), REDIS_URL and REDIS_PREFIX in its environment. The
// grammY baseline of bench/grammy:
//
//	INBOUND_EXTERNAL_BOT='node ../../bench/grammy/bot.mjs' \
//	  go test -run='^$' -bench=InboundExternalBot -benchtime=1x ./internal/app/
//
// Modes: saturated and paced, as in BenchmarkInboundTelegram. The bot must
// close each survey with a message starting «Спасибо» (checked).
// updates/s, latency and machine CPU are comparable with chathub's run;
// process CPU and RSS are the Go test process (fake and clients), not the
// bot's.
func BenchmarkInboundExternalBot(b *testing.B) {
	cmdline := os.Getenv("INBOUND_EXTERNAL_BOT")
	if cmdline == "" {
		b.Skip("INBOUND_EXTERNAL_BOT (the bot's command line) is not set")
	}
	storetest.SkipUnlessServices(b)
	benchBot(b, true, false, func(b *testing.B, fake *telegramtest.Server, _ *stageTrace) func() {
		return startExternalBot(b, cmdline, fake)
	})
}

// BenchmarkInboundBareLibrary is the ceiling of the same load with no
// scenario and no storage: the idiomatic telegram-bot-api loop
// (GetUpdatesChan, one reply per update, sent in the loop), answering every
// message with a fixed «Спасибо» text. It shows what the library and the fake
// reach alone. With INBOUND_PRESS=1 every reply carries an inline keyboard
// of six buttons for the clients to press, and the loop answers each
// callback query (answerCallbackQuery) before its reply.
func BenchmarkInboundBareLibrary(b *testing.B) {
	benchBot(b, false, false, startBareBot)
}

// benchBot runs the saturated and paced loads against the bot that start
// launches on a fresh fake each time and reports as BenchmarkInboundTelegram
// does, with this process's and the whole machine's CPU per update. For an
// external bot (a process of its own, running the survey) it also reports
// the machine's CPU outside this process per update and checks that every
// client's survey was completed. With pg (a bot writing to the test
// PostgreSQL server, which must run on this machine) it reports that
// server's CPU per update too.
//
// With INBOUND_STAGES=1 start gets a trace (else nil) and the stages it
// marked are logged.
func benchBot(b *testing.B, external, pg bool, start func(*testing.B, *telegramtest.Server, *stageTrace) (stop func())) {
	clients, rate, rounds := inboundLoad()
	for _, mode := range inboundModes(rate, rounds, false) {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				fake := telegramtest.New(b)
				fake.DelayCalls(inboundAPIDelay(b))
				trace := newStageTrace(fake)
				replies, completed := watchReplies(fake, clients, trace)
				stop := start(b, fake, trace)
				postmaster := 0
				if pg {
					postmaster = postmasterOf(b, storetest.DatabaseURL())
				}
				cpu0, machine0, pg0 := processCPU(), machineCPU(), proccpu.Tree(postmaster)
				lat, elapsed := driveClients(b, fake, replies, mode.rate, mode.rounds, trace)
				reportInbound(b, lat, elapsed)
				trace.report(b)
				if n := float64(len(lat)); n > 0 {
					proc, machine := processCPU()-cpu0, machineCPU()-machine0
					b.ReportMetric(float64(proc.Microseconds())/n, "proc-cpu-µs/update")
					b.ReportMetric(float64(machine.Microseconds())/n, "machine-cpu-µs/update")
					if external {
						b.ReportMetric(float64((machine-proc).Microseconds())/n, "other-cpu-µs/update")
					}
					if postmaster > 0 {
						b.ReportMetric(float64((proccpu.Tree(postmaster)-pg0).Microseconds())/n, "pg-cpu-µs/update")
					}
				}
				stop()
				if external {
					checkCompleted(b, completed, clients*mode.rounds)
				}
			}
		})
	}
}

// startExternalBot runs cmdline against fake and waits until it polls; stop
// sends it SIGTERM (SIGKILL after 5 s) and waits for it.
func startExternalBot(b *testing.B, cmdline string, fake *telegramtest.Server) (stop func()) {
	cmd := exec.Command("sh", "-c", "exec "+cmdline)
	cmd.Env = append(os.Environ(),
		"TELEGRAM_TOKEN="+fake.Token(), "TELEGRAM_API_URL="+fake.BaseURL(),
		"REDIS_URL="+storetest.RedisURL(), "REDIS_PREFIX="+storetest.Name(b, "external"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %q: %v", cmdline, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	for deadline := time.Now().Add(30 * time.Second); fake.Calls("getUpdates") == 0; {
		select {
		case err := <-done:
			b.Fatalf("%q exited before polling: %v", cmdline, err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("%q did not poll within 30 s", cmdline)
		}
	}
	return stop
}

// startBareBot runs the telegram-bot-api loop of BenchmarkInboundBareLibrary.
// The trace marks when the loop took each update and sent its reply.
func startBareBot(b *testing.B, fake *telegramtest.Server, trace *stageTrace) (stop func()) {
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(fake.Token(), fake.URL())
	if err != nil {
		b.Fatal(err)
	}
	press := os.Getenv("INBOUND_PRESS") == "1"
	var keyboard any
	if press {
		row := make([]tgbotapi.InlineKeyboardButton, 6)
		for i := range row {
			row[i] = tgbotapi.NewInlineKeyboardButtonData(strconv.Itoa(i+1), strconv.Itoa(i+1))
		}
		keyboard = tgbotapi.NewInlineKeyboardMarkup(row)
	}
	u := tgbotapi.NewUpdate(0)
	u.Timeout = 1
	updates := api.GetUpdatesChan(u)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for upd := range updates {
			var chat int64
			switch {
			case upd.Message != nil:
				chat = upd.Message.Chat.ID
			case press && upd.CallbackQuery != nil && upd.CallbackQuery.Message != nil:
				chat = upd.CallbackQuery.Message.Chat.ID
				if _, err := api.Request(tgbotapi.NewCallback(upd.CallbackQuery.ID, "")); err != nil {
					b.Errorf("answer callback query: %v", err)
				}
			default:
				continue
			}
			trace.mark(chat, markPicked, time.Now())
			trace.mark(chat, markSend, time.Now())
			msg := tgbotapi.NewMessage(chat, "Спасибо!")
			msg.ReplyMarkup = keyboard
			if _, err := api.Send(msg); err != nil {
				b.Errorf("send: %v", err)
			}
		}
	}()
	return func() {
		api.StopReceivingUpdates()
		<-done
	}
}
