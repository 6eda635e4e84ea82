package telegramfake

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Sent is a message the bot sent to a chat, with later edits applied.
type Sent struct {
	MessageID int
	Text      string
	ParseMode string
	// Photo is the picture of a sendPhoto message: the URL (or file_id) the
	// bot passed, or "upload:<file name>" for an uploaded file; "" for a
	// text message. Caption is its caption (Text stays empty).
	Photo   string
	Caption string
	// ReplyMarkup is the markup the message carries: the inline keyboard as
	// last edited, or the reply keyboard / removal it was sent with; nil for none.
	ReplyMarkup *ReplyMarkup
	// Edits counts successful editMessageText / editMessageReplyMarkup calls.
	Edits int
	// ReplyTo is the message this one replies to (reply_to_message_id or
	// reply_parameters.message_id); 0 when it is no reply, or when the
	// message replied to was not found and the bot allowed sending without
	// the reply.
	ReplyTo int
}

// chat is one private chat (its user) or group (see AddGroup) and the
// bot's messages in it.
type chat struct {
	user      User
	group     *group // nil for a private chat
	nextMsgID int
	blocked   bool
	userMsgs  map[int]bool
	byID      map[int]*Sent
	order     []*Sent
	recent    []*Sent // the messages byID keeps under DiscardMessages, oldest first
	events    []Sent  // a snapshot per send and per edit
	keyboard  *ReplyMarkup
}

func (s *Server) chatLocked(userID int64) *chat {
	c := s.chats[userID]
	if c == nil {
		c = &chat{
			user:     User{ID: userID, FirstName: "User", Username: fmt.Sprintf("user%d", userID), LanguageCode: "ru"},
			userMsgs: map[int]bool{},
			byID:     map[int]*Sent{},
		}
		s.chats[userID] = c
	}
	return c
}

// json renders a bot message of chat c as the Message object Telegram
// returns (only an inline keyboard is part of a message).
func (m *Sent) json(c *chat) map[string]any {
	out := map[string]any{
		"message_id": m.MessageID, "from": botUser(), "chat": c.chatJSON(), "date": time.Now().Unix(),
	}
	if m.ReplyTo > 0 {
		if r := c.messageJSON(m.ReplyTo); r != nil {
			out["reply_to_message"] = r
		}
	}
	if m.Photo != "" {
		out["photo"] = []map[string]any{{"file_id": "photo-" + strconv.Itoa(m.MessageID),
			"file_unique_id": "uniq-" + strconv.Itoa(m.MessageID), "width": 800, "height": 600}}
		if m.Caption != "" {
			out["caption"] = m.Caption
		}
	} else {
		out["text"] = m.Text
	}
	if m.ReplyMarkup.IsInline() {
		out["reply_markup"] = map[string]any{"inline_keyboard": m.ReplyMarkup.InlineKeyboard}
	}
	if m.Edits > 0 {
		out["edit_date"] = time.Now().Unix()
	}
	return out
}

func (m *Sent) clone() Sent {
	c := *m
	if m.ReplyMarkup != nil {
		mk := *m.ReplyMarkup
		c.ReplyMarkup = &mk
	}
	return c
}

// Messages returns what the bot sent to the user's chat, oldest first, with
// edits applied.
func (s *Server) Messages(userID int64) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[userID]
	if c == nil {
		return nil
	}
	out := make([]Sent, len(c.order))
	for i, m := range c.order {
		out[i] = m.clone()
	}
	return out
}

// Events returns what the user saw arrive, in order: a snapshot of the bot's
// message after every sendMessage and every editMessageText. An edit of the
// markup alone (editMessageReplyMarkup) is no new event: it updates the
// message's latest snapshot.
func (s *Server) Events(userID int64) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[userID]
	if c == nil {
		return nil
	}
	return append([]Sent(nil), c.events...)
}

// ReplyKeyboard is the reply keyboard the user currently sees (nil when none
// or removed).
func (s *Server) ReplyKeyboard(userID int64) *ReplyMarkup {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[userID]; c != nil && c.keyboard != nil {
		k := *c.keyboard
		return &k
	}
	return nil
}

