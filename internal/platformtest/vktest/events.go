package vktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ChatPeerBase is added to a chat id to get its peer_id (peer_id ≥ 2e9 is a
// group chat, not a private dialogue).
const ChatPeerBase = chatPeerThreshold

// Event is a community event as VK sends it in Bots Long Poll and Callback API.
type Event struct {
	Type    string          `json:"type"`
	Object  json.RawMessage `json:"object,omitempty"`
	GroupID int             `json:"group_id"`
	EventID string          `json:"event_id,omitempty"`
	V       string          `json:"v"`
	Secret  string          `json:"secret,omitempty"`
}

// Body is the event as a Callback API request body, carrying secret ("" for none).
func (ev Event) Body(secret string) []byte {
	ev.Secret = secret
	b, err := json.Marshal(ev)
	if err != nil {
		panic(fmt.Sprintf("vktest: encode event: %v", err))
	}
	return b
}

// NewEvent builds an event of any type with a fresh event_id; it is not queued.
func (s *Server) NewEvent(typ string, object any) Event {
	raw, err := json.Marshal(object)
	if err != nil {
		s.t.Fatalf("vktest: encode %s object: %v", typ, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventSeq++
	return Event{
		Type: typ, Object: raw, GroupID: s.groupID, V: APIVersion,
		EventID: fmt.Sprintf("%040x", 0xe000_0000+s.eventSeq),
	}
}

// ConfirmationEvent is the event VK sends to confirm a Callback API server.
func (s *Server) ConfirmationEvent() Event {
	ev := s.NewEvent("confirmation", struct{}{})
	ev.Object = nil
	ev.EventID = ""
	return ev
}

// Push queues events for the long-poll server, in order, and returns the
// event_id of the last one.
func (s *Server) Push(evs ...Event) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lp.events = append(s.lp.events, evs...)
	s.notifyLocked()
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].EventID
}

// InMessage describes a message a user writes to the community.
type InMessage struct {
	PeerID      int // defaults to FromID
	FromID      int
	Text        string
	Payload     string // JSON, as a keyboard button sends it
	Ref         string
	RefSource   string
	Attachments []map[string]any // see Attachment
	Geo         map[string]any   // see Geo; nil for none
}

// MessageEvent builds a message_new event (not queued).
func (s *Server) MessageEvent(m InMessage) Event {
	if m.PeerID == 0 {
		m.PeerID = m.FromID
	}
	if m.Attachments == nil {
		m.Attachments = []map[string]any{}
	}
	s.mu.Lock()
	s.msgs.nextID++
	s.msgs.convID[m.PeerID]++
	id, conv := s.msgs.nextID, s.msgs.convID[m.PeerID]
	s.mu.Unlock()
	if m.PeerID > chatPeerThreshold {
		id = 0 // a community bot sees no message ids in conversations
	}
	msg := map[string]any{
		"date": time.Now().Unix(), "from_id": m.FromID, "id": id, "out": 0, "peer_id": m.PeerID,
		"text": m.Text, "conversation_message_id": conv, "fwd_messages": []any{}, "important": false,
		"random_id": 0, "attachments": m.Attachments, "is_hidden": false,
	}
	if m.Geo != nil {
		msg["geo"] = m.Geo
	}
	for k, v := range map[string]string{"payload": m.Payload, "ref": m.Ref, "ref_source": m.RefSource} {
		if v != "" {
			msg[k] = v
		}
	}
	return s.NewEvent("message_new", map[string]any{"message": msg, "client_info": map[string]any{
		"button_actions": []string{"text", "vkpay", "open_app", "location", "open_link", "callback",
			"intent_subscribe", "intent_unsubscribe"},
		"keyboard": true, "inline_keyboard": true, "carousel": true, "lang_id": 0,
	}})
}

// SendText: userID writes text; ref is the deep-link payload ("" for none).
// It returns the event_id.
func (s *Server) SendText(userID int, text, ref string) string {
	return s.Push(s.MessageEvent(InMessage{FromID: userID, Text: text, Ref: ref}))
}

// Start: userID presses «Начать» (payload {"command":"start"}), arriving
// through a vk.me link with ref ("" for none).
func (s *Server) Start(userID int, ref string) string {
	m := InMessage{FromID: userID, Text: "Начать", Payload: `{"command":"start"}`, Ref: ref}
	if ref != "" {
		m.RefSource = "link"
	}
	return s.Push(s.MessageEvent(m))
}

// PressButton: userID presses a text keyboard button carrying payload; the
// message text is that button's label on the latest message that has it.
func (s *Server) PressButton(userID int, payload string) string {
	label := ""
	if b, _ := s.findButton(userID, func(b Button) bool { return b.Action.Payload == payload }); b != nil {
		label = b.Action.Label
	}
	return s.Push(s.MessageEvent(InMessage{FromID: userID, Text: label, Payload: payload}))
}

// PressLabel: userID presses the button labelled label on the latest message
// that has it (a text button sends a message, a callback button a
// message_event); the test fails when no message has it.
func (s *Server) PressLabel(userID int, label string) string {
	s.t.Helper()
	b, msg := s.findButton(userID, func(b Button) bool { return b.Action.Label == label })
	if b == nil {
		s.t.Fatalf("vktest: user %d has no button %q", userID, label)
		return ""
	}
	if b.Action.Type == "callback" {
		return s.Push(s.callbackEvent(userID, msg.ConvID, b.Action.Payload))
	}
	return s.Push(s.MessageEvent(InMessage{FromID: userID, Text: label, Payload: b.Action.Payload}))
}

// PressCallbackButton: userID presses an inline callback button carrying
// payload (a message_event); conversation_message_id is that of the latest
// message with such a button (0 when none).
func (s *Server) PressCallbackButton(userID int, payload string) string {
	conv := 0
	if _, msg := s.findButton(userID, func(b Button) bool { return b.Action.Payload == payload }); msg != nil {
		conv = msg.ConvID
	}
	return s.Push(s.callbackEvent(userID, conv, payload))
}

func (s *Server) callbackEvent(userID, conv int, payload string) Event {
	if payload == "" {
		payload = "{}"
	}
	ev := s.NewEvent("message_event", map[string]any{
		"user_id": userID, "peer_id": userID, "payload": json.RawMessage(payload), "conversation_message_id": conv,
	})
	var obj map[string]any
	_ = json.Unmarshal(ev.Object, &obj)
	obj["event_id"] = "cb" + ev.EventID[len(ev.EventID)-10:]
	ev.Object, _ = json.Marshal(obj)
	return ev
}

// findButton returns the first matching button on the latest message to
// userID that has one.
func (s *Server) findButton(userID int, match func(Button) bool) (*Button, *Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := s.msgs.byPeer[userID]
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Keyboard == nil {
			continue
		}
		for _, row := range msgs[i].Keyboard.Buttons {
			for _, b := range row {
				if match(b) {
					m := *msgs[i]
					return &b, &m
				}
			}
		}
	}
	return nil, nil
}

