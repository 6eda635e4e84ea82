package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/remind"
	"github.com/chathub/chathub/internal/segment"
)

// colorsScenario asks a color with buttons and reminds of it twice, an
// hour apart; then a name (no reminder).
const colorsScenario = `id: colors
title: Цвета
triggers: { commands: [colors] }
steps:
  color:
    say: "Какой цвет вам нравится?"
    buttons:
      - { text: Синий, value: blue }
      - { text: Красный, value: red }
    save: attributes.color
    remind: { after: 1h, text: "Вы не ответили: какой цвет вам нравится?", times: 2 }
    next: name
  name:
    say: "Как вас зовут?"
    input: text
    save: first_name
    next: bye
  bye:
    say: "Спасибо!"
    end: true
`

const (
	askColor    = "Какой цвет вам нравится?"
	remindColor = "Вы не ответили: какой цвет вам нравится?"
)

// testClock is the clock the processes of a reminder test share; it moves
// only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *testClock) add(d time.Duration) { c.set(c.Now().Add(d)) }

// remindConfig is cfg with the colors scenario beside the survey.
func remindConfig(t *testing.T, cfg config.Config) config.Config {
	t.Helper()
	writeScenario(t, filepath.Join(cfg.ScenariosDir, "colors.yaml"), colorsScenario)
	return cfg
}

// remindProc is a process whose bot's handler schedules reminders and
// whose reminder worker sends them, on the shared clock.
type remindProc struct {
	*proc
	worker *remind.Worker
	sender reminderSender
}

// openRemind opens a process on cfg with clock clk; its worker is not
// started.
func openRemind(t *testing.T, cfg config.Config, clk *testClock) *remindProc {
	t.Helper()
	p := &remindProc{proc: open(t, cfg)}
	p.stores.now = clk.Now
	var err error
	if p.h, err = p.stores.handler(cfg, p.out, true); err != nil {
		t.Fatal(err)
	}
	if p.worker, err = newReminderWorker(cfg, p.stores, botRouter{"": p.h}, nil, p.stores.logger); err != nil {
		t.Fatal(err)
	}
	p.sender = reminderSender{gate: p.stores.State, ttl: time.Minute, bots: func(string) *dialog.Handler { return p.h }}
	return p
}

// start starts the worker, stopped (drained) when the test ends.
func (p *remindProc) start() {
	p.t.Helper()
	if err := p.worker.Start(context.Background()); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(p.stop)
}

func (p *remindProc) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.worker.Stop(ctx); err != nil {
		p.t.Errorf("reminder worker stop: %v", err)
	}
}

// reminded counts the reminders among msgs, each checked to carry the
// color step's buttons.
func reminded(t *testing.T, msgs []messenger.OutMessage) map[messenger.ChatKey]int {
	t.Helper()
	out := map[messenger.ChatKey]int{}
	for _, m := range msgs {
		if m.Text != remindColor {
			continue
		}
		if m.Keyboard == nil || len(m.Keyboard.Rows) == 0 || len(m.Keyboard.Rows[0]) != 2 || m.Keyboard.Rows[0][0].Value != "blue" {
			t.Errorf("reminder to %s without the step's buttons: %+v", m.Chat, m.Keyboard)
		}
		out[m.Chat]++
	}
	return out
}

// waitLong polls cond for up to 20 s, waking the workers each time.
func waitLong(t *testing.T, what string, cond func() bool, ws ...*remind.Worker) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 20s waiting until %s", what)
		}
		for _, w := range ws {
			w.Wake()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pending counts the reminders in the shared queue.
func pending(t *testing.T, p *remindProc) int64 {
	t.Helper()
	n, err := p.stores.State.PendingReminders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// day is a working day's noon in UTC: 15:00 in Moscow (DEFAULT_TIMEZONE),
// outside the quiet hours.
var day = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// TestRemindersExactlyOnceAcrossProcesses: two processes share the queue
// and each due reminder reaches its client once, with the question's
// buttons; then the processes stop, a third claims the next reminders and
// dies — after sending some, before sending the others — and a fourth,
// started after it (a restart), sends exactly the ones not sent, once its
// claim runs out. The funnel and the transcripts hold each reminder once.
func TestRemindersExactlyOnceAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, be := range []backend{postgresRedis, postgresCluster} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			testRemindersExactlyOnceAcrossProcesses(t, be)
		})
	}
}

