package vktest

import (
	"encoding/json"
	"testing"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/object"
)

// TestConversationWireFormat: what a community bot meets in a
// conversation, as VK answers it.
func TestConversationWireFormat(t *testing.T) {
	t.Parallel()
	s := New(t)
	vk := newVK(s, s.Token())
	peer := s.AddConversation(3)
	if peer != 2000000003 {
		t.Fatalf("peer = %d", peer)
	}

	// peer_id answers 0 (no message id for a community in a conversation);
	// peer_ids answers the conversation_message_id.
	if id, err := vk.MessagesSend(api.Params{"peer_id": peer, "message": "карточка", "random_id": 1}); err != nil || id != 0 {
		t.Fatalf("send with peer_id = %d, %v; want 0", id, err)
	}
	res, err := vk.MessagesSendPeerIDs(api.Params{"peer_ids": peer, "message": "ещё", "random_id": 2})
	if err != nil || len(res) != 1 || res[0].MessageID != 0 || res[0].ConversationMessageID != 2 {
		t.Fatalf("send with peer_ids = %+v, %v; want conversation_message_id 2", res, err)
	}

	// A member replies to the bot's first message: message_new carries id
	// 0, its conversation_message_id and reply_message.
	m := s.SendConversationText(3, 42, "ответ менеджера", 1)
	if m.ConvID != 3 || m.EventID == "" {
		t.Fatalf("member message = %+v", m)
	}
	s.mu.Lock()
	ev := s.lp.events[len(s.lp.events)-1]
	s.mu.Unlock()
	var obj struct {
		Message struct {
			ID      int `json:"id"`
			ConvID  int `json:"conversation_message_id"`
			PeerID  int `json:"peer_id"`
			FromID  int `json:"from_id"`
			ReplyTo *struct {
				ConvID int    `json:"conversation_message_id"`
				FromID int    `json:"from_id"`
				Text   string `json:"text"`
			} `json:"reply_message"`
		} `json:"message"`
	}
	if err := json.Unmarshal(ev.Object, &obj); err != nil {
		t.Fatal(err)
	}
	got := obj.Message
	if got.ID != 0 || got.ConvID != 3 || got.PeerID != peer || got.FromID != 42 || got.ReplyTo == nil ||
		got.ReplyTo.ConvID != 1 || got.ReplyTo.FromID != -s.GroupID() || got.ReplyTo.Text != "карточка" {
		t.Fatalf("message_new = %+v (reply %+v)", got, got.ReplyTo)
	}

	// The bot answers as a reply with forward is_reply; reply_to is refused.
	fwd := object.MessagesForward{PeerID: peer, ConversationMessageIDs: []int{3}, IsReply: true}.ToJSON()
	res, err = vk.MessagesSendPeerIDs(api.Params{"peer_ids": peer, "message": "✓", "forward": fwd, "random_id": 3})
	if err != nil || len(res) != 1 || res[0].ConversationMessageID != 4 {
		t.Fatalf("reply by forward = %+v, %v", res, err)
	}
	if msgs := s.Messages(peer); len(msgs) != 3 || msgs[2].ReplyTo != 3 || msgs[2].ConvID != 4 {
		t.Fatalf("conversation messages = %+v", msgs)
	}
	for name, p := range map[string]api.Params{
		"reply_to":        {"peer_id": peer, "message": "x", "reply_to": 3},
		"missing message": {"peer_ids": peer, "message": "x", "forward": object.MessagesForward{PeerID: peer, ConversationMessageIDs: []int{99}, IsReply: true}.ToJSON()},
		"other peer":      {"peer_ids": peer, "message": "x", "forward": object.MessagesForward{PeerID: 5, ConversationMessageIDs: []int{3}, IsReply: true}.ToJSON()},
		"two messages":    {"peer_ids": peer, "message": "x", "forward": object.MessagesForward{PeerID: peer, ConversationMessageIDs: []int{1, 3}, IsReply: true}.ToJSON()},
	} {
		if _, err := vk.Request("messages.send", p); apiCode(err) != 100 {
			t.Errorf("%s: %v, want error 100", name, err)
		}
	}

	// Without access to all messages only a mention reaches the bot.
	s.SetAllMessages(3, false)
	if m := s.SendConversationText(3, 42, "просто так", 0); m.EventID != "" {
		t.Error("an unmentioned message reached the bot without access to all messages")
	}
	if m := s.SendConversationText(3, 42, "[club777|Магазин], /take", 4); m.EventID == "" {
		t.Error("a mention did not reach the bot")
	}

	// A conversation the community is not in: error 917 (per peer with
	// peer_ids).
	s.RemoveFromConversation(3)
	if _, err := vk.MessagesSend(api.Params{"peer_id": peer, "message": "x"}); apiCode(err) != 917 {
		t.Errorf("send after removal: %v, want 917", err)
	}
	resp, err := vk.Request("messages.send", api.Params{"peer_ids": peer, "message": "x"})
	var perPeer []struct {
		PeerID int `json:"peer_id"`
		Error  struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err != nil || json.Unmarshal(resp, &perPeer) != nil || len(perPeer) != 1 || perPeer[0].Error.Code != 917 {
		t.Errorf("peer_ids after removal = %s, %v; want the peer's error 917", resp, err)
	}
}
