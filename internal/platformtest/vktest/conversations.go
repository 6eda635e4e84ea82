package vktest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// VK conversations (group chats) as a community bot meets them, the way
// the fake serves them:
//
//   - The community must be a member (AddConversation): a send to a
//     conversation it is not in fails with error 917.
//   - Its messages there have no message id: messages.send with peer_id
//     answers 0, with peer_ids it answers the conversation_message_id, and
//     the members' messages reach it as message_new with "id": 0 and their
//     conversation_message_id.
//   - A reply of a member carries reply_message (the answered message with
//     its conversation_message_id and from_id, -group_id for the
//     community's own). The community answers "as a reply" with the
//     forward parameter {"peer_id":…,"conversation_message_ids":[…],
//     "is_reply":1}; reply_to is refused in a conversation (error 100).
//   - Without access to all messages (SetAllMessages false) a member's
//     message reaches the bot only when it mentions the community
//     ("[club777|…]"): the fake delivers no more than that, so a test can
//     not come to rely on what VK may or may not pass besides.

// conversation is a conversation the community is a member of.
type conversation struct {
	allMessages bool
	// posts are the members' messages by conversation_message_id, as
	// reply_message renders them.
	posts map[int]map[string]any
}

// ChatMessage is a member's message in a conversation (SendConversationText).
type ChatMessage struct {
	// ConvID is its conversation_message_id.
	ConvID int
	// EventID is the message_new event's id; "" when the bot did not get
	// it (no access to all messages and no mention of the community).
	EventID string
}

// AddConversation adds the community to conversation chatID (its
// peer_id is ChatPeerBase + chatID, as the community sees it) with access
// to all messages, and returns the peer_id. Adding it again changes
// nothing.
func (s *Server) AddConversation(chatID int) int {
	peer := ChatPeerBase + chatID
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.convs[peer] == nil {
		s.convs[peer] = &conversation{allMessages: true, posts: map[int]map[string]any{}}
	}
	return peer
}

// SetAllMessages gives or takes the community's access to all messages of
// conversation chatID (added with AddConversation).
func (s *Server) SetAllMessages(chatID int, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[ChatPeerBase+chatID]; c != nil {
		c.allMessages = on
	}
}

// RemoveFromConversation removes the community from conversation chatID:
// sends there fail with error 917 from then on.
func (s *Server) RemoveFromConversation(chatID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.convs, ChatPeerBase+chatID)
	s.notifyLocked()
}

// SendConversationText: member fromID writes text in conversation chatID
// (added with AddConversation), as a reply to its message replyTo (a
// conversation_message_id: the community's or a member's) when replyTo >
// 0. The bot gets it as message_new unless it lacks access to all
// messages and text does not mention the community.
func (s *Server) SendConversationText(chatID, fromID int, text string, replyTo int) ChatMessage {
	s.t.Helper()
	peer := ChatPeerBase + chatID
	s.mu.Lock()
	c := s.convs[peer]
	if c == nil {
		s.mu.Unlock()
		s.t.Fatalf("vktest: the community is not in conversation %d: call AddConversation first", chatID)
		return ChatMessage{}
	}
	var reply map[string]any
	if replyTo > 0 {
		if reply = s.convMessageLocked(peer, replyTo); reply == nil {
			s.mu.Unlock()
			s.t.Fatalf("vktest: conversation %d has no message %d to reply to", chatID, replyTo)
			return ChatMessage{}
		}
	}
	s.msgs.convID[peer]++
	conv := s.msgs.convID[peer]
	msg := map[string]any{
		"date": time.Now().Unix(), "from_id": fromID, "id": 0, "out": 0, "peer_id": peer, "text": text,
		"conversation_message_id": conv, "fwd_messages": []any{}, "important": false, "random_id": 0,
		"attachments": []any{}, "is_hidden": false,
	}
	c.posts[conv] = msg
	if reply != nil {
		msg["reply_message"] = reply
	}
	visible := c.allMessages || s.mentionsLocked(text)
	s.mu.Unlock()
	if !visible {
		return ChatMessage{ConvID: conv}
	}
	ev := s.NewEvent("message_new", map[string]any{"message": msg, "client_info": map[string]any{
		"button_actions": []string{"text", "vkpay", "open_app", "location", "open_link", "callback"},
		"keyboard":       true, "inline_keyboard": true, "carousel": true, "lang_id": 0,
	}})
	return ChatMessage{ConvID: conv, EventID: s.Push(ev)}
}

// mentionsLocked reports whether text mentions the community.
func (s *Server) mentionsLocked(text string) bool {
	return strings.Contains(text, fmt.Sprintf("[club%d|", s.groupID)) || strings.Contains(text, fmt.Sprintf("[public%d|", s.groupID))
}

// convMessageLocked renders message convID of conversation peer (the
// community's or a member's) as reply_message carries it; nil when there
// is none.
func (s *Server) convMessageLocked(peer, convID int) map[string]any {
	if c := s.convs[peer]; c != nil {
		if p := c.posts[convID]; p != nil {
			out := make(map[string]any, len(p))
			for k, v := range p {
				if k != "reply_message" {
					out[k] = v
				}
			}
			return out
		}
	}
	for _, m := range s.msgs.byPeer[peer] {
		if m.ConvID == convID {
			return map[string]any{
				"date": m.Time.Unix(), "from_id": -s.groupID, "id": 0, "peer_id": peer, "text": m.Text,
				"conversation_message_id": m.ConvID, "fwd_messages": []any{}, "attachments": []any{},
			}
		}
	}
	return nil
}

// forwardParam is messages.send's forward parameter.
type forwardParam struct {
	OwnerID                int   `json:"owner_id"`
	PeerID                 int   `json:"peer_id"`
	ConversationMessageIDs []int `json:"conversation_message_ids"`
	MessageIDs             []int `json:"message_ids"`
	IsReply                flag  `json:"is_reply"`
}

// flag reads a JSON boolean VK also takes as 0/1.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", "1":
		*f = true
	case "false", "0", "null":
		*f = false
	default:
		return fmt.Errorf("not a flag: %s", b)
	}
	return nil
}

// checkSendToLocked checks a send to peer against the conversation rules
// (membership, reply_to, forward) and returns the conversation_message_id
// the message replies to (0 for none), or the error code and message VK
// answers.
func (s *Server) checkSendToLocked(peer int, replyTo, forward string) (int, *apiError) {
	isConv := peer > chatPeerThreshold
	if isConv && s.convs[peer] == nil {
		return 0, errCode(917)
	}
	if isConv && replyTo != "" && replyTo != "0" {
		return 0, paramError("reply_to: a community cannot reply in a conversation by reply_to, use forward with is_reply")
	}
	if forward == "" {
		return 0, nil
	}
	var f forwardParam
	if err := json.Unmarshal([]byte(forward), &f); err != nil {
		return 0, paramError("forward is not a JSON object")
	}
	if !f.IsReply {
		return 0, paramError("forward: only is_reply forwards are supported by the fake")
	}
	ids := f.ConversationMessageIDs
	if len(ids) != 1 || len(f.MessageIDs) != 0 || f.PeerID != peer {
		return 0, paramError("forward: a reply takes peer_id of this conversation and exactly one conversation_message_id")
	}
	found := s.convMessageLocked(peer, ids[0]) != nil
	if !isConv {
		found = s.findLocked(peer, "", strconv.Itoa(ids[0])) != nil
	}
	if !found {
		return 0, paramError("forward: message not found")
	}
	return ids[0], nil
}
