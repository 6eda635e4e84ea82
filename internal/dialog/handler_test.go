package dialog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

type handlerFixture struct {
	h       *Handler
	states  *memStates
	clients *memClients
	sender  *recSender
}

// newHandlerFixture serves the shipped portrait, feedback and b2b scenarios
// and the extra scenario files.
func newHandlerFixture(t *testing.T, extra ...string) *handlerFixture {
	t.Helper()
	graphs := map[string]*scenario.Graph{}
	files := append([]string{"../../scenarios/portrait.yaml", "../../scenarios/feedback.yaml", "../../scenarios/b2b.yaml"}, extra...)
	for _, f := range files {
		g := loadGraph(t, f)
		graphs[g.ID] = g
	}
	f := &handlerFixture{states: newMemStates(), clients: newMemClients(), sender: &recSender{}}
	h, err := NewHandler(HandlerConfig{
		States: f.states, Clients: f.clients, Scenarios: &memCatalog{graphs: graphs}, Sender: f.sender,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

// state decodes the chat's stored conversation state.
func (f *handlerFixture) state(t *testing.T) State {
	t.Helper()
	stored, err := f.states.LoadState(context.Background(), testChat)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := decodeState(stored.Data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// say sends a text and returns the reply texts.
func (f *handlerFixture) say(t *testing.T, upd *messenger.Update) []string {
	t.Helper()
	if err := f.h.Handle(context.Background(), upd); err != nil {
		t.Fatalf("handle %+v: %v", upd, err)
	}
	var out []string
	for _, m := range f.sender.take() {
		out = append(out, m.Text)
	}
	return out
}

func TestHandlerRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup []*messenger.Update
		upd   *messenger.Update
		want  string // substring of the joined replies
		check func(t *testing.T, f *handlerFixture)
	}{
		{name: "first message starts the default scenario", upd: text("привет"), want: "Согласны на обработку"},
		{name: "start command", upd: text("/start"), want: "Согласны на обработку"},
		{name: "deep link source and payload scenario", upd: text("/start b2b_vk_ads"), want: "Подберём решение",
			check: func(t *testing.T, f *handlerFixture) {
				if c := f.clients.clients[testChat]; c.Source != "b2b_vk_ads" {
					t.Errorf("source = %q", c.Source)
				}
			}},
		{name: "unknown payload falls back to default", upd: text("/start zzz"), want: "Согласны на обработку"},
		{name: "scenario command", upd: text("/feedback"), want: "от 1 до 5"},
		{name: "keyword when idle", setup: []*messenger.Update{text("/stop")}, upd: text("Отзыв"), want: "от 1 до 5"},
		{name: "stop unsubscribes and ends", setup: []*messenger.Update{text("/start"), button("yes")}, upd: text("/stop"), want: "отписались",
			check: func(t *testing.T, f *handlerFixture) {
				c := f.clients.clients[testChat]
				if c.Subscribed || c.UnsubscribedAt == nil {
					t.Errorf("client still subscribed: %+v", c)
				}
				if f.states.st[testChat].Data != nil {
					t.Error("conversation state kept after /stop")
				}
			}},
		{name: "manager mid-conversation pauses the place", setup: []*messenger.Update{text("/start"), button("yes")}, upd: text("/manager"), want: "Передали ваш вопрос менеджеру",
			check: func(t *testing.T, f *handlerFixture) {
				if f.clients.clients[testChat].HandoffRequestedAt == nil {
					t.Error("handoff not recorded")
				}
				if got := f.say(t, text("Анна")); len(got) != 0 {
					t.Errorf("the bot answered during the hand-off: %q", got)
				}
				if st := f.state(t); st.Handoff == nil || st.Scenario != "portrait" || st.Step != "name" {
					t.Errorf("state after /manager = %+v, want the name step paused with a mark", st)
				}
			}},
		{name: "help", upd: text("/help"), want: "/manager — позвать менеджера"},
		{name: "unknown command", setup: []*messenger.Update{text("/start")}, upd: text("/dance"), want: "Такой команды нет. Доступно: /start — начать заново, /profile — мои данные, /forget — удалить мои данные"},
		{name: "profile without scenario shows card", setup: []*messenger.Update{text("/start"), button("yes"), text("Марина")}, upd: text("/profile"), want: "Имя: Марина"},
		{name: "fallback for idle known client", setup: []*messenger.Update{text("/stop")}, upd: text("как дела"), want: "отправьте /start"},
		{name: "blocked and unblocked", upd: &messenger.Update{Chat: testChat, Kind: messenger.KindBlocked},
			check: func(t *testing.T, f *handlerFixture) {
				if f.clients.clients[testChat].BlockedAt == nil {
					t.Fatal("block not recorded")
				}
				f.say(t, &messenger.Update{Chat: testChat, Kind: messenger.KindUnblocked})
				if f.clients.clients[testChat].BlockedAt != nil {
					t.Fatal("unblock not recorded")
				}
			}},
		{name: "conversation continues", setup: []*messenger.Update{text("/start"), button("yes")}, upd: text("Анна"), want: "Анна, сколько вам лет"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			for _, u := range tt.setup {
				f.say(t, u)
			}
			got := strings.Join(f.say(t, tt.upd), "\n")
			if !strings.Contains(got, tt.want) {
				t.Fatalf("replies %q, want %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestHandlerPortraitEndToEnd(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	steps := []struct {
		upd  *messenger.Update
		want string
	}{
		{text("/start"), "Согласны"},
		{button("yes"), "Как к вам обращаться"},
		{text("Анна Петровна"), "Анна Петровна, сколько вам лет"},
		{text("43"), "В каком городе"},
		{text("Самара"), "семейное положение"},
		{button("married"), "Что вам интересно"},
		{button("fitness"), "Выбрано: Фитнес"},
		{button("travel"), "Выбрано: Фитнес, Путешествия"},
		{button(valueDone), "оставьте номер"},
		{contact("+7 912 345-67-89", "42"), "Спасибо, Анна Петровна"},
	}
	for _, s := range steps {
		got := strings.Join(f.say(t, s.upd), "\n")
		if !strings.Contains(got, s.want) {
			t.Fatalf("after %+v: replies %q, want %q", s.upd, got, s.want)
		}
	}
	c := f.clients.clients[testChat]
	if c.FirstName != "Анна Петровна" || *c.Age != 43 || c.City != "Самара" || c.Phone != "+79123456789" || !c.Subscribed {
		t.Fatalf("client = %+v", c)
	}
	if got := c.Attributes["interests"].([]string); strings.Join(got, ",") != "fitness,travel" {
		t.Fatalf("interests = %v", got)
	}
	for _, tag := range []string{"survey", "portrait_done", "reward_sent"} {
		if !c.HasTag(tag) {
			t.Errorf("missing tag %q in %v", tag, c.Tags)
		}
	}
	if f.states.st[testChat].Data != nil {
		t.Error("state kept after the conversation ended")
	}
	if len(f.clients.answers) != 7 {
		t.Errorf("answers = %d, want 7", len(f.clients.answers))
	}
}

func TestHandlerStoreFailureLeavesStateAndSendsNothing(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.say(t, text("/start"))
	f.say(t, button("yes"))
	before := string(f.states.st[testChat].Data)
	f.clients.fail = errors.New("database is down")
	if err := f.h.Handle(context.Background(), text("Анна")); err == nil {
		t.Fatal("want an error when the CRM write fails")
	}
	if got := string(f.states.st[testChat].Data); got != before {
		t.Fatalf("state moved on without the CRM write: %s → %s", before, got)
	}
	if msgs := f.sender.take(); len(msgs) != 0 {
		t.Fatalf("sent %d replies for a failed update", len(msgs))
	}
	f.clients.fail = nil
	if got := strings.Join(f.say(t, text("Анна")), ""); !strings.Contains(got, "сколько вам лет") {
		t.Fatalf("retry after recovery: %q", got)
	}
}

func TestHandlerConflictIsAnError(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.say(t, text("/start"))
	f.states.raceAfterLoad = true
	err := f.h.Handle(context.Background(), button("yes"))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
}

func TestHandlerBlockedOnSendIsRecorded(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.sender.err = messenger.ErrBlocked
	f.say(t, text("/start"))
	if c := f.clients.clients[testChat]; c == nil || c.BlockedAt == nil {
		t.Fatalf("blocked send not recorded: %+v", c)
	}
}

func TestHandlerReadsClientOnlyWhenTheTurnNeedsIt(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	steps := []struct {
		upd      *messenger.Update
		wantRead bool
	}{
		{text("/start"), false},      // consent: static text
		{button("yes"), false},       // name question: static
		{text("Анна"), true},         // age question: {{ .client.first_name }}
		{text("43"), false},          // city question: static
		{text("/profile"), true},     // built-in card... claimed by no scenario here
		{text("привет, бот"), false}, // still in the conversation: city accepts free text
		{text("/manager"), false},    // hand-off keeps the place
	}
	for _, s := range steps {
		before := f.clients.gets
		f.say(t, s.upd)
		if read := f.clients.gets > before; read != s.wantRead {
			t.Errorf("%q: client read = %v, want %v", s.upd.Text+s.upd.Value, read, s.wantRead)
		}
	}
	// A new client's first message needs to know the client is new.
	g := newHandlerFixture(t)
	if got := strings.Join(g.say(t, text("здравствуйте")), ""); !strings.Contains(got, "Согласны") || g.clients.gets != 1 {
		t.Fatalf("first contact: %q after %d reads", got, g.clients.gets)
	}
}

func TestHandlerRepliesCarryIdempotencyKeys(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	f.say(t, text("/start"))
	f.sender.keys = nil
	u := text("/manager")
	u.ID = "upd-8"
	f.say(t, u)
	if strings.Join(f.sender.keys, ",") != "upd-8/0" {
		t.Fatalf("keys = %q, want upd-8/0", f.sender.keys)
	}
}
