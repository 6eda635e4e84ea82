package handoff

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/account/accounttest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// teamManagers is a hand-written Managers: logins by platform user id and
// a fixed answer to RedeemLink.
type teamManagers struct {
	mu       sync.Mutex
	logins   map[string]string
	loginErr error
	redeem   account.Link
	redeemEr error
	redeems  []string // "platform id name code"
}

func (m *teamManagers) LoginOf(_ context.Context, platform, id string) (string, bool, error) {
	if m.loginErr != nil {
		return "", false, m.loginErr
	}
	l, ok := m.logins[platform+":"+id]
	return l, ok, nil
}

func (m *teamManagers) RedeemLink(_ context.Context, platform, id, name, code string) (account.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.redeems = append(m.redeems, strings.Join([]string{platform, id, name, code}, " "))
	return m.redeem, m.redeemEr
}

// actorService is a teamService that also records the actor of each call's
// context.
type actorService struct {
	teamService
	actors []string
}

func (s *actorService) actor(ctx context.Context) {
	a, _ := account.ActorIn(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actors = append(s.actors, a)
}

func (s *actorService) Take(ctx context.Context, id int64, manager string) (Request, error) {
	s.actor(ctx)
	return s.teamService.Take(ctx, id, manager)
}

func (s *actorService) Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error) {
	s.actor(ctx)
	return s.teamService.Reply(ctx, id, manager, text, wait)
}

func (s *actorService) Return(ctx context.Context, id int64, by, scenario string) error {
	s.actor(ctx)
	return s.teamService.Return(ctx, id, by, scenario)
}

// TestHandleUpdateLinkedManager: a member linked to a console login acts
// under it (with it as the audit actor); an unlinked one under their
// Telegram name; a request a member took under that name before linking
// stays theirs under it.
func TestHandleUpdateLinkedManager(t *testing.T) {
	t.Parallel()
	const who = "Иван Сидоров (@ivan)"
	tests := []struct {
		name      string
		author    string
		text      string
		taken     string // the request's manager before the update
		wantCall  string
		wantActor string
		wantReply string
	}{
		{"linked reply", "43", "Добрый день", "", "reply 1 ivan: Добрый день", "ivan", "Отправлено клиенту"},
		{"linked take", "43", "/take", "", "take 1 ivan", "ivan", "взял(а) ivan"},
		{"linked done", "43", "/done", "ivan", "return 1 ivan ", "ivan", "возвращён боту (ivan)"},
		{"unlinked reply", "44", "Добрый день", "", "reply 1 " + who + ": Добрый день", "", "Отправлено клиенту"},
		{"taken before linking", "43", "Ещё минуту", who, "reply 1 " + who + ": Ещё минуту", "ivan", "Отправлено клиенту"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := liveRequest(1)
			r.Manager = tt.taken
			st := newTeamStore(r)
			st.announced[testKey][1] = "1001"
			st.posts[testTeam.ID+"/1001"] = 1
			svc := &actorService{teamService: teamService{reply: crm.Message{Status: crm.MessageSent}}}
			snd := &teamSender{}
			tc, err := NewTeamChat(TeamChatConfig{Store: st, Service: svc, Sender: snd, Chat: testTeam,
				Managers: &teamManagers{logins: map[string]string{"telegram:43": "ivan"}}})
			if err != nil {
				t.Fatal(err)
			}
			upd := &messenger.Update{ID: "5", Chat: testTeam, Kind: messenger.KindMessage, Text: tt.text, Team: true, AuthorID: tt.author,
				Profile: &messenger.Profile{FirstName: "Иван", LastName: "Сидоров", Username: "ivan"}, ReplyToID: "1001", MessageID: "2001"}
			if err := tc.HandleUpdate(context.Background(), upd); err != nil {
				t.Fatalf("HandleUpdate = %v", err)
			}
			if len(svc.calls) != 1 || svc.calls[0] != tt.wantCall || len(svc.actors) != 1 || svc.actors[0] != tt.wantActor {
				t.Errorf("calls %q as %q; want %q as %q", svc.calls, svc.actors, tt.wantCall, tt.wantActor)
			}
			if msgs := snd.messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text, tt.wantReply) {
				t.Errorf("answers %+v; want one with %q", msgs, tt.wantReply)
			}
		})
	}
}