// SendSticker: userID sends a sticker (a message with no text).
func (s *Server) SendSticker(userID int) string {
	return s.SendAttachment(userID, "sticker")
}

// SendAttachment: userID sends one attachment of type typ (photo,
// audio_message, doc…; see Attachment) and no text.
func (s *Server) SendAttachment(userID int, typ string) string {
	return s.Push(s.MessageEvent(InMessage{FromID: userID, Attachments: []map[string]any{Attachment(typ, userID)}}))
}

// SendGeo: userID sends a point on the map (the message's geo field) and
// no text.
func (s *Server) SendGeo(userID int) string {
	return s.Push(s.MessageEvent(InMessage{FromID: userID, Geo: Geo()}))
}

// SendChatText: fromID writes text in group chat chatID (peer_id 2e9+chatID).
func (s *Server) SendChatText(chatID, fromID int, text string) string {
	return s.Push(s.MessageEvent(InMessage{PeerID: ChatPeerBase + chatID, FromID: fromID, Text: text}))
}

// Allow: userID allows messages from the community (message_allow).
func (s *Server) Allow(userID int) string { return s.AllowWithKey(userID, "") }

// AllowWithKey is Allow with the key (ref) the permission came with.
func (s *Server) AllowWithKey(userID int, key string) string {
	return s.Push(s.NewEvent("message_allow", map[string]any{"user_id": userID, "key": key}))
}

// Deny: userID denies messages from the community (message_deny).
func (s *Server) Deny(userID int) string {
	return s.Push(s.NewEvent("message_deny", map[string]any{"user_id": userID}))
}

// PostCallback POSTs a Callback API request body to url like VK does and
// returns the status code and the answer body.
func (s *Server) PostCallback(url string, body []byte) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		s.t.Fatalf("vktest: callback request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "VKCallbackAPI")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("vktest: post callback: %v", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("vktest: read callback answer: %v", err)
	}
	return resp.StatusCode, string(answer)
}
