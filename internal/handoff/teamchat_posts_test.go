package handoff

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// racingSender is a team chat whose manager answers the card the moment it
// appears: the send of a card delivers the manager's reply to handle (in a
// goroutine, as the platform's update would come) and returns only after
// handle looked the post up and missed it. Every other send is recorded.
type racingSender struct {
	teamSender
	st     *teamStore
	handle func(upd *messenger.Update) error
	done   chan error
}

func (r *racingSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	if !strings.HasPrefix(msg.Text, "🔔 Обращение №1") {
		return r.teamSender.Send(ctx, msg)
	}
	before := r.st.lookupCount()
	go func() {
		r.done <- r.handle(&messenger.Update{ID: "5", Chat: testTeam, Kind: messenger.KindMessage, Text: "Здравствуйте!", Team: true,
			AuthorID: "43", Profile: &messenger.Profile{FirstName: "Иван"}, ReplyToID: "1001", MessageID: "2001"})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for r.st.lookupCount() == before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return messenger.Sent{MessageID: "1001"}, nil
}

// TestReplyToACardBeforeItsSendReturns: a manager's reply to a card that
// arrives before the card's send returned (its post id not recorded yet)
// reaches the client, whether this process or another one posts the card.
func TestReplyToACardBeforeItsSendReturns(t *testing.T) {
	t.Parallel()
	for _, other := range []bool{false, true} {
		name := map[bool]string{false: "this process posts", true: "another process posts"}[other]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := newTeamStore(liveRequest(1))
			svc := &teamService{reply: crm.Message{Status: crm.MessageSent}}
			snd := &racingSender{st: st, done: make(chan error, 1)}
			poster := newTestTeamChat(t, st, svc, &snd.teamSender)
			poster.cfg.Sender = snd
			handler := poster
			if other {
				handler = newTestTeamChat(t, st, svc, &snd.teamSender)
			}
			snd.handle = func(upd *messenger.Update) error { return handler.HandleUpdate(context.Background(), upd) }
			if err := poster.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-snd.done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the manager's reply was not handled")
			}
			svc.mu.Lock()
			calls := append([]string(nil), svc.calls...)
			svc.mu.Unlock()
			if len(calls) != 1 || calls[0] != "reply 1 Иван: Здравствуйте!" {
				t.Fatalf("service calls %q, want the reply to request 1", calls)
			}
			msgs := snd.messages()
			if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Отправлено клиенту") {
				t.Fatalf("team chat answers %+v, want the reply's outcome", msgs)
			}
		})
	}
}

// TestReplyToAnUnknownPost: with nothing in flight a reply to a post of no
// request is answered at once (one look-up); with a post in flight that is
// never recorded, after PostWait.
func TestReplyToAnUnknownPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		inFlight bool
		lookups  func(n int) bool
	}{
		{"nothing in flight", false, func(n int) bool { return n == 1 }},
		{"an announcement stuck in flight", true, func(n int) bool { return n > 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newTeamStore(liveRequest(1))
			if tt.inFlight {
				st.claimed[testKey][1] = time.Now().Add(time.Hour) // claimed by a process that never records it
			}
			snd := &teamSender{}
			svc := &teamService{}
			tc, err := NewTeamChat(TeamChatConfig{Store: st, Service: svc, Sender: snd, Chat: testTeam, PostWait: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			upd := &messenger.Update{ID: "5", Chat: testTeam, Kind: messenger.KindMessage, Text: "Алло", Team: true, AuthorID: "43",
				ReplyToID: "777", MessageID: "2001"}
			if err := tc.HandleUpdate(context.Background(), upd); err != nil {
				t.Fatal(err)
			}
			if msgs := snd.messages(); len(msgs) != 1 || msgs[0].Text != hintUnknown || len(svc.calls) != 0 {
				t.Fatalf("answers %+v, calls %q; want the hint only", msgs, svc.calls)
			}
			if n := st.lookupCount(); !tt.lookups(n) {
				t.Fatalf("%d look-ups of the post", n)
			}
		})
	}
}

// TestPostsInFlight: next is nil with nothing in flight, and closed when
// a post in flight settles.
func TestPostsInFlight(t *testing.T) {
	t.Parallel()
	var p postsInFlight
	if p.next() != nil {
		t.Fatal("next with nothing in flight")
	}
	p.begin()
	p.begin()
	ch := p.next()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.end() }()
	<-ch
	wg.Wait()
	if p.next() == nil {
		t.Fatal("one post is still in flight")
	}
	p.end()
	if p.next() != nil {
		t.Fatal("next after every post settled")
	}
}
