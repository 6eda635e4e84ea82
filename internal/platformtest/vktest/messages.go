package vktest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// VK limits the fake enforces.
const (
	// MaxMessageLen is the longest message text, in characters (error 914).
	MaxMessageLen = 4096
	// MaxLabelLen is the longest button label, in characters (error 911).
	MaxLabelLen = 40
	// MaxPayloadLen is the longest button payload, in bytes (error 911).
	MaxPayloadLen = 255
	// MaxPeerIDs is how many peers one messages.send may address.
	MaxPeerIDs = 100
)

// Keyboard limits (error 911 beyond them).
const (
	maxPerRow         = 5
	maxRows           = 10
	maxButtons        = 40
	maxInlineRows     = 6
	maxInlineButtons  = 10
	chatPeerThreshold = 2000000000
)

// Keyboard is a decoded VK keyboard.
type Keyboard struct {
	OneTime bool       `json:"one_time"`
	Inline  bool       `json:"inline"`
	Buttons [][]Button `json:"buttons"`
}

// Button is one VK keyboard button.
type Button struct {
	Action Action `json:"action"`
	Color  string `json:"color,omitempty"`
}

// Action is what a button does.
type Action struct {
	Type    string `json:"type"`
	Label   string `json:"label,omitempty"`
	Payload string `json:"payload,omitempty"`
	Link    string `json:"link,omitempty"`
}

// Labels returns every button label in order.
func (k *Keyboard) Labels() []string {
	if k == nil {
		return nil
	}
	var out []string
	for _, row := range k.Buttons {
		for _, b := range row {
			out = append(out, b.Action.Label)
		}
	}
	return out
}

// Message is a message the bot sent (as it looks now, after edits).
type Message struct {
	ID       int
	ConvID   int // conversation_message_id
	PeerID   int
	RandomID int
	Text     string
	// Keyboard is nil when the message carried none; RawKeyboard is the JSON as sent.
	Keyboard    *Keyboard
	RawKeyboard string
	Intent      string
	// Attachments are the attachment parameter's items ("photo-777_1_key").
	Attachments []string
	// ReplyTo is the conversation_message_id the message answers (the
	// forward parameter with is_reply); 0 for none.
	ReplyTo int
	Edits   int
	Time    time.Time
}

// EventAnswer is a recorded messages.sendMessageEventAnswer call.
type EventAnswer struct {
	EventID   string
	UserID    int
	PeerID    int
	EventData string
}

type dedupeKey struct{ peer, randomID int }

type messageStore struct {
	nextID  int
	convID  map[int]int
	byPeer  map[int][]*Message
	byID    map[int]*Message
	dedupe  map[dedupeKey]int
	cursors map[int]int
	deduped int // sends answered with an earlier message (random_id seen)
}

func newMessageStore() messageStore {
	return messageStore{
		nextID: 100, convID: map[int]int{}, byPeer: map[int][]*Message{}, byID: map[int]*Message{},
		dedupe: map[dedupeKey]int{}, cursors: map[int]int{},
	}
}

// Messages returns copies of every message sent to userID, oldest first.
func (s *Server) Messages(userID int) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyMessages(s.msgs.byPeer[userID])
}

// WaitMessages waits until userID has at least n messages and returns them
// all; the test fails if that takes longer than timeout.
func (s *Server) WaitMessages(userID, n int, timeout time.Duration) []Message {
	s.t.Helper()
	if !s.waitFor(timeout, func() bool { return len(s.msgs.byPeer[userID]) >= n }) {
		s.t.Fatalf("vktest: user %d got %d messages in %s, want %d: %s",
			userID, len(s.Messages(userID)), timeout, n, texts(s.Messages(userID)))
	}
	return s.Messages(userID)
}

// Next waits for the next n messages to userID that Next has not returned
// yet; the test fails if they do not arrive within timeout.
func (s *Server) Next(userID, n int, timeout time.Duration) []Message {
	s.t.Helper()
	ok := s.waitFor(timeout, func() bool { return len(s.msgs.byPeer[userID])-s.msgs.cursors[userID] >= n })
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.msgs.byPeer[userID]
	from := s.msgs.cursors[userID]
	if !ok {
		s.t.Fatalf("vktest: user %d: %d new messages in %s, want %d: %s",
			userID, len(all)-from, timeout, n, texts(copyMessages(all[from:])))
	}
	s.msgs.cursors[userID] = from + n
	return copyMessages(all[from : from+n])
}

func copyMessages(in []*Message) []Message {
	out := make([]Message, len(in))
	for i, m := range in {
		out[i] = *m
	}
	return out
}

func texts(msgs []Message) string {
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = strconv.Quote(m.Text)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// EventAnswers returns the recorded messages.sendMessageEventAnswer calls.
func (s *Server) EventAnswers() []EventAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.eventAnswer)
}

