package handoff_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/handoff/handofftest"
	"github.com/chathub/chathub/internal/messenger"
)

// TestTeamChatLoop runs the team chat in a Worker over the in-memory store
// and the real Service: the request is announced once by two processes, the
// client's next message is forwarded under the announcement, a manager's
// reply to it reaches the client, two managers racing to take it are told
// who won, and /done gives the chat back to the bot.
func TestTeamChatLoop(t *testing.T) {
	t.Parallel()
	team := messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "-100"}
	clientChat := messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "42"}
	mem := handofftest.New()
	st := &threadedStore{Store: mem, posts: map[string]string{}}
	client := mem.AddClient(handofftest.Client{Chat: clientChat, Name: "Анна Петрова", Phone: "+79123456789", City: "Казань"})
	req, _ := mem.AddRequest(crm.Handoff{ClientID: client, Question: "Где мой заказ?", Scenario: "shop", Step: "name", CreatedAt: time.Now()})

	var idsMu sync.Mutex
	ids := map[string]string{} // chat and text → the id the fake gave it
	sender := &fakeSender{fn: func(_ context.Context, msg messenger.OutMessage, n int) (messenger.Sent, error) {
		id := "m" + strconv.Itoa(n)
		idsMu.Lock()
		ids[msg.Chat.String()+"\x00"+msg.Text] = id
		idsMu.Unlock()
		return messenger.Sent{MessageID: id}, nil
	}}
	sentID := func(msg messenger.OutMessage) string {
		idsMu.Lock()
		defer idsMu.Unlock()
		return ids[msg.Chat.String()+"\x00"+msg.Text]
	}
	returner := &fakeReturner{}
	var chats [2]*handoff.TeamChat
	for i := range chats { // two processes
		svc := newService(t, st, handoff.Config{})
		tc, err := handoff.NewTeamChat(handoff.TeamChatConfig{Store: st, Service: svc, Sender: sender, Chat: team})
		if err != nil {
			t.Fatal(err)
		}
		chats[i] = tc
		startWorker(t, st, svc, sender, returner, handoff.WorkerConfig{TeamChat: tc})
	}
	inTeam := func(n int) []messenger.OutMessage {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var out []messenger.OutMessage
			for _, m := range sender.delivered() {
				if m.Chat == team {
					out = append(out, m)
				}
			}
			if len(out) >= n || time.Now().After(deadline) {
				if len(out) < n {
					t.Fatalf("team chat has %d posts, want %d: %+v", len(out), n, out)
				}
				return out
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	posts := inTeam(1)
	if !strings.Contains(posts[0].Text, "Анна Петрова") || !strings.Contains(posts[0].Text, "«Где мой заказ?»") {
		t.Fatalf("announcement = %q", posts[0].Text)
	}
	time.Sleep(100 * time.Millisecond) // both Workers ticked again
	if got := inTeam(1); len(got) != 1 {
		t.Fatalf("announced %d times", len(got))
	}
	announcement := sentID(posts[0])

	mem.AddInbound(client, "Номер 123", time.Now())
	posts = inTeam(2)
	if posts[1].ReplyToID != announcement || !strings.Contains(posts[1].Text, "Номер 123") {
		t.Fatalf("forward = %+v, want a reply to %s", posts[1], announcement)
	}
	forward := sentID(posts[1])

	ctx := context.Background()
	ivan := &messenger.Profile{FirstName: "Иван", Username: "ivan"}
	olga := &messenger.Profile{FirstName: "Ольга"}
	upd := func(id, text, replyTo string, who *messenger.Profile) *messenger.Update {
		return &messenger.Update{ID: id, Chat: team, Kind: messenger.KindMessage, Text: text, Team: true,
			AuthorID: id, Profile: who, ReplyToID: replyTo, MessageID: "u" + id}
	}
	if err := chats[0].HandleUpdate(ctx, upd("1", "Добрый день! Заказ уже в пути.", forward, ivan)); err != nil {
		t.Fatal(err)
	}
	var toClient []messenger.OutMessage
	for _, m := range sender.delivered() {
		if m.Chat == clientChat {
			toClient = append(toClient, m)
		}
	}
	if len(toClient) != 1 || toClient[0].Text != "Добрый день! Заказ уже в пути." {
		t.Fatalf("client got %+v", toClient)
	}
	posts = inTeam(3)
	if posts[2].ReplyToID != "u1" || !strings.Contains(posts[2].Text, "Отправлено клиенту") {
		t.Fatalf("outcome = %+v", posts[2])
	}

	// Two managers race to take it: Ivan's reply took it already, so his
	// /take is no change and Olga is told Ivan has it.
	var wg sync.WaitGroup
	for i, who := range []*messenger.Profile{ivan, olga} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := chats[i].HandleUpdate(ctx, upd(string(rune('7'+i)), "/take", announcement, who)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	posts = inTeam(5)
	answers := posts[3].Text + "\n" + posts[4].Text
	if !strings.Contains(answers, "взял(а) Иван (@ivan)") || !strings.Contains(answers, "уже ведёт Иван (@ivan)") {
		t.Fatalf("take answers:\n%s", answers)
	}

	if err := chats[1].HandleUpdate(ctx, upd("9", "/done", announcement, ivan)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(returner.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := returner.got(); len(got) != 1 || got[0].req.ID != req {
		t.Fatalf("returns = %+v", got)
	}
	if posts = inTeam(6); !strings.Contains(posts[5].Text, "возвращён боту") {
		t.Fatalf("done answer = %q", posts[5].Text)
	}
}

// threadedStore adds AnnouncementPost (which the PostgreSQL store has) to
// the in-memory store, from the posts MarkAnnounced recorded.
type threadedStore struct {
	*handofftest.Store
	mu    sync.Mutex
	posts map[string]string // chat/request → announcement post
}

func (s *threadedStore) MarkAnnounced(ctx context.Context, id int64, chat, messageID string, now time.Time) error {
	s.mu.Lock()
	s.posts[chat+"/"+strconv.FormatInt(id, 10)] = messageID
	s.mu.Unlock()
	return s.Store.MarkAnnounced(ctx, id, chat, messageID, now)
}

func (s *threadedStore) AnnouncementPost(_ context.Context, id int64, chat string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.posts[chat+"/"+strconv.FormatInt(id, 10)]; ok {
		return p, nil
	}
	return "", handoff.ErrNotFound
}