// addEvent records a send or text edit, or amends the message's latest
// snapshot after a markup-only edit.
func (c *chat) addEvent(m *Sent, isNew bool) {
	if !isNew {
		for i := len(c.events) - 1; i >= 0; i-- {
			if c.events[i].MessageID == m.MessageID {
				c.events[i] = m.clone()
				return
			}
		}
	}
	c.events = append(c.events, m.clone())
}

// WaitMessages waits until the bot has sent at least n messages to the user
// and returns them all; it fails the test after timeout. Call it from the
// test's goroutine.
func (s *Server) WaitMessages(userID int64, n int, timeout time.Duration) []Sent {
	s.t.Helper()
	return s.waitFor(s.t, timeout, func() ([]Sent, bool) {
		msgs := s.Messages(userID)
		return msgs, len(msgs) >= n
	}, fmt.Sprintf("%d messages to user %d", n, userID))
}

// WaitEvents waits until the user's chat has at least n events (sends and
// edits, see Events) and returns them all; it fails the test after timeout.
func (s *Server) WaitEvents(userID int64, n int, timeout time.Duration) []Sent {
	s.t.Helper()
	return s.waitFor(s.t, timeout, func() ([]Sent, bool) {
		ev := s.Events(userID)
		return ev, len(ev) >= n
	}, fmt.Sprintf("%d events in chat %d", n, userID))
}

// WaitCalls waits until method was called at least n times; it fails the
// test after timeout.
func (s *Server) WaitCalls(method string, n int, timeout time.Duration) {
	s.t.Helper()
	s.waitFor(s.t, timeout, func() ([]Sent, bool) { return nil, s.Calls(method) >= n },
		fmt.Sprintf("%d calls of %s", n, method))
}

// WaitFor waits until done reports true (checked whenever the fake's
// messages change) and returns what it returned, or fails t after timeout
// naming what it waited for.
func (s *Server) WaitFor(t Owner, timeout time.Duration, done func() ([]Sent, bool), what string) []Sent {
	t.Helper()
	return s.waitFor(t, timeout, done, what)
}

func (s *Server) waitFor(t Owner, timeout time.Duration, done func() ([]Sent, bool), what string) []Sent {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if out, ok := done(); ok {
			return out
		}
		select {
		case <-ch:
		case <-timer.C:
			got, _ := done()
			t.Fatalf("telegramtest: timed out after %s waiting for %s; have %d", timeout, what, len(got))
			return nil
		}
	}
}

// apiError is a Bot API error answer.
type apiError struct {
	code int
	desc string
}

// Error implements error.
func (e *apiError) Error() string { return e.desc }

func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

func writeAPIError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = badRequest(err.Error())
	}
	writeError(w, ae.code, ae.desc, 0)
}

// targetLocked resolves chat_id to a known, reachable chat.
func (s *Server) targetLocked(p params) (*chat, error) {
	id, ok, err := p.int64("chat_id")
	if err != nil || !ok {
		return nil, badRequest("chat not found")
	}
	c := s.chats[id]
	switch {
	case c == nil:
		return nil, badRequest("chat not found")
	case c.blocked && c.group != nil:
		return nil, &apiError{code: http.StatusForbidden, desc: "Forbidden: bot was kicked from the supergroup chat"}
	case c.blocked:
		return nil, &apiError{code: http.StatusForbidden, desc: "Forbidden: bot was blocked by the user"}
	}
	return c, nil
}

func checkText(text, parseMode string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return badRequest("message text is empty")
	case TextLen(text) > MaxTextLen:
		return badRequest("message is too long")
	}
	switch parseMode {
	case "", "MarkdownV2", "Markdown", "HTML":
		return nil
	}
	return badRequest("unsupported parse_mode")
}

func (s *Server) sendMessage(w http.ResponseWriter, _ *http.Request, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseLocked(w, p) {
		return
	}
	m, c, err := s.newMessageLocked(p)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeOK(w, m.json(c))
}

func (s *Server) newMessageLocked(p params) (*Sent, *chat, error) {
	c, err := s.targetLocked(p)
	if err != nil {
		return nil, nil, err
	}
	if err := checkText(p["text"], p["parse_mode"]); err != nil {
		return nil, nil, err
	}
	markup, err := readMarkup(p)
	if err != nil {
		return nil, nil, badRequest(err.Error())
	}
	replyTo, err := c.replyTarget(p)
	if err != nil {
		return nil, nil, err
	}
	return s.storeLocked(c, &Sent{Text: p["text"], ParseMode: p["parse_mode"], ReplyMarkup: markup, ReplyTo: replyTo}), c, nil
}

