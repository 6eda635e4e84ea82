package dialog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// remindSrc asks a color with buttons (reminded twice, an hour apart),
// then a name (reminded once), then ends.
const remindSrc = `id: colors
title: Цвета
triggers: { commands: [colors] }
steps:
  color:
    say: "Какой цвет вам нравится?"
    buttons:
      - { text: Синий, value: blue }
      - { text: Красный, value: red }
    save: attributes.color
    remind:
      after: 1h
      text: "{{ default \"Друг\" .client.first_name }}, вы не ответили. Какой цвет?"
      times: 2
    next: name
  name:
    say: "Как вас зовут?"
    input: text
    save: first_name
    remind: { after: 30m, text: "Напомните, как вас зовут?" }
    next: bye
  bye:
    say: "Спасибо!"
    end: true
`

// memReminders is an in-memory ReminderQueue: the chat's one reminder.
type memReminders struct {
	mu      sync.Mutex
	pending map[messenger.ChatKey]Reminder
	cancels int
}

func (m *memReminders) ScheduleReminder(_ context.Context, r Reminder) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[r.Chat] = r
	return nil
}

func (m *memReminders) CancelReminder(_ context.Context, chat messenger.ChatKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, chat)
	m.cancels++
	return nil
}

func (m *memReminders) get(chat messenger.ChatKey) (Reminder, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.pending[chat]
	return r, ok
}

// memReminderLog records what the funnel is told.
type memReminderLog struct {
	mu       sync.Mutex
	sent     []crm.Reminder
	answered []string // "scenario/step"
}

func (m *memReminderLog) RecordReminder(_ context.Context, _ messenger.ChatKey, r crm.Reminder) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, r)
	return nil
}

func (m *memReminderLog) ReminderAnswered(_ context.Context, _ messenger.ChatKey, scenario, step string, _, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.answered = append(m.answered, scenario+"/"+step)
	return nil
}

type remindFixture struct {
	handlerFixture
	queue   *memReminders
	log     *memReminderLog
	catalog *memCatalog
	mu      sync.Mutex
	now     time.Time
}