func testRemindersExactlyOnceAcrossProcesses(t *testing.T, be backend) {
	cfg := remindConfig(t, be.cfg(t))
	clk := &testClock{now: day}
	a, b := openRemind(t, cfg, clk), openRemind(t, cfg, clk)
	const clients = 12
	chats := make([]messenger.ChatKey, clients)
	for i := range chats {
		chats[i] = chatKey(fmt.Sprint(5100 + i))
		p := []*remindProc{a, b}[i%2]
		p.expect(chats[i], "/colors", askColor)
	}
	if n := pending(t, a); n != clients {
		t.Fatalf("%d reminders pending; want one per client", n)
	}
	a.start()
	b.start()
	clk.add(time.Hour)
	var sent []messenger.OutMessage
	count := func() map[messenger.ChatKey]int {
		sent = append(sent, a.out.take()...)
		sent = append(sent, b.out.take()...)
		return reminded(t, sent)
	}
	waitLong(t, "every client is reminded", func() bool { return len(count()) == clients }, a.worker, b.worker)
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show
	for _, c := range chats {
		if n := count()[c]; n != 1 {
			t.Errorf("%s got %d first reminders", c, n)
		}
	}
	waitLong(t, "the second reminders are scheduled", func() bool { return pending(t, a) == clients })
	a.stop()
	b.stop()

	// The second reminders are due; process c claims them all and dies:
	// it sends the first half and not the rest, and finishes none.
	clk.add(time.Hour)
	c := openRemind(t, cfg, clk)
	claimed, err := c.stores.State.ClaimReminders(context.Background(), clk.Now(), remind.DefaultLease, 100)
	if err != nil || len(claimed) != clients {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, r := range claimed[:clients/2] {
		if out, err := c.sender.Remind(context.Background(), r); err != nil || out != dialog.RemindSent {
			t.Fatalf("send %s: %s, %v", r, out, err)
		}
	}
	c.close()
	// A restarted process takes over once the dead one's claims run out.
	d := openRemind(t, cfg, clk)
	d.start()
	time.Sleep(50 * time.Millisecond)
	if got := d.out.take(); len(got) != 0 {
		t.Fatalf("sent %d during the dead process's lease", len(got))
	}
	clk.add(remind.DefaultLease)
	sent = append(sent, c.out.take()...)
	total := func() map[messenger.ChatKey]int {
		sent = append(sent, d.out.take()...)
		return reminded(t, sent)
	}
	waitLong(t, "every client has both reminders", func() bool {
		for _, ch := range chats {
			if total()[ch] < 2 {
				return false
			}
		}
		return pending(t, d) == 0
	}, d.worker)
	time.Sleep(100 * time.Millisecond)
	for _, ch := range chats {
		if n := total()[ch]; n != 2 {
			t.Errorf("%s got %d reminders; want 2 (times: 2), each once", ch, n)
		}
	}
	// The send comes before its record: the transcript and the funnel are
	// written by the turn's group commit after the fake has the message, so
	// on a loaded machine they may lag the sends by a commit.
	var problems []string
	waitLong(t, "the transcript and the funnel hold both reminders of every client", func() bool {
		problems = remindRecordProblems(d, chats)
		return len(problems) == 0
	})
	for _, p := range problems {
		t.Error(p)
	}
}

// remindRecordProblems says which of chats lack, in d's CRM, the two
// reminders of the two-process test: two funnel rows (n 2 and 1) and two
// reminder messages in the transcript.
func remindRecordProblems(d *remindProc, chats []messenger.ChatKey) []string {
	var out []string
	for _, ch := range chats {
		cl := d.client(ch)
		rs, err := d.stores.CRM.ClientReminders(context.Background(), cl.ID)
		if err != nil || len(rs) != 2 || rs[0].N != 2 || rs[1].N != 1 {
			out = append(out, fmt.Sprintf("funnel of %s: %+v, %v", ch, rs, err))
		}
		msgs, err := d.stores.CRM.Transcript(context.Background(), cl.ID, handoff.Page{Limit: 50})
		n := 0
		for _, m := range msgs {
			if m.AuthorKind == crm.AuthorReminder && m.Text == remindColor {
				n++
			}
		}
		if err != nil || n != 2 {
			out = append(out, fmt.Sprintf("transcript of %s holds %d reminders (%v); want 2", ch, n, err))
		}
	}
	return out
}

// TestReminderQuietHours: a reminder due at 23:00 in the client's timezone
// (QUIET_HOURS 21:00-09:00) goes out at 09:00 there, not before.
func TestReminderQuietHours(t *testing.T) {
	t.Parallel()
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := remindConfig(t, b.cfg(t))
			yekt, err := time.LoadLocation("Asia/Yekaterinburg")
			if err != nil {
				t.Skip(err)
			}
			clk := &testClock{now: time.Date(2026, 3, 10, 22, 0, 0, 0, yekt)}
			p := openRemind(t, cfg, clk)
			chat := chatKey("5200")
			p.expect(chat, "/colors", askColor)
			if _, err := p.stores.CRM.ApplyChanges(context.Background(), chat, &crm.Changes{Now: clk.Now(),
				Set: []crm.FieldValue{{Field: "timezone", Value: "Asia/Yekaterinburg"}}}); err != nil {
				t.Fatal(err)
			}
			p.start()
			clk.add(time.Hour) // 23:00 there
			morning := time.Date(2026, 3, 11, 9, 0, 0, 0, yekt)
			waitLong(t, "the reminder waits for the morning", func() bool {
				_, at, ok, err := p.stores.State.ReminderOf(context.Background(), chat)
				return err == nil && ok && at.Equal(morning)
			}, p.worker)
			clk.set(morning.Add(-time.Minute))
			p.worker.Wake()
			time.Sleep(100 * time.Millisecond)
			if got := p.out.take(); len(got) != 0 {
				t.Fatalf("sent in the quiet hours: %q", got[0].Text)
			}
			clk.set(morning)
			var got []messenger.OutMessage
			waitLong(t, "the reminder goes out at 09:00", func() bool {
				got = append(got, p.out.take()...)
				return len(got) > 0
			}, p.worker)
			if reminded(t, got)[chat] != 1 {
				t.Fatalf("sent %+v", got)
			}
		})
	}
}

