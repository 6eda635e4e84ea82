package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// BenchmarkInboundBareLibraryCRM is the floor of chathub's inbound path with
// durable CRM writes: the bare telegram-bot-api loop of
// BenchmarkInboundBareLibrary plus, before each reply, the CRM write that
// chathub's dialog makes for the same turn of the survey (the same
// crm.Changes, recorded from the real dialog handler, through the same
// PostgreSQL store with its group commit). There is no scenario engine, no
// Redis, no dispatcher and no relay: what it adds to the bare loop is the
// durable write alone. The loop hands each update to a pool of workers, as
// any bot must to keep more than one write in flight (the clients of these
// loads send their next message only after the reply, so one chat never has
// two updates in flight); each worker writes, then replies «Спасибо!».
//
// Its p99 against the bare loop's, in the same run, is the least the
// durable write adds to the reply's tail on this machine (issue 14).
//
// Typed answers only: with INBOUND_PRESS=1 it is skipped (its turns are
// recorded from the typed survey, and it answers no callback query).
func BenchmarkInboundBareLibraryCRM(b *testing.B) {
	storetest.SkipUnlessServices(b)
	if os.Getenv("INBOUND_PRESS") == "1" {
		b.Skip("the floor runs the typed survey only (INBOUND_PRESS=1 is set)")
	}
	benchBot(b, false, true, startBareCRMBot)
}

// floorWorkers is how many CRM writes BenchmarkInboundBareLibraryCRM keeps
// in flight at most: as many as chathub's dispatcher workers by default
// (dispatch.Config.Workers).
func floorWorkers() int { return 64 * runtime.GOMAXPROCS(0) }

// startBareCRMBot opens the stores, records the survey's turns and runs the
// loop of BenchmarkInboundBareLibraryCRM against fake.
// The trace marks when a worker took each update, its write and its send.
func startBareCRMBot(b *testing.B, fake *telegramtest.Server, trace *stageTrace) (stop func()) {
	ctx := context.Background()
	cfg := fullStepConfig(b)
	stores, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	turns := surveyTurns(b, stores, cfg)
	var crmStore dialog.ClientStore = stores.CRM
	if trace != nil {
		trace.traceWrites(stores.CRM)
		crmStore = tracedCRM{stores.CRM, trace}
	}
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(fake.Token(), fake.URL())
	if err != nil {
		b.Fatal(err)
	}
	u := tgbotapi.NewUpdate(0)
	u.Timeout = 1
	updates := api.GetUpdatesChan(u)
	var wg sync.WaitGroup
	queue := make(chan tgbotapi.Update, floorWorkers())
	steps := &surveySteps{next: map[int64]int{}}
	for range floorWorkers() {
		wg.Go(func() { floorWorker(b, api, crmStore, turns, steps, queue, trace) })
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for upd := range updates {
			if upd.Message != nil {
				queue <- upd
			}
		}
	}()
	return func() {
		api.StopReceivingUpdates()
		<-done
		close(queue)
		wg.Wait()
		stores.Close()
	}
}

// surveySteps counts each chat's turns.
type surveySteps struct {
	mu   sync.Mutex
	next map[int64]int
}

// take returns the chat's turn number and counts it.
func (s *surveySteps) take(chat int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.next[chat]
	s.next[chat] = n + 1
	return n
}

// floorWorker writes each update's turn (the chat's next turn of the
// survey) to clients, then replies.
func floorWorker(b *testing.B, api *tgbotapi.BotAPI, clients dialog.ClientStore, turns []crm.Changes, steps *surveySteps, queue <-chan tgbotapi.Update, trace *stageTrace) {
	ctx := context.Background()
	for upd := range queue {
		chat := upd.Message.Chat.ID
		trace.mark(chat, markPicked, time.Now())
		ch := turns[steps.take(chat)%len(turns)]
		ch.Now, ch.UpdateID = time.Now(), strconv.Itoa(upd.UpdateID)
		key := messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(chat, 10)}
		if err := clients.RecordChanges(ctx, key, &ch); err != nil {
			b.Errorf("record changes: %v", err)
		}
		trace.mark(chat, markSend, time.Now())
		if _, err := api.Send(tgbotapi.NewMessage(chat, "Спасибо!")); err != nil {
			b.Errorf("send: %v", err)
		}
	}
}

// surveyTurns runs one client through inboundScript on the stores' real
// dialog handler and returns the CRM changes of each turn as the dialog
// recorded them (copies: the dialog reuses its results).
func surveyTurns(b *testing.B, stores *Stores, cfg config.Config) []crm.Changes {
	var turns []crm.Changes
	stores.clients = func(c dialog.ClientStore) dialog.ClientStore {
		return recordingCRM{c, func(ch *crm.Changes) { turns = append(turns, cloneChanges(ch)) }}
	}
	defer func() { stores.clients = nil }()
	h, err := stores.Handler(cfg, discardSender{})
	if err != nil {
		b.Fatal(err)
	}
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "1"}
	profile := &messenger.Profile{FirstName: "Анна", Username: "anna"}
	for i, text := range inboundScript {
		upd := messenger.Update{ID: strconv.Itoa(i + 1), Chat: key, Kind: messenger.KindMessage, Text: text, Profile: profile, Time: time.Now()}
		if err := h.Handle(context.Background(), &upd); err != nil {
			b.Fatalf("turn %d (%q): %v", i, text, err)
		}
	}
	if len(turns) != len(inboundScript) {
		b.Fatalf("%d CRM writes for %d turns of the survey, want one each", len(turns), len(inboundScript))
	}
	return turns
}

// recordingCRM passes every turn's changes to record before writing them.
type recordingCRM struct {
	dialog.ClientStore
	record func(*crm.Changes)
}

func (r recordingCRM) RecordChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) error {
	r.record(ch)
	return r.ClientStore.RecordChanges(ctx, key, ch)
}

// cloneChanges copies ch with slices and pointed-to values of its own.
func cloneChanges(ch *crm.Changes) crm.Changes {
	c := *ch
	c.Set, c.Attributes = slices.Clone(ch.Set), slices.Clone(ch.Attributes)
	c.AddTags, c.RemoveTags = slices.Clone(ch.AddTags), slices.Clone(ch.RemoveTags)
	c.Answers, c.Messages, c.Visits = slices.Clone(ch.Answers), slices.Clone(ch.Messages), slices.Clone(ch.Visits)
	if ch.Profile != nil {
		p := *ch.Profile
		c.Profile = &p
	}
	if ch.Completion != nil {
		p := *ch.Completion
		c.Completion = &p
	}
	return c
}