// outgoing is a validated messages.send / messages.edit request.
type outgoing struct {
	text     string
	keyboard *Keyboard
	rawKB    string
	randomID int
	intent   string
	attach   []string
	replyTo  int // conversation_message_id answered (forward with is_reply)
}

func parseOutgoing(p url.Values) (outgoing, *apiError) {
	o := outgoing{text: p.Get("message"), rawKB: p.Get("keyboard"), intent: p.Get("intent")}
	if utf8.RuneCountInString(o.text) > MaxMessageLen {
		return o, errCode(914)
	}
	if o.rawKB != "" {
		kb, err := ValidateKeyboard(o.rawKB)
		if err != nil {
			return o, &apiError{code: 911, msg: errorMessages[911] + ": " + err.Error()}
		}
		o.keyboard = kb
	}
	if v := p.Get("random_id"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil || id < -1<<31 || id >= 1<<31 {
			return o, paramError("random_id is not an int32")
		}
		o.randomID = id
	}
	if o.intent != "" && !slices.Contains([]string{"default", "promo_newsletter", "non_promo_newsletter",
		"bot_ad_invite", "bot_ad_promo", "confirmed_notification", "purchase_update", "account_update",
		"game_notification", "customer_support"}, o.intent) {
		return o, errCode(943)
	}
	return o, nil
}

func paramError(what string) *apiError {
	return &apiError{code: 100, msg: errorMessages[100] + ": " + what}
}

