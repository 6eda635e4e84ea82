package dialog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// fakeHours are working hours that are open or not, with a fixed next opening.
type fakeHours struct {
	open bool
	next time.Time
}

func (h fakeHours) Open(time.Time) bool          { return h.open }
func (h fakeHours) NextOpen(time.Time) time.Time { return h.next }

// newHandoffFixture serves the shipped scenarios and testdata/handoff.yaml
// with the hand-off configured as cfg.
func newHandoffFixture(t *testing.T, cfg HandoffConfig) *handlerFixture {
	t.Helper()
	f := newHandlerFixture(t, "testdata/handoff.yaml")
	c := f.h.cfg
	c.Handoff = cfg
	h, err := NewHandler(c)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

// TestHandoffStory is the story: mid-questionnaire /manager, then
// a question. The question goes to the manager (hand-off activity and the
// transcript), no CRM field is set and the bot says nothing; a second
// /manager adds no second request or acknowledgment.
func TestHandoffStory(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t, HandoffConfig{})
	f.say(t, text("/start"))
	f.say(t, button("yes"))
	got := f.say(t, text("/manager"))
	if len(got) != 1 || !strings.Contains(got[0], "обычно за 10 минут") {
		t.Fatalf("acknowledgment = %q, want one message promising 10 minutes", got)
	}
	if len(f.clients.handoffs) != 1 || f.clients.handoffs[0].Scenario != "portrait" || f.clients.handoffs[0].Step != "name" {
		t.Fatalf("hand-off requests = %+v, want one at portrait/name", f.clients.handoffs)
	}
	f.clients.messages = nil
	if got := f.say(t, text("У меня вопрос по заказу")); len(got) != 0 {
		t.Fatalf("the bot answered during the hand-off: %q", got)
	}
	c := f.clients.clients[testChat]
	if c.FirstName != "" {
		t.Errorf("first name = %q: the question was taken as the answer", c.FirstName)
	}
	for _, a := range f.clients.answers {
		if a.Value == "У меня вопрос по заказу" {
			t.Errorf("the question went into the answer history: %+v", a)
		}
	}
	if n := len(f.clients.activity); n != 1 || f.clients.activity[0].Question != "У меня вопрос по заказу" || !f.clients.activity[0].At.Equal(testNow) {
		t.Errorf("hand-off activity = %+v", f.clients.activity)
	}
	if n := len(f.clients.messages); n != 1 || f.clients.messages[0].Text != "У меня вопрос по заказу" ||
		f.clients.messages[0].Direction != crm.DirectionIn || f.clients.messages[0].AuthorKind != crm.AuthorClient {
		t.Errorf("transcript = %+v, want the question only", f.clients.messages)
	}
	// Buttons and contacts go to the manager too, never into the questionnaire.
	if got := f.say(t, button("no")); len(got) != 0 {
		t.Errorf("the bot answered a button during the hand-off: %q", got)
	}
	if got := f.say(t, &messenger.Update{Chat: testChat, Kind: messenger.KindContact, Contact: &messenger.Contact{Phone: "+79123456789"}}); len(got) != 0 {
		t.Errorf("the bot answered a contact during the hand-off: %q", got)
	}
	if c := f.clients.clients[testChat]; c.Phone != "" {
		t.Errorf("phone = %q during the hand-off", c.Phone)
	}
	if got := f.say(t, text("/manager ещё раз")); len(got) != 0 || len(f.clients.handoffs) != 1 {
		t.Errorf("second /manager: replies %q, requests %d; want none and still one", got, len(f.clients.handoffs))
	}
	if got := f.say(t, button(ManagerValue)); len(got) != 0 || len(f.clients.handoffs) != 1 {
		t.Errorf("manager button during the hand-off: replies %q, requests %d; want none and still one", got, len(f.clients.handoffs))
	}
	f.clients.messages = nil
	if got := f.say(t, &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported, Media: messenger.MediaPhoto}); len(got) != 0 {
		t.Errorf("the bot answered a photo during the hand-off: %q", got)
	}
	if n := len(f.clients.messages); n != 1 || f.clients.messages[0].Media != messenger.MediaPhoto {
		t.Errorf("transcript of a photo = %+v", f.clients.messages)
	}
	if n := len(f.clients.activity); n != 6 {
		t.Errorf("hand-off activity rows = %d, want one per message after the request (6)", n)
	}
	if st := f.state(t); st.Handoff == nil || st.Step != "name" {
		t.Errorf("state = %+v, want the mark and the name step", st)
	}
}