// TestReminderAnswerAndHandoff: answering before the reminder cancels it;
// a hand-off cancels it; a client who gets it and answers goes on with
// the questionnaire and counts as having come back; the reminder is in the
// transcript and counts for nothing in the broadcast frequency cap.
func TestReminderAnswerAndHandoff(t *testing.T) {
	t.Parallel()
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := remindConfig(t, b.cfg(t))
			clk := &testClock{now: day}
			p := openRemind(t, cfg, clk)
			ctx := context.Background()
			answers, handsOff, comesBack := chatKey("5301"), chatKey("5302"), chatKey("5303")
			for _, c := range []messenger.ChatKey{answers, handsOff, comesBack} {
				p.expect(c, "/colors", askColor)
			}
			if _, err := p.stores.CRM.ApplyChanges(ctx, comesBack, &crm.Changes{Now: clk.Now(), Consent: true}); err != nil {
				t.Fatal(err)
			}
			clk.add(30 * time.Minute)
			p.handle(answers, messenger.Update{Kind: messenger.KindButton, Value: "red", Text: "Красный"})
			p.say(handsOff, "/manager")
			for _, c := range []messenger.ChatKey{answers, handsOff} {
				if _, _, ok, _ := p.stores.State.ReminderOf(ctx, c); ok {
					t.Errorf("%s still has a reminder pending", c)
				}
			}
			p.start()
			clk.add(time.Hour)
			var got []messenger.OutMessage
			waitLong(t, "the remaining client is reminded", func() bool {
				got = append(got, p.out.take()...)
				return len(got) > 0
			}, p.worker)
			time.Sleep(100 * time.Millisecond)
			got = append(got, p.out.take()...)
			if r := reminded(t, got); len(got) != 1 || r[comesBack] != 1 {
				t.Fatalf("sent %+v; want one reminder, to %s", got, comesBack)
			}
			// The client comes back and answers with the reminder's button.
			if got := p.handle(comesBack, messenger.Update{Kind: messenger.KindButton, Value: "blue", Text: "Синий"}); len(got) != 1 || got[0] != askName {
				t.Fatalf("after the reminder, the answer gets %q; want the next question", got)
			}
			cl := p.client(comesBack)
			if cl.Attributes["color"] != "blue" {
				t.Fatalf("color = %v", cl.Attributes["color"])
			}
			rs, err := p.stores.CRM.ClientReminders(ctx, cl.ID)
			if err != nil || len(rs) != 1 || rs[0].AnsweredAt == nil || rs[0].Step != "color" {
				t.Fatalf("funnel: %+v, %v; want the reminder answered", rs, err)
			}
			if _, _, ok, _ := p.stores.State.ReminderOf(ctx, comesBack); ok {
				t.Fatal("a reminder is pending for a step without remind:")
			}
			checkTranscriptReminder(t, p, cl.ID)
			checkNotCapped(t, p, cfg, cl.ID, clk.Now())
			checkReminderFunnel(t, p, clk)
		})
	}
}