// keptWhenDiscarding is how many of a chat's newest messages the server
// keeps under DiscardMessages, so that the bot can still edit them and a
// user press their buttons.
const keptWhenDiscarding = 4

// keepRecent keeps m among the chat's newest messages and forgets the one
// it pushes out (DiscardMessages).
func (c *chat) keepRecent(m *Sent) {
	if len(c.recent) == keptWhenDiscarding {
		delete(c.byID, c.recent[0].MessageID)
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, m)
}

// storeLocked gives m the chat's next message id and records it as sent.
func (s *Server) storeLocked(c *chat, m *Sent) *Sent {
	markup := m.ReplyMarkup
	c.nextMsgID++
	m.MessageID = c.nextMsgID
	c.byID[m.MessageID] = m
	if !s.discard {
		c.order = append(c.order, m)
		c.addEvent(m, true)
	} else {
		c.keepRecent(m)
	}
	if s.onSend != nil {
		s.onSend(c.user.ID, *m)
	}
	switch {
	case markup == nil || markup.IsInline():
	case markup.RemoveKeyboard:
		c.keyboard = nil
	case markup.Keyboard != nil:
		k := *markup
		c.keyboard = &k
	}
	s.notifyLocked()
	return m
}

func (s *Server) editMessageText(w http.ResponseWriter, _ *http.Request, p params) {
	s.edit(w, p, true)
}

func (s *Server) editMessageReplyMarkup(w http.ResponseWriter, _ *http.Request, p params) {
	s.edit(w, p, false)
}

// edit serves editMessageText (withText) and editMessageReplyMarkup.
func (s *Server) edit(w http.ResponseWriter, p params, withText bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, err := s.editTargetLocked(p)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	text := m.Text
	if withText && m.Photo != "" {
		writeAPIError(w, badRequest("there is no text in the message to edit"))
		return
	}
	if withText {
		text = p["text"]
		if err := checkText(text, p["parse_mode"]); err != nil {
			writeAPIError(w, err)
			return
		}
	}
	markup, err := readMarkup(p)
	if err == nil && markup != nil && !markup.IsInline() {
		err = errors.New("inline keyboard expected")
	}
	if err != nil {
		writeAPIError(w, badRequest(err.Error()))
		return
	}
	if text == m.Text && sameInline(markup, m.ReplyMarkup) {
		writeAPIError(w, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"))
		return
	}
	m.Text, m.ReplyMarkup = text, markup
	if withText {
		m.ParseMode = p["parse_mode"]
	}
	m.Edits++
	if !s.discard {
		c.addEvent(m, withText)
	}
	if s.onEdit != nil {
		method := "editMessageReplyMarkup"
		if withText {
			method = "editMessageText"
		}
		s.onEdit(c.user.ID, method, m.clone())
	}
	s.notifyLocked()
	writeOK(w, m.json(c))
}

func (s *Server) editTargetLocked(p params) (*chat, *Sent, error) {
	if p["inline_message_id"] != "" {
		return nil, nil, badRequest("MESSAGE_ID_INVALID")
	}
	c, err := s.targetLocked(p)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.Atoi(p["message_id"])
	if err != nil {
		return nil, nil, badRequest("message identifier is not specified")
	}
	m := c.byID[id]
	switch {
	case c.userMsgs[id]:
		return nil, nil, badRequest("message can't be edited")
	case m == nil:
		return nil, nil, badRequest("message to edit not found")
	}
	return c, m, nil
}

// sameInline compares the inline keyboards of two markups (none equals none).
func sameInline(a, b *ReplyMarkup) bool {
	var ka, kb [][]InlineButton
	if a.IsInline() {
		ka = a.InlineKeyboard
	}
	if b.IsInline() {
		kb = b.InlineKeyboard
	}
	if len(ka) == 0 && len(kb) == 0 {
		return true
	}
	return reflect.DeepEqual(ka, kb)
}
