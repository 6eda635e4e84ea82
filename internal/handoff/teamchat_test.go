package handoff

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

var testTeam = messenger.ChatKey{Platform: messenger.Telegram, ID: "-100500"}

// teamStore is an in-memory TeamChatStore (with AnnouncementPost): claims
// are conditional as the real store's are.
type teamStore struct {
	mu        sync.Mutex
	reqs      map[int64]*Request
	claimed   map[string]map[int64]time.Time // per chat: announcing claims' expiry
	announced map[string]map[int64]string    // per chat: request → announcement post
	posts     map[string]int64               // chat/post → request
	forwarded map[string]map[int64]int64     // per chat: request → forwarded mark
	msgs      map[int64][]crm.Message        // client messages per request
	failClaim error
	lookups   int // HandoffByPost calls
}

// testKey is testTeam's store key.
var testKey = StoreKey(testTeam)

func newTeamStore(reqs ...Request) *teamStore {
	s := &teamStore{reqs: map[int64]*Request{}, claimed: map[string]map[int64]time.Time{},
		announced: map[string]map[int64]string{}, posts: map[string]int64{},
		forwarded: map[string]map[int64]int64{}, msgs: map[int64][]crm.Message{}}
	for i := range reqs {
		r := reqs[i]
		s.reqs[r.ID] = &r
	}
	s.chat(testKey)
	return s
}

// chat makes chat's maps on first use; s.mu is held (or s is new).
func (s *teamStore) chat(chat string) {
	if s.announced[chat] == nil {
		s.claimed[chat], s.announced[chat], s.forwarded[chat] = map[int64]time.Time{}, map[int64]string{}, map[int64]int64{}
	}
}

func (s *teamStore) ClaimAnnouncements(_ context.Context, chat string, now time.Time, lease time.Duration, limit int) ([]Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failClaim != nil {
		return nil, s.failClaim
	}
	s.chat(chat)
	var out []Request
	for id := int64(1); id <= int64(len(s.reqs)) && len(out) < limit; id++ {
		r := s.reqs[id]
		if r == nil || !r.Status.Live() || s.announced[chat][id] != "" || now.Before(s.claimed[chat][id]) {
			continue
		}
		s.claimed[chat][id] = now.Add(lease)
		out = append(out, *r)
	}
	return out, nil
}

func (s *teamStore) MarkAnnounced(_ context.Context, id int64, chat, messageID string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat(chat)
	s.announced[chat][id] = messageID
	s.posts[chat+"/"+messageID] = id
	return nil
}

// Announcing implements AnnouncingReporter.
func (s *teamStore) Announcing(_ context.Context, chat string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, until := range s.claimed[chat] {
		if s.announced[chat][id] == "" && !until.Before(now) {
			return true, nil
		}
	}
	return false, nil
}

func (s *teamStore) lookupCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

func (s *teamStore) AddPost(_ context.Context, id int64, chat, messageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts[chat+"/"+messageID] = id
	return nil
}

func (s *teamStore) HandoffByPost(_ context.Context, chat, messageID string) (Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	id, ok := s.posts[chat+"/"+messageID]
	if !ok {
		return Request{}, ErrNotFound
	}
	return *s.reqs[id], nil
}

func (s *teamStore) PendingForwards(_ context.Context, chat string, limit int) ([]Forward, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat(chat)
	var out []Forward
	for id := int64(1); id <= int64(len(s.reqs)) && len(out) < limit; id++ {
		if s.announced[chat][id] == "" {
			continue
		}
		fw := Forward{Request: *s.reqs[id], From: s.forwarded[chat][id]}
		for _, m := range s.msgs[id] {
			if m.ID > fw.From {
				fw.Messages = append(fw.Messages, m)
			}
		}
		if len(fw.Messages) > 0 {
			out = append(out, fw)
		}
	}
	return out, nil
}

func (s *teamStore) AdvanceForward(_ context.Context, id int64, chat string, from, to int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat(chat)
	if s.forwarded[chat][id] != from {
		return false, nil
	}
	s.forwarded[chat][id] = to
	return true, nil
}

func (s *teamStore) AnnouncementPost(_ context.Context, id int64, chat string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.announced[chat][id]; p != "" {
		return p, nil
	}
	return "", ErrNotFound
}