// TestHandleUpdateLoginLookupFails: when the accounts cannot be read the
// update fails (to be retried) and nothing is done or answered.
func TestHandleUpdateLoginLookupFails(t *testing.T) {
	t.Parallel()
	st := newTeamStore(liveRequest(1))
	st.posts[testTeam.ID+"/1001"] = 1
	svc, snd := &teamService{}, &teamSender{}
	tc, err := NewTeamChat(TeamChatConfig{Store: st, Service: svc, Sender: snd, Chat: testTeam,
		Managers: &teamManagers{loginErr: errors.New("db down")}})
	if err != nil {
		t.Fatal(err)
	}
	upd := &messenger.Update{ID: "5", Chat: testTeam, Kind: messenger.KindMessage, Text: "Алло", Team: true, AuthorID: "43", ReplyToID: "1001"}
	if err := tc.HandleUpdate(context.Background(), upd); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Errorf("HandleUpdate = %v; want the lookup's failure", err)
	}
	if len(svc.calls) != 0 || len(snd.messages()) != 0 {
		t.Errorf("acted %q, answered %+v", svc.calls, snd.messages())
	}
}

// TestHandleUpdateLink: /link CODE, with or without a reply, answers
// whether the account was linked; nothing reaches a client.
func TestHandleUpdateLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		text       string
		replyTo    string
		managers   *teamManagers // nil: none configured
		wantRedeem string
		wantReply  string
	}{
		{"linked", "/link k7qm-2xpa", "", &teamManagers{redeem: account.Link{User: "ivan"}},
			"telegram 43 Иван Сидоров (@ivan) k7qm-2xpa", "✅ Telegram привязан к пользователю ivan"},
		{"in reply to a post", "/link@chathub_bot K7QM2XPA", "1001", &teamManagers{redeem: account.Link{User: "ivan"}},
			"telegram 43 Иван Сидоров (@ivan) K7QM2XPA", "привязан к пользователю ivan"},
		{"unknown code", "/link AAAA-BBBB", "", &teamManagers{redeemEr: account.ErrLinkCodeUnknown},
			"telegram 43 Иван Сидоров (@ivan) AAAA-BBBB", "Код не найден"},
		{"expired code", "/link AAAA-BBBB", "", &teamManagers{redeemEr: account.ErrLinkCodeExpired},
			"telegram 43 Иван Сидоров (@ivan) AAAA-BBBB", "Код устарел (он действует 10 минут)"},
		{"anonymous admin", "/link AAAA-BBBB", "", &teamManagers{redeemEr: &account.NotLinkableError{}},
			"telegram 43 Иван Сидоров (@ivan) AAAA-BBBB", "Анонимного администратора"},
		{"too many wrong codes", "/link AAAA-BBBB", "", &teamManagers{redeemEr: &account.ThrottledError{RetryAfter: 30 * time.Second}},
			"telegram 43 Иван Сидоров (@ivan) AAAA-BBBB", "попробуйте снова через 30s"},
		{"failure", "/link AAAA-BBBB", "", &teamManagers{redeemEr: errors.New("db down")},
			"telegram 43 Иван Сидоров (@ivan) AAAA-BBBB", "Не получилось"},
		{"no code", "/link", "", &teamManagers{}, "", "«Профиль» → «Привязать Telegram»"},
		{"not configured", "/link AAAA-BBBB", "", nil, "", "не настроена"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newTeamStore(liveRequest(1))
			st.posts[testTeam.ID+"/1001"] = 1
			svc, snd := &teamService{}, &teamSender{}
			cfg := TeamChatConfig{Store: st, Service: svc, Sender: snd, Chat: testTeam}
			if tt.managers != nil {
				cfg.Managers = tt.managers
			}
			tc, err := NewTeamChat(cfg)
			if err != nil {
				t.Fatal(err)
			}
			upd := &messenger.Update{ID: "5", Chat: testTeam, Kind: messenger.KindMessage, Text: tt.text, Team: true, AuthorID: "43",
				Profile: &messenger.Profile{FirstName: "Иван", LastName: "Сидоров", Username: "ivan"}, ReplyToID: tt.replyTo, MessageID: "2001"}
			if err := tc.HandleUpdate(context.Background(), upd); err != nil {
				t.Fatalf("HandleUpdate = %v", err)
			}
			var redeems []string
			if tt.managers != nil {
				redeems = tt.managers.redeems
			}
			if got := strings.Join(redeems, "|"); got != tt.wantRedeem {
				t.Errorf("redeems %q; want %q", got, tt.wantRedeem)
			}
			if len(svc.calls) != 0 {
				t.Errorf("service calls %q; want none", svc.calls)
			}
			if msgs := snd.messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text, tt.wantReply) || msgs[0].ReplyToID != "2001" {
				t.Errorf("answers %+v; want one replying with %q", msgs, tt.wantReply)
			}
		})
	}
}