func newRemindFixture(t *testing.T) *remindFixture {
	t.Helper()
	g, err := scenario.Load("colors.yaml", []byte(remindSrc))
	if err != nil {
		t.Fatal(err)
	}
	f := &remindFixture{queue: &memReminders{pending: map[messenger.ChatKey]Reminder{}}, log: &memReminderLog{},
		catalog: &memCatalog{graphs: map[string]*scenario.Graph{"colors": g}}, now: testNow}
	f.states, f.clients, f.sender = newMemStates(), newMemClients(), &recSender{}
	f.h, err = NewHandler(HandlerConfig{
		States: f.states, Clients: f.clients, Scenarios: f.catalog, Sender: f.sender,
		Reminders: f.queue, ReminderLog: f.log,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *remindFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *remindFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

var updSeq atomic.Int64

// send handles a client's update (with a fresh id) and returns the replies.
func (f *remindFixture) send(t *testing.T, upd *messenger.Update) []messenger.OutMessage {
	t.Helper()
	upd.ID = fmt.Sprint("u", updSeq.Add(1))
	if err := f.h.Handle(context.Background(), upd); err != nil {
		t.Fatalf("handle %+v: %v", upd, err)
	}
	return f.sender.take()
}

// due returns the chat's pending reminder, failing when there is none.
func (f *remindFixture) due(t *testing.T) Reminder {
	t.Helper()
	r, ok := f.queue.get(testChat)
	if !ok {
		t.Fatal("no reminder pending")
	}
	return r
}

func (f *remindFixture) remind(t *testing.T, r Reminder) (RemindOutcome, []messenger.OutMessage) {
	t.Helper()
	out, err := f.h.Remind(context.Background(), r)
	if err != nil {
		t.Fatalf("Remind: %v", err)
	}
	return out, f.sender.take()
}

// TestReminderScheduledAndSent: asking a step with remind: schedules the
// chat's reminder; when due it goes out with the step's buttons, the
// next one is scheduled while times allow; the funnel and the transcript
// record it; answering afterwards continues the questionnaire and counts
// as the client coming back.
func TestReminderScheduledAndSent(t *testing.T) {
	t.Parallel()
	f := newRemindFixture(t)
	f.send(t, text("/colors"))
	r := f.due(t)
	g, _ := f.catalog.Get("colors")
	want := Reminder{Chat: testChat, Scenario: "colors", Version: g.Version, Step: "color", N: 1, Due: testNow.Add(time.Hour)}
	if r != want {
		t.Fatalf("scheduled %+v; want %+v", r, want)
	}
	f.advance(time.Hour)
	out, msgs := f.remind(t, r)
	if out != RemindSent || len(msgs) != 1 || msgs[0].Text != "Друг, вы не ответили. Какой цвет?" ||
		msgs[0].Keyboard == nil || len(msgs[0].Keyboard.Rows) != 1 || msgs[0].Keyboard.Rows[0][1].Value != "red" {
		t.Fatalf("Remind = %s, %+v; want the text with the step's buttons", out, msgs)
	}
	second := f.due(t)
	if second.N != 2 || !second.Due.Equal(testNow.Add(2*time.Hour)) {
		t.Fatalf("next reminder %+v; want the second an hour later", second)
	}
	if len(f.log.sent) != 1 || f.log.sent[0].Key != r.UpdateID() || f.log.sent[0].N != 1 || f.log.sent[0].Text != msgs[0].Text ||
		f.log.sent[0].Version != g.Version || !f.log.sent[0].SentAt.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("funnel %+v", f.log.sent)
	}
	for _, m := range f.clients.messages {
		if strings.Contains(m.Text, "не ответили") {
			t.Fatalf("the reminder went into the turn's CRM changes %+v (it does not count as the client seen)", m)
		}
	}
	// The same reminder again, its turn confirmed (a process took it over
	// after the first had sent it), sends nothing.
	f.states.confirm(testChat, r.UpdateID())
	if out, msgs := f.remind(t, r); out != RemindSent || len(msgs) != 0 {
		t.Fatalf("the first reminder again: %s, %v", out, msgs)
	}
	// One that is not the state's (another due time) is stale.
	other := second
	other.Due = other.Due.Add(time.Second)
	if out, msgs := f.remind(t, other); out != RemindStale || len(msgs) != 0 {
		t.Fatalf("a reminder the state does not record: %s, %v", out, msgs)
	}
	f.advance(time.Hour)
	if out, _ := f.remind(t, second); out != RemindSent {
		t.Fatalf("second: %s", out)
	}
	if r, ok := f.queue.get(testChat); ok {
		t.Fatalf("a third reminder %+v after times: 2", r)
	}
	// The client comes back and answers: the questionnaire goes on.
	msgs = f.send(t, button("blue"))
	if len(msgs) != 1 || msgs[0].Text != "Как вас зовут?" {
		t.Fatalf("answer after the reminders: %+v", msgs)
	}
	if len(f.log.answered) != 1 || f.log.answered[0] != "colors/color" {
		t.Fatalf("answered %v", f.log.answered)
	}
	if r := f.due(t); r.Step != "name" || r.N != 1 || !r.Due.Equal(f.clock().Add(30*time.Minute)) {
		t.Fatalf("the name step's reminder %+v", r)
	}
}

// TestReminderPlan: what each kind of turn does to the chat's reminder.
func TestReminderPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		upd  *messenger.Update
		// want: "moved" (the wait starts over), "next" (the next step's),
		// "none" (cancelled).
		want string
	}{
		{"a wrong answer", text("зелёный в крапинку"), "moved"},
		{"help keeps the place", text("/help"), "moved"},
		{"the answer", button("red"), "next"},
		{"a manager", text("/manager"), "none"},
		{"stop", text("/stop"), "none"},
		{"blocked", &messenger.Update{Chat: testChat, Kind: messenger.KindBlocked}, "none"},
		{"the scenario restarted", text("/colors"), "moved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRemindFixture(t)
			f.send(t, text("/colors"))
			first := f.due(t)
			f.advance(10 * time.Minute)
			f.send(t, tt.upd)
			r, ok := f.queue.get(testChat)
			switch tt.want {
			case "moved":
				if !ok || r.Step != "color" || r.N != 1 || !r.Due.Equal(f.clock().Add(time.Hour)) {
					t.Fatalf("reminder %+v, %v; want the wait started over", r, ok)
				}
			case "next":
				if !ok || r.Step != "name" {
					t.Fatalf("reminder %+v, %v; want the next step's", r, ok)
				}
			case "none":
				if ok {
					t.Fatalf("reminder %+v still pending", r)
				}
			}
			// Whatever the queue says, the first reminder no longer applies.
			if out, msgs := f.remind(t, first); out != RemindStale || len(msgs) != 0 {
				t.Fatalf("the first reminder after %s: %s, %+v", tt.name, out, msgs)
			}
		})
	}
}