func (s *teamStore) addClientMessage(id int64, m crm.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[id] = append(s.msgs[id], m)
}

// teamSender records what the team chat got; fail, when set, refuses
// sends whose text contains its key.
type teamSender struct {
	mu   sync.Mutex
	sent []messenger.OutMessage
	fail map[string]error
}

func (t *teamSender) Send(_ context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, err := range t.fail {
		if strings.Contains(msg.Text, k) {
			return messenger.Sent{}, err
		}
	}
	t.sent = append(t.sent, msg)
	return messenger.Sent{MessageID: strconv.Itoa(1000 + len(t.sent))}, nil
}

func (t *teamSender) messages() []messenger.OutMessage {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]messenger.OutMessage(nil), t.sent...)
}

// teamService answers as the Service would; it records the calls.
type teamService struct {
	mu      sync.Mutex
	calls   []string
	takeErr error
	retErr  error
	reply   crm.Message
	replyEr error
}

func (s *teamService) record(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func (s *teamService) Get(_ context.Context, id int64) (Request, error) { return Request{ID: id}, nil }

func (s *teamService) Take(_ context.Context, id int64, manager string) (Request, error) {
	s.record("take " + strconv.FormatInt(id, 10) + " " + manager)
	return Request{ID: id, Manager: manager}, s.takeErr
}

func (s *teamService) Reply(_ context.Context, id int64, manager, text string, _ time.Duration) (crm.Message, error) {
	s.record("reply " + strconv.FormatInt(id, 10) + " " + manager + ": " + text)
	return s.reply, s.replyEr
}

func (s *teamService) Return(_ context.Context, id int64, by, scenario string) error {
	s.record("return " + strconv.FormatInt(id, 10) + " " + by + " " + scenario)
	return s.retErr
}

func newTestTeamChat(t *testing.T, st *teamStore, svc *teamService, snd *teamSender) *TeamChat {
	t.Helper()
	tc, err := NewTeamChat(TeamChatConfig{Store: st, Service: svc, Sender: snd, Chat: testTeam})
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

func liveRequest(id int64) Request {
	return Request{ID: id, ClientID: 100 + id, Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "42"},
		ClientName: "Анна Петрова", Phone: "+79123456789", City: "Казань", Tags: []string{"vip", "b2b"},
		Scenario: "b2b", Step: "company", Question: "У меня вопрос по заказу", Status: StatusOpen}
}

func TestNewTeamChatValidates(t *testing.T) {
	t.Parallel()
	_, err := NewTeamChat(TeamChatConfig{})
	for _, want := range []string{"Store is required", "Service is required", "Sender is required", "not a chat"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestTickAnnouncesOnce(t *testing.T) {
	t.Parallel()
	st := newTeamStore(liveRequest(1), liveRequest(2))
	snd := &teamSender{}
	a := newTestTeamChat(t, st, &teamService{}, snd)
	b := newTestTeamChat(t, st, &teamService{}, snd) // another process
	ctx := context.Background()
	if err := a.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := snd.messages()
	if len(msgs) != 2 {
		t.Fatalf("posted %d, want 2 announcements", len(msgs))
	}
	card := msgs[0].Text
	for _, want := range []string{"Обращение №1", "Анна Петрова", "+79123456789", "Казань", "vip, b2b", "b2b, шаг company",
		"«У меня вопрос по заказу»", "ответьте на это сообщение", "/take — взять, /done — вернуть боту"} {
		if !strings.Contains(strings.ToLower(card), strings.ToLower(want)) {
			t.Errorf("card lacks %q:\n%s", want, card)
		}
	}
	if msgs[0].Chat != testTeam || st.announced[testKey][1] != "1001" || st.announced[testKey][2] != "1002" {
		t.Fatalf("chat %v, announced %v", msgs[0].Chat, st.announced[testKey])
	}
}

func TestTickAnnouncementFailureRetriedAfterLease(t *testing.T) {
	t.Parallel()
	st := newTeamStore(liveRequest(1))
	snd := &teamSender{fail: map[string]error{"№1": &messenger.RateLimitError{RetryAfter: time.Second}}}
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	tc, _ := NewTeamChat(TeamChatConfig{Store: st, Service: &teamService{}, Sender: snd, Chat: testTeam,
		Now: func() time.Time { return now }})
	if err := tc.Tick(context.Background()); !isRateLimit(err) {
		t.Fatalf("Tick = %v, want the rate limit", err)
	}
	snd.fail = nil
	_ = tc.Tick(context.Background())
	if len(snd.messages()) != 0 {
		t.Fatal("re-announced within the lease")
	}
	now = now.Add(DefaultTeamChatLease + time.Second)
	_ = tc.Tick(context.Background())
	if len(snd.messages()) != 1 || st.announced[testKey][1] == "" {
		t.Fatalf("not announced after the lease: %v", snd.messages())
	}
}

func TestTickForwardsThreadedOnce(t *testing.T) {
	t.Parallel()
	st := newTeamStore(liveRequest(1))
	snd := &teamSender{}
	a := newTestTeamChat(t, st, &teamService{}, snd)
	b := newTestTeamChat(t, st, &teamService{}, snd)
	ctx := context.Background()
	_ = a.Tick(ctx) // announcement 1001
	st.addClientMessage(1, crm.Message{ID: 7, Direction: crm.DirectionIn, Text: "Номер заказа 123"})
	st.addClientMessage(1, crm.Message{ID: 9, Direction: crm.DirectionIn, Media: "photo"})
	_ = a.Tick(ctx)
	_ = b.Tick(ctx)
	msgs := snd.messages()
	if len(msgs) != 3 {
		t.Fatalf("posted %d, want the announcement and 2 forwards: %+v", len(msgs), msgs)
	}
	if msgs[1].ReplyToID != "1001" || !strings.Contains(msgs[1].Text, "Анна Петрова") || !strings.Contains(msgs[1].Text, "Номер заказа 123") ||
		msgs[2].ReplyToID != "1001" || !strings.Contains(msgs[2].Text, "[фото]") {
		t.Fatalf("forwards = %+v", msgs[1:])
	}
	if st.forwarded[testKey][1] != 9 || st.posts[testTeam.ID+"/1002"] != 1 || st.posts[testTeam.ID+"/1003"] != 1 {
		t.Fatalf("forwarded %d, posts %v", st.forwarded[testKey][1], st.posts)
	}
}

func TestTickForwardFailureGivesTheRestBack(t *testing.T) {
	t.Parallel()
	st := newTeamStore(liveRequest(1))
	snd := &teamSender{}
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	tc, _ := NewTeamChat(TeamChatConfig{Store: st, Service: &teamService{}, Sender: snd, Chat: testTeam,
		Now: func() time.Time { return now }})
	ctx := context.Background()
	_ = tc.Tick(ctx)
	st.addClientMessage(1, crm.Message{ID: 7, Text: "первое"})
	st.addClientMessage(1, crm.Message{ID: 8, Text: "второе"})
	snd.fail = map[string]error{"второе": messenger.ErrTransient}
	if err := tc.Tick(ctx); !errors.Is(err, messenger.ErrTransient) {
		t.Fatalf("Tick = %v", err)
	}
	if st.forwarded[testKey][1] != 7 {
		t.Fatalf("forwarded = %d, want 7 (the unsent one given back)", st.forwarded[testKey][1])
	}
	snd.fail = nil
	_ = tc.Tick(ctx)
	if len(snd.messages()) != 2 {
		t.Fatal("a failed team chat was tried again at once")
	}
	now = now.Add(failurePause)
	_ = tc.Tick(ctx)
	msgs := snd.messages()
	if len(msgs) != 3 || !strings.Contains(msgs[2].Text, "второе") || st.forwarded[testKey][1] != 8 {
		t.Fatalf("after retry: %d posts, forwarded %d", len(msgs), st.forwarded[testKey][1])
	}
}

func TestTickReportsStoreFailure(t *testing.T) {
	t.Parallel()
	st := newTeamStore()
	st.failClaim = errors.New("db down")
	tc := newTestTeamChat(t, st, &teamService{}, &teamSender{})
	if err := tc.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Fatalf("Tick = %v", err)
	}
}

func TestHandleUpdate(t *testing.T) {
	t.Parallel()
	manager := &messenger.Profile{FirstName: "Иван", LastName: "Сидоров", Username: "ivan"}
	const who = "Иван Сидоров (@ivan)"
	tests := []struct {
		name      string
		text      string
		kind      messenger.UpdateKind
		replyTo   string // "1001" is request 1's announcement
		svc       *teamService
		wantCall  string // "" = no Service call
		wantReply string // "" = no answer in the team chat
	}{
		{"reply answers the client", "Добрый день! Заказ в пути.", messenger.KindMessage, "1001",
			&teamService{reply: crm.Message{Status: crm.MessageSent}}, "reply 1 " + who + ": Добрый день! Заказ в пути.", "Отправлено клиенту"},
		{"reply to a forwarded message", "Да", messenger.KindMessage, "1002",
			&teamService{reply: crm.Message{Status: crm.MessageSent}}, "reply 1 " + who + ": Да", "Отправлено клиенту"},
		{"client blocked the bot", "Алло", messenger.KindMessage, "1001",
			&teamService{reply: crm.Message{Status: crm.MessageFailed, Error: FailBlocked}}, "reply 1 " + who + ": Алло", "клиент заблокировал бота"},
		{"reply still queued", "Алло", messenger.KindMessage, "1001",
			&teamService{reply: crm.Message{Status: crm.MessageQueued}}, "reply 1 " + who + ": Алло", "в очереди"},
		{"reply to another manager's request", "Алло", messenger.KindMessage, "1001",
			&teamService{replyEr: &TakenError{By: "Ольга"}}, "reply 1 " + who + ": Алло", "уже ведёт Ольга"},
		{"reply too long", "Алло", messenger.KindMessage, "1001",
			&teamService{replyEr: &TooLongError{Platform: messenger.VK, Len: 5000, Max: 4096}}, "reply 1 " + who + ": Алло", "5000 символов, можно 4096"},
		{"reply to a closed request", "Алло", messenger.KindMessage, "1001",
			&teamService{replyEr: ErrClosed}, "reply 1 " + who + ": Алло", "уже закрыто"},
		{"unexpected failure", "Алло", messenger.KindMessage, "1001",
			&teamService{replyEr: errors.New("db down")}, "reply 1 " + who + ": Алло", "Не получилось"},
		{"take", "/take", messenger.KindMessage, "1001", &teamService{}, "take 1 " + who, "взял(а) " + who},
		{"take addressed to the bot", "/take@chathub_bot", messenger.KindMessage, "1002", &teamService{}, "take 1 " + who, "взял(а)"},
		{"take lost the race", "/take", messenger.KindMessage, "1001",
			&teamService{takeErr: &TakenError{By: "Ольга"}}, "take 1 " + who, "уже ведёт Ольга"},
		{"done", "/done", messenger.KindMessage, "1001", &teamService{}, "return 1 " + who + " ", "возвращён боту"},
		{"done with a scenario", "/done feedback", messenger.KindMessage, "1001", &teamService{}, "return 1 " + who + " feedback", "сценарий feedback"},
		{"done when closed", "/DONE", messenger.KindMessage, "1001", &teamService{retErr: ErrClosed}, "return 1 " + who + " ", "уже закрыто"},
		{"photo in reply", "", messenger.KindUnsupported, "1001", &teamService{}, "", "только текст"},
		{"reply to an unknown post", "Алло", messenger.KindMessage, "777", &teamService{}, "", "не относится к обращению"},
		{"take without reply", "/take", messenger.KindMessage, "", &teamService{}, "", "ответьте (reply)"},
		{"chatter", "кто на смене?", messenger.KindMessage, "", &teamService{}, "", ""},
		{"other command without reply", "/weather", messenger.KindMessage, "", &teamService{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newTeamStore(liveRequest(1))
			st.announced[testKey][1] = "1001"
			st.posts[testTeam.ID+"/1001"], st.posts[testTeam.ID+"/1002"] = 1, 1
			snd := &teamSender{}
			svc := tt.svc
			tc := newTestTeamChat(t, st, svc, snd)
			upd := &messenger.Update{ID: "5", Chat: testTeam, Kind: tt.kind, Text: tt.text, Team: true, AuthorID: "43",
				Profile: manager, ReplyToID: tt.replyTo, MessageID: "2001"}
			if err := tc.HandleUpdate(context.Background(), upd); err != nil {
				t.Fatalf("HandleUpdate = %v", err)
			}
			var call string
			if len(svc.calls) > 0 {
				call = svc.calls[0]
			}
			if call != tt.wantCall || len(svc.calls) > 1 {
				t.Errorf("service calls = %q, want %q", svc.calls, tt.wantCall)
			}
			msgs := snd.messages()
			switch {
			case tt.wantReply == "" && len(msgs) != 0:
				t.Errorf("answered %q, want silence", msgs[0].Text)
			case tt.wantReply != "" && (len(msgs) != 1 || !strings.Contains(msgs[0].Text, tt.wantReply)):
				t.Errorf("answers = %+v, want one with %q", msgs, tt.wantReply)
			case len(msgs) == 1 && (msgs[0].ReplyToID != "2001" || msgs[0].Chat != testTeam):
				t.Errorf("answer not threaded to the manager's message: %+v", msgs[0])
			}
		})
	}
}

func TestHandleUpdateIgnoresNonTeam(t *testing.T) {
	t.Parallel()
	snd := &teamSender{}
	svc := &teamService{}
	tc := newTestTeamChat(t, newTeamStore(), svc, snd)
	for _, upd := range []*messenger.Update{
		{ID: "1", Chat: testTeam, Kind: messenger.KindMessage, Text: "/take", ReplyToID: "1"},
		{ID: "2", Chat: testTeam, Kind: messenger.KindButton, Team: true, ReplyToID: "1"},
	} {
		if err := tc.HandleUpdate(context.Background(), upd); err != nil {
			t.Fatal(err)
		}
	}
	if len(snd.messages()) != 0 || len(svc.calls) != 0 {
		t.Fatalf("acted on a non-team update: %v %v", snd.messages(), svc.calls)
	}
}

func TestManagerName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    *messenger.Profile
		want string
	}{
		{&messenger.Profile{FirstName: "Иван", LastName: "Сидоров", Username: "ivan"}, "Иван Сидоров (@ivan)"},
		{&messenger.Profile{FirstName: "Иван"}, "Иван"},
		{&messenger.Profile{Username: "ivan"}, "@ivan"},
		{&messenger.Profile{}, "telegram:43"},
		{nil, "telegram:43"},
		{&messenger.Profile{FirstName: strings.Repeat("я", 100)}, strings.Repeat("я", 63) + "…"},
	}
	for _, tt := range tests {
		upd := &messenger.Update{Chat: testTeam, AuthorID: "43", Profile: tt.p}
		if got := ManagerName(upd); got != tt.want {
			t.Errorf("ManagerName(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestCardCutsALongQuestion(t *testing.T) {
	t.Parallel()
	r := liveRequest(3)
	r.Question = strings.Repeat("вопрос ", 2000)
	r.Phone, r.City, r.Tags, r.Scenario, r.Step = "", "", nil, "", ""
	card := Card(&r)
	if n := len([]rune(card)); n > 3300 {
		t.Fatalf("card is %d runes", n)
	}
	for _, absent := range []string{"Телефон", "Город", "Теги", "Сценарий"} {
		if strings.Contains(card, absent) {
			t.Errorf("card shows empty %s:\n%s", absent, card)
		}
	}
}

func TestNilTeamChatTicksNothing(t *testing.T) {
	t.Parallel()
	var tc *TeamChat
	var ticker Ticker = tc
	if err := ticker.Tick(context.Background()); err != nil {
		t.Fatalf("Tick = %v", err)
	}
}

// TestTwoTeamChatsEachAnnounceAndForward: a Telegram and a VK team chat
// over one store (two processes each): every request is announced once in
// each chat, and a client's message is forwarded once to each, threaded
// under that chat's own announcement; a failing chat holds up no other.
func TestTwoTeamChatsEachAnnounceAndForward(t *testing.T) {
	t.Parallel()
	vkTeam := messenger.ChatKey{Platform: messenger.VK, ID: "2000000001"}
	st := newTeamStore(liveRequest(1))
	snd := &teamSender{}
	var procs [2]TeamChats
	for i := range procs {
		for _, chat := range []messenger.ChatKey{testTeam, vkTeam} {
			tc, err := NewTeamChat(TeamChatConfig{Store: st, Service: &teamService{}, Sender: snd, Chat: chat})
			if err != nil {
				t.Fatal(err)
			}
			procs[i] = append(procs[i], tc)
		}
	}
	if procs[0].Find(vkTeam) != procs[0][1] || procs[0].Find(messenger.ChatKey{Platform: messenger.VK, ID: "2000000002"}) != nil {
		t.Fatal("Find does not tell the team chats apart")
	}
	ctx := context.Background()
	for _, p := range procs {
		if err := p.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st.addClientMessage(1, crm.Message{ID: 7, Direction: crm.DirectionIn, Text: "Номер заказа 123"})
	for _, p := range procs {
		if err := p.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	byChat := map[messenger.ChatKey][]messenger.OutMessage{}
	for _, m := range snd.messages() {
		byChat[m.Chat] = append(byChat[m.Chat], m)
	}
	for _, chat := range []messenger.ChatKey{testTeam, vkTeam} {
		got := byChat[chat]
		if len(got) != 2 || !strings.Contains(got[0].Text, "Обращение №1") || !strings.Contains(got[1].Text, "Номер заказа 123") {
			t.Fatalf("%s got %+v, want the card and the forward once", chat, got)
		}
		if card := st.announced[StoreKey(chat)][1]; card == "" || got[1].ReplyToID != card {
			t.Errorf("%s: the forward replies to %q, want its own card %q", chat, got[1].ReplyToID, card)
		}
	}
	if StoreKey(vkTeam) != "vk:2000000001" || StoreKey(testTeam) != testTeam.ID {
		t.Errorf("store keys %q, %q", StoreKey(vkTeam), StoreKey(testTeam))
	}

	// The VK chat fails: the Telegram chat still gets the next request.
	st.mu.Lock()
	r := liveRequest(2)
	st.reqs[2] = &r
	st.mu.Unlock()
	vkOnly := &teamSender{fail: map[string]error{"": errors.New("vk down")}}
	tg, _ := NewTeamChat(TeamChatConfig{Store: st, Service: &teamService{}, Sender: &teamSender{}, Chat: testTeam})
	vk, _ := NewTeamChat(TeamChatConfig{Store: st, Service: &teamService{}, Sender: vkOnly, Chat: vkTeam})
	if err := (TeamChats{vk, tg}).Tick(ctx); err == nil || !strings.Contains(err.Error(), "vk down") {
		t.Fatalf("Tick = %v, want the VK chat's failure", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.announced[testKey][2] == "" || st.announced[StoreKey(vkTeam)][2] != "" {
		t.Fatalf("announced: telegram %v, vk %v", st.announced[testKey], st.announced[StoreKey(vkTeam)])
	}
}

// TestForwardTextNamesMedia: a client's media reaches the team chat named
// in words, before its caption.
func TestForwardTextNamesMedia(t *testing.T) {
	t.Parallel()
	r := &Request{ID: 4, ClientName: "Анна"}
	tests := []struct {
		msg  crm.Message
		want string
	}{
		{crm.Message{Media: messenger.MediaPhoto, Text: "чек"}, "[фото] чек"},
		{crm.Message{Media: messenger.MediaVoice}, "[голосовое сообщение]"},
		{crm.Message{Media: messenger.MediaVideo}, "[видео]"},
		{crm.Message{Media: messenger.MediaAudio}, "[аудиофайл]"},
		{crm.Message{Media: messenger.MediaSticker}, "[стикер]"},
		{crm.Message{Media: messenger.MediaDocument, Text: "договор"}, "[файл] договор"},
		{crm.Message{Media: messenger.MediaLocation}, "[геопозиция]"},
		{crm.Message{Media: messenger.MediaContact, Text: "+79123456789"}, "[контакт] +79123456789"},
		{crm.Message{Media: messenger.MediaOther}, "[вложение]"},
		{crm.Message{Media: "hologram"}, "[вложение]"},
	}
	for _, tt := range tests {
		if got := forwardText(r, tt.msg); got != "💬 Анна (№4):\n"+tt.want {
			t.Errorf("%s forwards as %q, want %q", tt.msg.Media, got, tt.want)
		}
	}
}
