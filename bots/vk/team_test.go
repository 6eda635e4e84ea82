package vk

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// teamPeer is the managers' conversation of the team chat tests.
const teamPeer = vktest.ChatPeerBase + 1

func withTeam(c *Config) { c.ManagersPeerID = teamPeer }

// chatMessage is a message_new object of a conversation as VK sends it to
// a community bot: id 0, the conversation_message_id, and extra fields
// (reply_message, action…).
func chatMessage(peer, from, conv int, text string, extra map[string]any) map[string]any {
	m := map[string]any{
		"date": time.Now().Unix(), "from_id": from, "id": 0, "out": 0, "peer_id": peer, "text": text,
		"conversation_message_id": conv, "fwd_messages": []any{}, "attachments": []any{}, "important": false,
		"random_id": 0, "is_hidden": false,
	}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"message": m, "client_info": map[string]any{"keyboard": true}}
}

func TestTranslateTeamChat(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	group := srv.GroupID()
	botPost := map[string]any{"reply_message": map[string]any{"from_id": -group, "conversation_message_id": 7, "id": 0,
		"peer_id": teamPeer, "text": "🔔 Обращение №1"}}
	memberPost := map[string]any{"reply_message": map[string]any{"from_id": 43, "conversation_message_id": 8, "id": 0,
		"peer_id": teamPeer, "text": "коллега"}}
	otherBot := map[string]any{"reply_message": map[string]any{"from_id": -555, "conversation_message_id": 9, "id": 0,
		"peer_id": teamPeer, "text": "чужой бот"}}
	sticker := map[string]any{"attachments": []map[string]any{{"type": "sticker", "sticker": map[string]any{"sticker_id": 9}}}}
	invite := map[string]any{"action": map[string]any{"type": "chat_invite_user", "member_id": 44}}
	tests := []struct {
		name  string
		team  bool // ManagersPeerID configured
		obj   map[string]any
		want  *messenger.Update // nil: ignored; Chat, Team, AuthorID and Time are checked for all
		reply string
	}{
		{"reply to the bot's post", true, chatMessage(teamPeer, 42, 12, "Добрый день!", botPost),
			&messenger.Update{Kind: messenger.KindMessage, Text: "Добрый день!", MessageID: "12"}, "7"},
		{"command in reply", true, chatMessage(teamPeer, 42, 13, "/done b2b", botPost),
			&messenger.Update{Kind: messenger.KindMessage, Text: "/done b2b", MessageID: "13"}, "7"},
		{"mention of the community cut", true, chatMessage(teamPeer, 42, 14, "[club777|Магазин], /take", botPost),
			&messenger.Update{Kind: messenger.KindMessage, Text: "/take", MessageID: "14"}, "7"},
		{"public mention cut", true, chatMessage(teamPeer, 42, 15, "[public777|@shop] Алло", nil),
			&messenger.Update{Kind: messenger.KindMessage, Text: "Алло", MessageID: "15"}, ""},
		{"another community's mention kept", true, chatMessage(teamPeer, 42, 16, "[club555|Другой] привет", nil),
			&messenger.Update{Kind: messenger.KindMessage, Text: "[club555|Другой] привет", MessageID: "16"}, ""},
		{"chatter", true, chatMessage(teamPeer, 42, 17, "кто на обед?", nil),
			&messenger.Update{Kind: messenger.KindMessage, Text: "кто на обед?", MessageID: "17"}, ""},
		{"reply to a colleague", true, chatMessage(teamPeer, 42, 18, "согласен", memberPost),
			&messenger.Update{Kind: messenger.KindMessage, Text: "согласен", MessageID: "18"}, ""},
		{"reply to another community", true, chatMessage(teamPeer, 42, 19, "?", otherBot),
			&messenger.Update{Kind: messenger.KindMessage, Text: "?", MessageID: "19"}, ""},
		{"sticker in reply", true, chatMessage(teamPeer, 42, 20, "", merge(sticker, botPost)),
			&messenger.Update{Kind: messenger.KindUnsupported, MessageID: "20"}, "7"},
		{"only a mention", true, chatMessage(teamPeer, 42, 21, "[club777|Магазин]", botPost),
			&messenger.Update{Kind: messenger.KindUnsupported, MessageID: "21"}, "7"},
		{"service message", true, chatMessage(teamPeer, 42, 22, "", invite), nil, ""},
		{"another community writes", true, chatMessage(teamPeer, -555, 23, "бот", nil), nil, ""},
		{"another conversation", true, chatMessage(teamPeer+1, 42, 5, "всем", botPost), nil, ""},
		{"no team chat configured", false, chatMessage(teamPeer, 42, 24, "Добрый день!", botPost), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mod := withTeam
			if !tt.team {
				mod = nil
			}
			b, _ := newBot(t, srv, mod)
			ev := srv.NewEvent("message_new", tt.obj)
			got := b.translateEvent(groupEvent(t, ev))
			if tt.want == nil {
				if got != nil {
					t.Fatalf("got %+v, want ignored", got)
				}
				return
			}
			if got == nil {
				t.Fatal("ignored")
			}
			if got.ID != ev.EventID || got.Chat != vkChat("2000000001") || !got.Team || got.AuthorID != "42" || got.Time.IsZero() {
				t.Fatalf("id/chat/team/author/time = %q %v %v %q %v", got.ID, got.Chat, got.Team, got.AuthorID, got.Time)
			}
			if got.Kind != tt.want.Kind || got.Text != tt.want.Text || got.MessageID != tt.want.MessageID || got.ReplyToID != tt.reply {
				t.Fatalf("got %+v, want %+v replying to %q", got, tt.want, tt.reply)
			}
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestTeamChatConfigRefusesAPrivatePeer(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	_, err := New(Config{Token: srv.Token(), APIURL: srv.URL(), ManagersPeerID: 42})
	if err == nil || !strings.Contains(err.Error(), "managers peer id 42 is not a conversation's") {
		t.Fatalf("New = %v", err)
	}
}

// TestTeamChatOverLongPoll: a manager's reply in the conversation reaches
// the sink as a Team update with the manager's profile (users.get of the
// author, not of the conversation); other conversations never do.
func TestTeamChatOverLongPoll(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	srv.SetName(42, "Ольга", "Смирнова")
	srv.AddConversation(1)
	srv.AddConversation(2)
	b, _ := newBot(t, srv, withTeam)
	ctx := context.Background()
	card, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("2000000001"), Text: "🔔 Обращение №1"})
	if err != nil || card.MessageID != "1" {
		t.Fatalf("post = %+v, %v; want conversation_message_id 1", card, err)
	}
	sink := newSink()
	startPolling(t, srv, b, sink)
	srv.SendConversationText(2, 42, "в другой беседе", 0)
	srv.SendConversationText(1, 42, "Добрый день!", 1)
	srv.SendText(7, "клиент", "")
	// The other conversation's message came first: had it been let
	// through, it would be the first update.
	ups := sink.waitUpdates(t, 2)
	team, client := ups[0], ups[1]
	if !team.Team || team.Chat != vkChat("2000000001") || team.ReplyToID != "1" || team.MessageID != "2" ||
		team.Profile == nil || team.Profile.FirstName != "Ольга" || team.Profile.LastName != "Смирнова" {
		t.Fatalf("team update = %+v (profile %+v)", team, team.Profile)
	}
	if client.Team || client.Chat != vkChat("7") {
		t.Fatalf("client update = %+v", client)
	}
}

// TestSendToTeamChat: posts go to the managers' conversation with
// peer_ids and come back as conversation_message_ids; a reply goes by
// forward is_reply (a refused one is sent without it); no other
// conversation is posted to.
func TestSendToTeamChat(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	srv.AddConversation(1)
	srv.AddConversation(2)
	b, logs := newBot(t, srv, withTeam)
	ctx := context.Background()
	team := vkChat("2000000001")
	card, err := b.Send(ctx, messenger.OutMessage{Chat: team, Text: "🔔 Обращение №1"})
	if err != nil || card.MessageID != "1" {
		t.Fatalf("card = %+v, %v", card, err)
	}
	m := srv.SendConversationText(1, 42, "/take", 1)
	answer, err := b.Send(ctx, messenger.OutMessage{Chat: team, Text: "✅ взял(а)", ReplyToID: "2"})
	if err != nil || answer.MessageID != "3" {
		t.Fatalf("answer = %+v, %v", answer, err)
	}
	msgs := srv.Messages(teamPeer)
	if len(msgs) != 2 || msgs[1].ReplyTo != m.ConvID || msgs[1].Text != "✅ взял(а)" {
		t.Fatalf("conversation = %+v", msgs)
	}
	// A long text: the reply rides on the first part, the id is the last's.
	long := strings.Repeat("слово ", 1000)
	sent, err := b.Send(ctx, messenger.OutMessage{Chat: team, Text: long, ReplyToID: "1"})
	msgs = srv.Messages(teamPeer)
	if err != nil || len(msgs) != 4 || msgs[2].ReplyTo != 1 || msgs[3].ReplyTo != 0 || sent.MessageID != "5" {
		t.Fatalf("long post = %+v, %v; conversation %d messages", sent, err, len(msgs))
	}
	// A reply to a message VK no longer has goes without the reply.
	if sent, err := b.Send(ctx, messenger.OutMessage{Chat: team, Text: "без ответа", ReplyToID: "999"}); err != nil || sent.MessageID != "6" {
		t.Fatalf("reply to a missing message = %+v, %v", sent, err)
	}
	if msgs = srv.Messages(teamPeer); msgs[len(msgs)-1].ReplyTo != 0 || !strings.Contains(logs.String(), "sending it without") {
		t.Fatalf("last = %+v", msgs[len(msgs)-1])
	}
	if _, err := b.Send(ctx, messenger.OutMessage{Chat: team, Text: "x", ReplyToID: "abc"}); !errors.Is(err, messenger.ErrBadRequest) {
		t.Errorf("reply to a non-id: %v", err)
	}
	// Only the managers' conversation.
	if _, err := b.Send(ctx, messenger.OutMessage{Chat: vkChat("2000000002"), Text: "x"}); !errors.Is(err, messenger.ErrBadRequest) {
		t.Errorf("send to another conversation: %v, want ErrBadRequest", err)
	}
	if n := len(srv.Messages(vktest.ChatPeerBase + 2)); n != 0 {
		t.Errorf("another conversation got %d messages", n)
	}
	if _, _, err := b.SendMany(messenger.WithIdempotencyKey(ctx, "c1"), messenger.OutMessage{Text: "акция"},
		[]messenger.ChatKey{team}); !errors.Is(err, messenger.ErrBadRequest) {
		t.Errorf("a broadcast to the team chat: %v, want ErrBadRequest", err)
	}
	// The community removed from the conversation: VK's 917 is a refusal
	// the team chat reports, not a blocked client.
	srv.RemoveFromConversation(1)
	_, err = b.Send(ctx, messenger.OutMessage{Chat: team, Text: "ау"})
	if err == nil || !strings.Contains(err.Error(), "code 917") || errors.Is(err, messenger.ErrBlocked) {
		t.Errorf("send after removal: %v", err)
	}
}

// TestTeamChatSendsCoalesce: posts to the team chat ride in an execute
// with other pending sends and still get their conversation_message_id.
func TestTeamChatSendsCoalesce(t *testing.T) {
	t.Parallel()
	srv := vktest.New(t)
	srv.AddConversation(1)
	srv.SetRateLimit(2)
	b, _ := newBot(t, srv, func(c *Config) { withTeam(c); c.RequestsPerSecond = 2 })
	ctx := context.Background()
	type result struct {
		sent messenger.Sent
		err  error
	}
	results := make(chan result, 6)
	for i := range 6 {
		go func() {
			chat := vkChat("2000000001")
			if i%2 == 1 {
				chat = vkChat("5")
			}
			s, err := b.Send(ctx, messenger.OutMessage{Chat: chat, Text: "пост " + string(rune('A'+i))})
			results <- result{s, err}
		}()
	}
	seen := map[string]bool{}
	for range 6 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		seen[r.sent.MessageID] = true
	}
	if n := len(srv.Messages(teamPeer)); n != 3 {
		t.Fatalf("team chat got %d posts, want 3", n)
	}
	for _, m := range srv.Messages(teamPeer) {
		if !seen[strconv.Itoa(m.ConvID)] {
			t.Errorf("post %d's id never returned (got %v)", m.ConvID, seen)
		}
	}
	if srv.Calls("execute") == 0 {
		t.Log("no execute happened (the budget never ran out); coalescing not exercised")
	}
}