// TestReminderStaleCases: a reminder whose conversation is with a
// manager, or whose step the operator no longer reminds at, is dropped
// even when the cheap cancel was lost.
func TestReminderStaleCases(t *testing.T) {
	t.Parallel()
	t.Run("hand-off", func(t *testing.T) {
		t.Parallel()
		f := newRemindFixture(t)
		f.send(t, text("/colors"))
		r := f.due(t)
		f.send(t, text("/manager"))
		if out, msgs := f.remind(t, r); out != RemindStale || len(msgs) != 0 {
			t.Fatalf("during a hand-off: %s, %+v", out, msgs)
		}
	})
	t.Run("remind removed from the file", func(t *testing.T) {
		t.Parallel()
		f := newRemindFixture(t)
		f.send(t, text("/colors"))
		r := f.due(t)
		block := `    remind:
      after: 1h
      text: "{{ default \"Друг\" .client.first_name }}, вы не ответили. Какой цвет?"
      times: 2
`
		if !strings.Contains(remindSrc, block) {
			t.Fatal("the test scenario changed")
		}
		g, err := scenario.Load("colors.yaml", []byte(strings.Replace(remindSrc, block, "", 1)))
		if err != nil {
			t.Fatal(err)
		}
		f.catalog.graphs["colors"] = g // the current version; the conversation's is gone
		if out, msgs := f.remind(t, r); out != RemindStale || len(msgs) != 0 {
			t.Fatalf("after the operator removed remind: %s, %+v", out, msgs)
		}
	})
}

// TestReminderBlocked: a send that finds the client blocked records the
// block and drops the reminder; nothing goes to the funnel.
func TestReminderBlocked(t *testing.T) {
	t.Parallel()
	f := newRemindFixture(t)
	f.send(t, text("/colors"))
	r := f.due(t)
	f.sender.err = messenger.ErrBlocked
	if out, _ := f.remind(t, r); out != RemindBlocked {
		t.Fatalf("Remind = %s; want blocked", out)
	}
	if c := f.clients.clients[testChat]; c == nil || c.BlockedAt == nil {
		t.Fatal("the block is not recorded")
	}
	if len(f.log.sent) != 0 {
		t.Fatalf("funnel %+v", f.log.sent)
	}
}

// TestReminderRetriedSendRepeats: a send that failed for a reason that
// may pass is an error; the retry with the same reminder sends the
// recorded reminder (not a new one), once.
func TestReminderRetriedSendRepeats(t *testing.T) {
	t.Parallel()
	f := newRemindFixture(t)
	f.send(t, text("/colors"))
	r := f.due(t)
	f.sender.err = &messenger.RateLimitError{RetryAfter: time.Second}
	if _, err := f.h.Remind(context.Background(), r); err == nil {
		t.Fatal("a rate-limited send is no error")
	}
	f.sender.err = nil
	out, msgs := f.remind(t, r)
	if out != RemindSent || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "вы не ответили") || msgs[0].Keyboard == nil {
		t.Fatalf("retry: %s, %+v", out, msgs)
	}
	if len(f.log.sent) != 1 || f.log.sent[0].Text != msgs[0].Text {
		t.Fatalf("funnel %+v; want the retried reminder with its text", f.log.sent)
	}
}

func TestReminderUpdateID(t *testing.T) {
	t.Parallel()
	r := Reminder{N: 2, Due: time.Unix(0, 1700000000123456789)}
	if got := r.UpdateID(); got != "remind:2:1700000000123456789" || !isReminder(&messenger.Update{ID: got}) {
		t.Fatalf("UpdateID = %q", got)
	}
}