// checkReminderFunnel: the funnel of TestReminderAnswerAndHandoff's
// conversations, from the step visits the handler recorded: three reached
// color; one answered at once (30 min), one after the reminder (1 h 30
// min), one is with a manager (its questionnaire paused there, so stuck);
// the two that answered wait at name.
func checkReminderFunnel(t *testing.T, p *remindProc, clk *testClock) {
	t.Helper()
	// On clk; the default 30 days for how long a waiting conversation is
	// stuck (the harness's STATE_TTL is an hour, shorter than the day the
	// clock moves through).
	svc, err := FunnelService(config.Config{}, p.stores.CRM, p.stores.funnelCatalog(p.cfg), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Funnel(context.Background(), funnel.Query{Scenario: "colors"})
	if err != nil {
		t.Fatal(err)
	}
	want := []funnel.Step{
		{ID: "color", Question: true, Entered: 3, Answered: 2, OfStart: 100, OfPrevious: 100, Stuck: 1, MedianAnswer: time.Hour, Reminded: 1, CameBack: 1},
		{ID: "name", Question: true, Entered: 2, OfStart: 66.7, OfPrevious: 66.7, Stuck: 2},
		{ID: "bye", OfStart: 0, OfPrevious: 0},
	}
	if !slices.Equal(r.Steps, want) {
		t.Errorf("funnel:\n%+v\nwant\n%+v", r.Steps, want)
	}
}

// checkTranscriptReminder: the client's transcript shows the reminder
// once, by the reminder (not the bot), between the question and the answer.
func checkTranscriptReminder(t *testing.T, p *remindProc, clientID int64) {
	t.Helper()
	msgs, err := p.stores.CRM.Transcript(context.Background(), clientID, handoff.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i := len(msgs) - 1; i >= 0; i-- { // oldest first
		kinds = append(kinds, msgs[i].AuthorKind)
		if msgs[i].AuthorKind == crm.AuthorReminder && msgs[i].Text != remindColor {
			t.Errorf("reminder row text %q", msgs[i].Text)
		}
	}
	want := []string{crm.AuthorClient, crm.AuthorBot, crm.AuthorReminder, crm.AuthorClient, crm.AuthorBot}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("transcript authors %v; want %v", kinds, want)
	}
}

// checkNotCapped: a reminder is no broadcast: the client's last broadcast
// stays unset and a campaign's frequency cap does not skip them.
func checkNotCapped(t *testing.T, p *remindProc, cfg config.Config, clientID int64, now time.Time) {
	t.Helper()
	seg, err := segment.Compile("subscribed")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := p.stores.CRM.Recipients(context.Background(), seg, clientID-1, 1)
	if err != nil || len(rs) != 1 || rs[0].ClientID != clientID {
		t.Fatalf("recipients %+v, %v", rs, err)
	}
	if rs[0].LastBroadcastAt != nil {
		t.Fatalf("last broadcast at %s after a reminder", rs[0].LastBroadcastAt)
	}
	svc, err := BroadcastService(cfg, p.stores.CRM, nil, p.stores.logger)
	if err != nil {
		t.Fatal(err)
	}
	if v := svc.Policy().Check(&broadcast.Campaign{}, &rs[0], now); v.Reason != "" {
		t.Fatalf("a campaign skips the reminded client: %s", v.Reason)
	}
}

// TestReminderThroughTelegram: `chathub run` with a Telegram bot (the fake
// Bot API, long polling): a client who stopped at a question gets the
// reminder with the question's buttons, presses one of them and the
// questionnaire goes on.
func TestReminderThroughTelegram(t *testing.T) {
	t.Parallel()
	for _, b := range append(keyBackends[:len(keyBackends):len(keyBackends)], postgresCluster) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := remindConfig(t, b.cfg(t))
			cfg.HTTPAddr = "127.0.0.1:0"
			clk := &testClock{now: day}
			fake := telegramtest.New(t)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			stores, err := Open(context.Background(), cfg, logger)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = stores.Close() })
			stores.now = clk.Now
			bot, err := telegram.New(telegram.Config{Token: fake.Token(), APIURL: fake.URL()})
			if err != nil {
				t.Fatal(err)
			}
			rt, err := NewRuntime(cfg, stores, []Bot{{Platform: messenger.Telegram, Sender: bot, Poll: bot.Run}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rt.Stop(context.Background()) })
			const user = 5400
			fake.SendText(user, "/colors")
			if got := fake.WaitMessages(user, 1, 10*time.Second); got[0].Text != askColor {
				t.Fatalf("first message %q", got[0].Text)
			}
			clk.add(time.Hour) // the client stopped: an hour passes
			rt.reminders.Wake()
			got := fake.WaitMessages(user, 2, 20*time.Second)
			r := got[1]
			if r.Text != remindColor || !r.ReplyMarkup.IsInline() || fmt.Sprint(r.ReplyMarkup.Captions()) != "[Синий Красный]" {
				t.Fatalf("reminder %q with %+v; want the question's buttons", r.Text, r.ReplyMarkup)
			}
			telegramtest.NewDriver(fake).Press(t, user, "Синий") // on the reminder, the newest message
			if got := fake.WaitMessages(user, 3, 10*time.Second); got[2].Text != askName {
				t.Fatalf("after the answer: %q; want the next question", got[2].Text)
			}
			cl, err := stores.CRM.GetClient(context.Background(), chatKey(fmt.Sprint(user)))
			if err != nil || cl == nil || cl.Attributes["color"] != "blue" {
				t.Fatalf("client %+v, %v; want the color answered through the reminder", cl, err)
			}
		})
	}
}