// TestHandleUpdateHelpMentionsLink: the team chat's help tells of /link.
func TestHandleUpdateHelpMentionsLink(t *testing.T) {
	t.Parallel()
	snd := &teamSender{}
	tc := newTestTeamChat(t, newTeamStore(), &teamService{}, snd)
	upd := &messenger.Update{ID: "5", Chat: testTeam, Kind: messenger.KindMessage, Text: "/help", Team: true, AuthorID: "43", MessageID: "2001"}
	if err := tc.HandleUpdate(context.Background(), upd); err != nil {
		t.Fatal(err)
	}
	if msgs := snd.messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/link КОД") {
		t.Errorf("help: %+v", msgs)
	}
}

// TestTeamChatLinkWithAccounts: with internal/account's Service, the code
// the console shows links the member who sends it, and their next reply
// is recorded under the login.
func TestTeamChatLinkWithAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := accounttest.NewEnv(t, accounttest.NewMemStore())
	if _, err := env.Svc.AddUser(ctx, "ivan", account.RoleManager, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	code, err := env.Svc.StartLink(ctx, "ivan", account.PlatformTelegram)
	if err != nil {
		t.Fatal(err)
	}
	st := newTeamStore(liveRequest(1))
	st.posts[testTeam.ID+"/1001"] = 1
	svc, snd := &teamService{reply: crm.Message{Status: crm.MessageSent}}, &teamSender{}
	tc, err := NewTeamChat(TeamChatConfig{Store: st, Service: svc, Sender: snd, Chat: testTeam, Managers: env.Svc})
	if err != nil {
		t.Fatal(err)
	}
	ivan := &messenger.Profile{FirstName: "Иван", Username: "ivan"}
	for i, upd := range []*messenger.Update{
		{ID: "5", Text: "/link " + code.Code},
		{ID: "6", Text: "/link " + code.Code}, // used up
		{ID: "7", Text: "Заказ в пути", ReplyToID: "1001"},
	} {
		upd.Chat, upd.Kind, upd.Team, upd.AuthorID, upd.Profile, upd.MessageID = testTeam, messenger.KindMessage, true, "43", ivan, "20"+upd.ID
		if err := tc.HandleUpdate(ctx, upd); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	msgs := snd.messages()
	if len(msgs) != 3 || !strings.Contains(msgs[0].Text, "привязан к пользователю ivan") || !strings.Contains(msgs[1].Text, "Код не найден") {
		t.Fatalf("answers %+v", msgs)
	}
	if len(svc.calls) != 1 || svc.calls[0] != "reply 1 ivan: Заказ в пути" {
		t.Errorf("calls %q; want the reply under ivan", svc.calls)
	}
	links, err := env.Svc.LinksOf(ctx, "ivan")
	if err != nil || len(links) != 1 || links[0].DisplayName != "Иван (@ivan)" || links[0].PlatformUserID != "43" {
		t.Errorf("links %+v, %v", links, err)
	}
}