// TestHandoffStopAndForget: /stop still unsubscribes (the chat stays with
// the manager); a confirmed /forget deletes the client and drops the mark.
func TestHandoffStopAndForget(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t, HandoffConfig{})
	f.say(t, text("/start"))
	f.say(t, button("yes"))
	f.say(t, text("/manager"))
	if got := strings.Join(f.say(t, text("/stop")), ""); !strings.Contains(got, "отписались") {
		t.Fatalf("/stop during a hand-off: %q", got)
	}
	if c := f.clients.clients[testChat]; c.Subscribed {
		t.Error("still subscribed after /stop")
	}
	if f.state(t).Handoff == nil {
		t.Fatal("/stop dropped the hand-off")
	}
	if got := strings.Join(f.say(t, text("/forget")), ""); !strings.Contains(got, "Удалить все ваши данные") {
		t.Fatalf("/forget during a hand-off: %q", got)
	}
	f.say(t, button(forgetYes))
	if _, ok := f.clients.clients[testChat]; ok {
		t.Error("client kept after a confirmed /forget")
	}
	if st := f.state(t); st.Handoff != nil {
		t.Errorf("mark kept after /forget: %+v", st)
	}
}

// TestHandoffTriggers: /manager with a question, the cmd:manager button
// (pressed or typed), a handoff: step and the keyword phrases; a message
// that only mentions a keyword, or picks an option equal to one, is an
// answer, not a request.
func TestHandoffTriggers(t *testing.T) {
	t.Parallel()
	kw := HandoffConfig{Keywords: []string{"позовите менеджера", "Оператор"}}
	tests := []struct {
		name     string
		setup    []*messenger.Update
		upd      *messenger.Update
		handoff  bool
		question string
		reason   string
		check    func(t *testing.T, f *handlerFixture)
	}{
		{name: "command with a question", upd: text("/manager У меня вопрос"), handoff: true, question: "У меня вопрос", reason: handoffReasonCommand},
		{name: "manager button", setup: []*messenger.Update{text("/support")}, upd: button(ManagerValue), handoff: true, reason: handoffReasonButton},
		{name: "manager button caption typed", setup: []*messenger.Update{text("/support")}, upd: text("позвать менеджера"), handoff: true, reason: handoffReasonButton},
		{name: "handoff step", setup: []*messenger.Update{text("/support"), button("delivery")}, upd: text("A-100"), handoff: true, reason: "support request"},
		{name: "keyword idle", upd: text("  Позовите   МЕНЕДЖЕРА! "), handoff: true, question: "Позовите   МЕНЕДЖЕРА!", reason: handoffReasonKeyword},
		{name: "keyword mid-questionnaire", setup: []*messenger.Update{text("/start"), button("yes")}, upd: text("оператор"), handoff: true, question: "оператор", reason: handoffReasonKeyword},
		{name: "free-text answer mentioning the keyword", setup: []*messenger.Update{text("/start"), button("yes")},
			upd: text("Хочу поговорить с оператором"), handoff: false,
			check: func(t *testing.T, f *handlerFixture) {
				if c := f.clients.clients[testChat]; c.FirstName != "Хочу поговорить с оператором" {
					t.Errorf("first name = %q, want the answer saved", c.FirstName)
				}
			}},
		{name: "option equal to a keyword is answered", setup: []*messenger.Update{text("/support")}, upd: text("Оператор"), handoff: false,
			check: func(t *testing.T, f *handlerFixture) {
				if st := f.state(t); st.Step != "order" {
					t.Errorf("step = %q, want order (the option chosen)", st.Step)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandoffFixture(t, kw)
			for _, u := range tt.setup {
				f.say(t, u)
			}
			replies := f.say(t, tt.upd)
			st := f.state(t)
			if !tt.handoff {
				if len(f.clients.handoffs) != 0 || st.Handoff != nil {
					t.Fatalf("hand-off started: %+v, state %+v", f.clients.handoffs, st)
				}
			} else {
				if len(f.clients.handoffs) != 1 || st.Handoff == nil {
					t.Fatalf("hand-off requests %+v, state %+v; want one and a mark", f.clients.handoffs, st)
				}
				ho := f.clients.handoffs[0]
				if ho.Question != tt.question || ho.Reason != tt.reason || st.Handoff.Reason != tt.reason {
					t.Errorf("request = %+v (mark %+v), want question %q reason %q", ho, st.Handoff, tt.question, tt.reason)
				}
				if last := replies[len(replies)-1]; !strings.Contains(last, "Передали ваш вопрос менеджеру") {
					t.Errorf("last reply %q, want the acknowledgment", last)
				}
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

// TestHandoffAcknowledgment: the wait from configuration in Russian, and
// outside working hours when managers are back.
func TestHandoffAcknowledgment(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	tests := []struct {
		name string
		cfg  HandoffConfig
		now  time.Time
		want string
	}{
		{"default wait", HandoffConfig{}, testNow, "он ответит здесь, обычно за 10 минут."},
		{"one minute", HandoffConfig{Wait: time.Minute}, testNow, "обычно за 1 минуту."},
		{"two minutes", HandoffConfig{Wait: 2 * time.Minute}, testNow, "обычно за 2 минуты."},
		{"21 minutes", HandoffConfig{Wait: 21 * time.Minute}, testNow, "обычно за 21 минуту."},
		{"hour and a half", HandoffConfig{Wait: 90 * time.Minute}, testNow, "обычно за 1 час 30 минут."},
		{"two hours", HandoffConfig{Wait: 2 * time.Hour}, testNow, "обычно за 2 часа."},
		{"open hours", HandoffConfig{Hours: fakeHours{open: true}}, testNow, "обычно за 10 минут."},
		{"back today", HandoffConfig{Hours: fakeHours{next: testNow.Add(6 * time.Hour)}}, testNow, "менеджеры вернутся сегодня в 18:00"},
		{"back tomorrow", HandoffConfig{Hours: fakeHours{next: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}}, testNow, "менеджеры вернутся завтра в 09:00"},
		{"back on Thursday", HandoffConfig{Hours: fakeHours{next: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}}, testNow, "менеджеры вернутся в четверг в 09:00"},
		{"back on a date", HandoffConfig{Hours: fakeHours{next: time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)}}, testNow, "менеджеры вернутся 7 декабря в 09:30"},
		{"no next opening known", HandoffConfig{Hours: fakeHours{}}, testNow, "менеджеры вернутся в рабочее время и ответят здесь"},
		{"days in the team's zone", HandoffConfig{Hours: fakeHours{next: time.Date(2026, 11, 24, 9, 0, 0, 0, msk)}},
			time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC), "менеджеры вернутся сегодня в 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandoffFixture(t, tt.cfg)
			f.h.cfg.Now = func() time.Time { return tt.now }
			got := f.say(t, text("/manager"))
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Fatalf("acknowledgment = %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// TestReturnToBot: the return re-asks the paused step (and the next
// answer is saved), or starts a chosen scenario; an unknown scenario
// changes nothing; a return older than a newer request keeps it; a chat
// with no mark just resumes.
// handedOff is a chat handed to a manager at the portrait questionnaire's
// name step, with a question for the manager (the transcript emptied).
func handedOff(t *testing.T) *handlerFixture {
	t.Helper()
	f := newHandoffFixture(t, HandoffConfig{})
	f.say(t, text("/start"))
	f.say(t, button("yes"))
	f.say(t, text("/manager"))
	f.say(t, text("У меня вопрос по заказу"))
	f.clients.messages = nil
	return f
}

func TestReturnToBot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("re-asks the paused step", func(t *testing.T) {
		t.Parallel()
		f := handedOff(t)
		r := ReturnRequest{HandoffID: 7, RequestedAt: testNow, Note: "Менеджер вернул чат боту"}
		if err := f.h.ReturnToBot(ctx, testChat, r); err != nil {
			t.Fatal(err)
		}
		sent := f.sender.take()
		if len(sent) != 1 || !strings.Contains(sent[0].Text, "обращаться") {
			t.Fatalf("sent = %+v, want the name question again", sent)
		}
		if st := f.state(t); st.Handoff != nil || st.Step != "name" {
			t.Fatalf("state = %+v, want no mark at the name step", st)
		}
		msgs := f.clients.messages
		if len(msgs) != 2 || msgs[0].AuthorKind != crm.AuthorSystem || msgs[0].Text != r.Note ||
			msgs[1].AuthorKind != crm.AuthorBot || msgs[1].Text != sent[0].Text {
			t.Fatalf("transcript = %+v, want the note and the question", msgs)
		}
		if got := strings.Join(f.say(t, text("Анна")), ""); !strings.Contains(got, "сколько вам лет") {
			t.Fatalf("answer after the return: %q", got)
		}
		if c := f.clients.clients[testChat]; c.FirstName != "Анна" {
			t.Errorf("first name = %q, want Анна", c.FirstName)
		}
	})
	t.Run("starts a scenario", func(t *testing.T) {
		t.Parallel()
		f := handedOff(t)
		if err := f.h.ReturnToBot(ctx, testChat, ReturnRequest{HandoffID: 7, RequestedAt: testNow, StartScenario: "feedback"}); err != nil {
			t.Fatal(err)
		}
		if sent := f.sender.take(); len(sent) == 0 || !strings.Contains(sent[0].Text, "от 1 до 5") {
			t.Fatalf("sent = %+v, want the feedback question", sent)
		}
		if st := f.state(t); st.Handoff != nil || st.Scenario != "feedback" {
			t.Fatalf("state = %+v", st)
		}
	})
	t.Run("unknown scenario changes nothing", func(t *testing.T) {
		t.Parallel()
		f := handedOff(t)
		before := f.states.st[testChat]
		if err := f.h.ReturnToBot(ctx, testChat, ReturnRequest{HandoffID: 7, RequestedAt: testNow, StartScenario: "nope"}); !errors.Is(err, ErrUnknownScenario) {
			t.Fatalf("error %v, want ErrUnknownScenario", err)
		}
		if after := f.states.st[testChat]; after.Rev != before.Rev || f.state(t).Handoff == nil {
			t.Fatalf("state changed: %+v → %+v", before, after)
		}
	})
	t.Run("stale return keeps a newer mark", func(t *testing.T) {
		t.Parallel()
		f := handedOff(t)
		if err := f.h.ReturnToBot(ctx, testChat, ReturnRequest{HandoffID: 6, RequestedAt: testNow.Add(-time.Hour), Note: "старый"}); err != nil {
			t.Fatal(err)
		}
		if sent := f.sender.take(); len(sent) != 0 {
			t.Fatalf("sent %+v on a stale return", sent)
		}
		if f.state(t).Handoff == nil {
			t.Fatal("a stale return cleared a newer hand-off")
		}
		if len(f.clients.messages) != 0 {
			t.Errorf("transcript = %+v on a stale return", f.clients.messages)
		}
	})
	t.Run("no mark just resumes, a redelivery only resends", func(t *testing.T) {
		t.Parallel()
		f := newHandoffFixture(t, HandoffConfig{})
		f.say(t, text("/start"))
		f.say(t, button("yes"))
		r := ReturnRequest{HandoffID: 9, RequestedAt: testNow}
		for range 2 {
			if err := f.h.ReturnToBot(ctx, testChat, r); err != nil {
				t.Fatal(err)
			}
		}
		if sent := f.sender.take(); len(sent) != 2 || sent[0].Text != sent[1].Text || !strings.Contains(sent[0].Text, "обращаться") {
			t.Fatalf("sent = %+v, want the name question (resent while unconfirmed)", sent)
		}
		f.states.confirm(testChat, ReturnUpdateID(9))
		if err := f.h.ReturnToBot(ctx, testChat, r); err != nil {
			t.Fatal(err)
		}
		if sent := f.sender.take(); len(sent) != 0 {
			t.Fatalf("a confirmed return ran again: %+v", sent)
		}
	})
}

// TestReturnWhoseQuestionFailsStillClearsTheMark: when the re-asked
// question cannot be sent (the platform is down) the return fails, to be
// tried again, but the mark is cleared already: the client's next message
// reaches the bot.
func TestReturnWhoseQuestionFailsStillClearsTheMark(t *testing.T) {
	t.Parallel()
	f := handedOff(t)
	f.sender.err = messenger.ErrTransient
	err := f.h.ReturnToBot(context.Background(), testChat, ReturnRequest{HandoffID: 7, RequestedAt: testNow})
	if !errors.Is(err, messenger.ErrTransient) {
		t.Fatalf("ReturnToBot = %v, want the send's failure", err)
	}
	if st := f.state(t); st.Handoff != nil || st.Step != "name" {
		t.Fatalf("state = %+v, want no mark at the name step", st)
	}
}

// TestReleaseHandoff: a given-up return clears the mark without the bot
// (nothing sent, the paused step kept), so the client's next message is the
// step's answer; a newer mark, or none, is no change.
func TestReleaseHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("clears the mark", func(t *testing.T) {
		t.Parallel()
		f := handedOff(t)
		cleared, err := ReleaseHandoff(ctx, f.states, testChat, testNow)
		if err != nil || !cleared {
			t.Fatalf("ReleaseHandoff = %v, %v", cleared, err)
		}
		if sent := f.sender.take(); len(sent) != 0 {
			t.Fatalf("sent %+v", sent)
		}
		if st := f.state(t); st.Handoff != nil || st.Step != "name" {
			t.Fatalf("state = %+v, want no mark at the name step", st)
		}
		if got := strings.Join(f.say(t, text("Анна")), ""); !strings.Contains(got, "сколько вам лет") {
			t.Fatalf("answer after the release: %q", got)
		}
	})
	t.Run("a newer mark stays", func(t *testing.T) {
		t.Parallel()
		f := handedOff(t)
		before := f.states.st[testChat]
		cleared, err := ReleaseHandoff(ctx, f.states, testChat, testNow.Add(-time.Hour))
		if err != nil || cleared || f.states.st[testChat].Rev != before.Rev || f.state(t).Handoff == nil {
			t.Fatalf("ReleaseHandoff(older request) = %v, %v; state %+v", cleared, err, f.state(t))
		}
	})
	t.Run("no mark", func(t *testing.T) {
		t.Parallel()
		f := newHandoffFixture(t, HandoffConfig{})
		f.say(t, text("/start"))
		before := f.states.st[testChat]
		if cleared, err := ReleaseHandoff(ctx, f.states, testChat, testNow); err != nil || cleared || f.states.st[testChat].Rev != before.Rev {
			t.Fatalf("ReleaseHandoff(no mark) = %v, %v", cleared, err)
		}
	})
}

// TestTranscriptRows: each turn records the client's message (text,
// pressed button, shared contact, other media) and the bot's replies.
func TestTranscriptRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup []*messenger.Update
		upd   *messenger.Update
		want  crm.Message // the inbound row
	}{
		{"text", nil, withID(text("привет"), "u1"), crm.Message{Text: "привет"}},
		{"text with its platform id", nil, &messenger.Update{Chat: testChat, Kind: messenger.KindMessage, Text: "привет",
			PlatformMsgID: "41"}, crm.Message{Text: "привет", PlatformMsgID: "41"}},
		{"text with a photo (VK)", nil, &messenger.Update{Chat: testChat, Kind: messenger.KindMessage, Text: "смотри",
			Media: messenger.MediaPhoto, PlatformMsgID: "42"}, crm.Message{Text: "смотри", Media: "photo", PlatformMsgID: "42"}},
		{"button", []*messenger.Update{text("/start")},
			&messenger.Update{Chat: testChat, Kind: messenger.KindButton, Value: "yes", Text: "Да", MessageID: "7"},
			crm.Message{Button: "Да (yes)"}},
		{"button of a VK message", []*messenger.Update{text("/start")},
			&messenger.Update{Chat: testChat, Kind: messenger.KindButton, Value: "yes", Text: "Да", PlatformMsgID: "43"},
			crm.Message{Button: "Да (yes)", PlatformMsgID: "43"}},
		{"button without caption", []*messenger.Update{text("/start")}, button("yes"), crm.Message{Button: "yes"}},
		{"contact", []*messenger.Update{text("/b2b")},
			&messenger.Update{Chat: testChat, Kind: messenger.KindContact, PlatformMsgID: "m5", Contact: &messenger.Contact{Phone: "+79123456789"}},
			crm.Message{Media: "contact", Text: "+79123456789", PlatformMsgID: "m5"}},
		{"unknown media", []*messenger.Update{text("/start")}, &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported}, crm.Message{Media: "other"}},
		{"sticker", []*messenger.Update{text("/start")}, &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported, Media: messenger.MediaSticker}, crm.Message{Media: "sticker"}},
		{"photo with a caption", nil, &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported, Media: messenger.MediaPhoto, Text: "чек",
			PlatformMsgID: "44"}, crm.Message{Media: "photo", Text: "чек", PlatformMsgID: "44"}},
		{"location", []*messenger.Update{text("/start")}, &messenger.Update{Chat: testChat, Kind: messenger.KindUnsupported,
			Media: messenger.MediaLocation, PlatformMsgID: "45"}, crm.Message{Media: "location", PlatformMsgID: "45"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandoffFixture(t, HandoffConfig{})
			for _, u := range tt.setup {
				f.say(t, u)
			}
			f.clients.messages = nil
			replies := f.say(t, tt.upd)
			msgs := f.clients.messages
			if len(msgs) != 1+len(replies) {
				t.Fatalf("transcript = %+v, want the message and %d replies", msgs, len(replies))
			}
			in := msgs[0]
			want := tt.want
			want.Direction, want.AuthorKind, want.CreatedAt = crm.DirectionIn, crm.AuthorClient, testNow
			if in != want {
				t.Errorf("inbound row = %+v, want %+v", in, want)
			}
			for i, r := range replies {
				out := msgs[1+i]
				if out.Direction != crm.DirectionOut || out.AuthorKind != crm.AuthorBot || out.Text != r {
					t.Errorf("reply row %d = %+v, want the bot's %q", i, out, r)
				}
			}
		})
	}
}

// TestTranscriptOfRejectedTurn: a turn whose changes the CRM refuses still
// leaves the client's message and the Rejected answer in the transcript.
func TestTranscriptOfRejectedTurn(t *testing.T) {
	t.Parallel()
	f := newHandoffFixture(t, HandoffConfig{})
	f.say(t, text("/start"))
	f.say(t, button("yes"))
	f.clients.messages = nil
	f.clients.failWith = func(ch *crm.Changes) error {
		if len(ch.Set) > 0 {
			return crm.ErrRejected
		}
		return nil
	}
	if err := f.h.Handle(context.Background(), withID(text("Анна"), "u9")); err == nil {
		t.Fatal("no error for a rejected turn")
	}
	msgs := f.clients.messages
	if len(msgs) != 2 || msgs[0].Text != "Анна" || msgs[1].Text != DefaultTexts().Rejected {
		t.Fatalf("transcript = %+v, want the answer and the Rejected text", msgs)
	}
}

// TestCommandValuesKnownToTheLoader: every command button value the
// router handles is one the scenario loader accepts.
func TestCommandValuesKnownToTheLoader(t *testing.T) {
	t.Parallel()
	src := `id: x
steps:
  a:
    say: "?"
    buttons:
      - { text: "1", value: "` + UnsubscribeValue + `" }
      - { text: "2", value: "` + ForgetValue + `" }
      - { text: "3", value: "` + ManagerValue + `" }
      - { text: "4", value: "` + ScenarioValue("x") + `" }
    end: true
`
	loadGraphSource(t, "x.yaml", src)
}

func TestCapText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("я", crm.MaxMessageText) // 2 bytes a rune
	if got := capText(long); len(got) != crm.MaxMessageText || !strings.HasPrefix(long, got) {
		t.Errorf("cut to %d bytes", len(got))
	}
	odd := "a" + long
	if got := capText(odd); len(got) != crm.MaxMessageText-1 {
		t.Errorf("cut inside a rune: %d bytes", len(got))
	}
	if got := capText("short"); got != "short" {
		t.Errorf("short text changed: %q", got)
	}
}

// FuzzNormalizePhrase: normalizing is idempotent, keeps no surrounding
// spaces or punctuation and no double spaces, so a keyword and a message
// compare alike however they were typed.
func FuzzNormalizePhrase(f *testing.F) {
	for _, s := range []string{"  Позовите   МЕНЕДЖЕРА! ", "оператор", "?!", "", "a\t\nb", "«менеджер»"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizePhrase(s)
		if again := normalizePhrase(n); again != n {
			t.Fatalf("normalizePhrase(%q) = %q, again %q", s, n, again)
		}
		if strings.Contains(n, "  ") || strings.TrimSpace(n) != n {
			t.Fatalf("normalizePhrase(%q) = %q keeps extra spaces", s, n)
		}
	})
}