// messagesSend serves messages.send: one peer (peer_id / user_id) answers the
// message id; peer_ids answers one entry per peer.
func (s *Server) messagesSend(p url.Values) (any, *apiError) {
	o, aerr := parseOutgoing(p)
	if aerr != nil {
		return nil, aerr
	}
	if o.text == "" && p.Get("attachment") == "" && p.Get("sticker_id") == "" {
		return nil, paramError("message is empty or invalid")
	}
	if ids := p.Get("peer_ids"); ids != "" {
		return s.sendMany(ids, p, o)
	}
	peer, err := strconv.Atoi(firstNonEmpty(p.Get("peer_id"), p.Get("user_id")))
	if err != nil || peer == 0 {
		return nil, paramError("peer_id is undefined")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.attach, aerr = s.checkAttachmentsLocked(p.Get("attachment")); aerr != nil {
		return nil, aerr
	}
	if o.replyTo, aerr = s.checkSendToLocked(peer, p.Get("reply_to"), p.Get("forward")); aerr != nil {
		return nil, aerr
	}
	id, code := s.deliverLocked(peer, o)
	if code != 0 {
		return nil, errCode(code)
	}
	if peer > chatPeerThreshold {
		return 0, nil // a community's message in a conversation has no id
	}
	return id, nil
}

// peerResult is one entry of a peer_ids answer.
type peerResult struct {
	PeerID    int        `json:"peer_id"`
	MessageID int        `json:"message_id,omitempty"`
	ConvID    int        `json:"conversation_message_id,omitempty"`
	Error     *peerError `json:"error,omitempty"`
}

type peerError struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

func (s *Server) sendMany(ids string, p url.Values, o outgoing) (any, *apiError) {
	parts := strings.Split(ids, ",")
	if len(parts) > MaxPeerIDs {
		return nil, paramError("too many peer_ids")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var aerr *apiError
	if o.attach, aerr = s.checkAttachmentsLocked(p.Get("attachment")); aerr != nil {
		return nil, aerr
	}
	out := make([]peerResult, 0, len(parts))
	for _, part := range parts {
		peer, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || peer == 0 {
			return nil, paramError("peer_ids has an invalid id")
		}
		replyTo, aerr := s.checkSendToLocked(peer, p.Get("reply_to"), p.Get("forward"))
		if aerr != nil && aerr.code != 917 {
			return nil, aerr
		}
		code := 0
		if aerr != nil {
			code = aerr.code
		}
		o.replyTo = replyTo
		id := 0
		if code == 0 {
			id, code = s.deliverLocked(peer, o)
		}
		if code != 0 {
			out = append(out, peerResult{PeerID: peer, Error: &peerError{Code: code, Description: errorMessages[code]}})
			continue
		}
		r := peerResult{PeerID: peer, MessageID: id, ConvID: s.msgs.byID[id].ConvID}
		if peer > chatPeerThreshold {
			r.MessageID = 0 // a community's message in a conversation has no id
		}
		out = append(out, r)
	}
	return out, nil
}

// deliverLocked stores one message for peer, honouring random_id dedupe and
// unreachable users; it returns the message id or a VK error code.
func (s *Server) deliverLocked(peer int, o outgoing) (int, int) {
	if code := s.unreachable[peer]; code != 0 {
		return 0, code
	}
	key := dedupeKey{peer, o.randomID}
	if o.randomID != 0 {
		if id, ok := s.msgs.dedupe[key]; ok {
			s.msgs.deduped++
			if s.onSend != nil {
				s.onSend(*s.msgs.byID[id], true)
			}
			return id, 0
		}
	}
	s.msgs.nextID++
	s.msgs.convID[peer]++
	m := &Message{
		ID: s.msgs.nextID, ConvID: s.msgs.convID[peer], PeerID: peer, RandomID: o.randomID, Text: o.text,
		Keyboard: o.keyboard, RawKeyboard: o.rawKB, Intent: o.intent, Attachments: o.attach, ReplyTo: o.replyTo,
		Time: time.Now(),
	}
	s.msgs.byPeer[peer] = append(s.msgs.byPeer[peer], m)
	s.msgs.byID[m.ID] = m
	if o.randomID != 0 {
		s.msgs.dedupe[key] = m.ID
	}
	if s.onSend != nil {
		s.onSend(*m, false)
	}
	s.notifyLocked()
	return m.ID, 0
}

// messagesEdit serves messages.edit (by message_id or conversation_message_id).
func (s *Server) messagesEdit(p url.Values) (any, *apiError) {
	o, aerr := parseOutgoing(p)
	if aerr != nil {
		return nil, aerr
	}
	peer, err := strconv.Atoi(p.Get("peer_id"))
	if err != nil {
		return nil, paramError("peer_id is undefined")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(peer, p.Get("message_id"), p.Get("conversation_message_id"))
	if m == nil {
		return nil, paramError("message_id is invalid")
	}
	if o.text == "" && o.keyboard == nil {
		return nil, paramError("message is empty")
	}
	m.Text, m.Keyboard, m.RawKeyboard = o.text, o.keyboard, o.rawKB
	m.Edits++
	s.notifyLocked()
	return 1, nil
}

func (s *Server) findLocked(peer int, id, convID string) *Message {
	for _, m := range s.msgs.byPeer[peer] {
		if (id != "" && strconv.Itoa(m.ID) == id) || (convID != "" && strconv.Itoa(m.ConvID) == convID) {
			return m
		}
	}
	return nil
}

// messagesSendMessageEventAnswer records the answer to a callback button press.
func (s *Server) messagesSendMessageEventAnswer(p url.Values) (any, *apiError) {
	user, err1 := strconv.Atoi(p.Get("user_id"))
	peer, err2 := strconv.Atoi(p.Get("peer_id"))
	if p.Get("event_id") == "" || err1 != nil || err2 != nil {
		return nil, paramError("event_id, user_id and peer_id are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventAnswer = append(s.eventAnswer, EventAnswer{
		EventID: p.Get("event_id"), UserID: user, PeerID: peer, EventData: p.Get("event_data"),
	})
	s.notifyLocked()
	return 1, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// ValidateKeyboard decodes a keyboard JSON and checks it against VK's rules:
// known action types, labels of 1..40 characters, JSON payloads of at most
// 255 bytes, at most 5 buttons a row, 10 rows / 40 buttons (inline: 6 rows /
// 10 buttons).
func ValidateKeyboard(raw string) (*Keyboard, error) {
	var kb Keyboard
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kb); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if kb.Buttons == nil {
		return nil, fmt.Errorf("buttons missing")
	}
	if kb.Inline && kb.OneTime {
		return nil, fmt.Errorf("inline keyboard cannot be one_time")
	}
	rows, total := maxRows, maxButtons
	if kb.Inline {
		rows, total = maxInlineRows, maxInlineButtons
	}
	if len(kb.Buttons) > rows {
		return nil, fmt.Errorf("%d rows, at most %d", len(kb.Buttons), rows)
	}
	n := 0
	for _, row := range kb.Buttons {
		if len(row) > maxPerRow {
			return nil, fmt.Errorf("%d buttons in a row, at most %d", len(row), maxPerRow)
		}
		for _, b := range row {
			if err := validateButton(b); err != nil {
				return nil, err
			}
		}
		n += len(row)
	}
	if n > total {
		return nil, fmt.Errorf("%d buttons, at most %d", n, total)
	}
	return &kb, nil
}

func validateButton(b Button) error {
	a := b.Action
	switch a.Type {
	case "text", "callback":
		if b.Color != "" && !slices.Contains([]string{"primary", "secondary", "negative", "positive"}, b.Color) {
			return fmt.Errorf("unknown color %q", b.Color)
		}
	case "open_link":
		if u, err := url.Parse(a.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("open_link needs an http(s) link, got %q", a.Link)
		}
	case "location", "vkpay", "open_app":
		return nil
	default:
		return fmt.Errorf("unknown action type %q", a.Type)
	}
	if n := utf8.RuneCountInString(a.Label); n == 0 || n > MaxLabelLen {
		return fmt.Errorf("label %q has %d characters, want 1..%d", a.Label, n, MaxLabelLen)
	}
	if len(a.Payload) > MaxPayloadLen {
		return fmt.Errorf("payload has %d bytes, at most %d", len(a.Payload), MaxPayloadLen)
	}
	if a.Payload != "" && !json.Valid([]byte(a.Payload)) {
		return fmt.Errorf("payload %q is not JSON", a.Payload)
	}
	return nil
}
