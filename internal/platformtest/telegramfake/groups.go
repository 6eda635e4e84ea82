package telegramfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// group is what a group chat has besides a private chat's fields.
type group struct {
	title string
	// posts are the members' messages as Telegram renders them, by id, so
	// a reply to one carries it as reply_to_message.
	posts map[int]map[string]any
}

// AddGroup makes a supergroup the bot is a member of (chatID must be
// negative, as Telegram's group ids are), so the bot can post there and
// its members' messages reach the bot (see SendGroupText). Adding a group
// again only renames it.
func (s *Server) AddGroup(chatID int64, title string) {
	if chatID >= 0 {
		panic(fmt.Sprintf("telegramfake: group id %d must be negative", chatID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil && c.group != nil {
		c.group.title = title
		return
	}
	s.chats[chatID] = &chat{
		user:     User{ID: chatID},
		group:    &group{title: title, posts: map[int]map[string]any{}},
		userMsgs: map[int]bool{},
		byID:     map[int]*Sent{},
	}
}

// SetPrivacyMode turns the bot's group privacy mode on or off (@BotFather's
// /setprivacy; on by default, as on Telegram). With it on, a group member's
// message reaches the bot only when it is a command or a reply to one of
// the bot's messages.
func (s *Server) SetPrivacyMode(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privacyOff = !on
}

// KickBot removes the bot from the group: posting there then fails with 403
// "Forbidden: bot was kicked from the supergroup chat".
func (s *Server) KickBot(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil && c.group != nil {
		c.blocked = true
	}
	s.notifyLocked()
}

// SendGroupText posts text from user in group chatID (made with AddGroup),
// as a reply to message replyTo of the group when it is > 0 (the bot's
// message or a member's), and returns the update id; 0 when privacy mode
// keeps the message from the bot (it is still the group's message, so a
// later reply to it carries it). The message id is the update's
// message.message_id (see GroupMessageID).
func (s *Server) SendGroupText(chatID int64, from User, text string, replyTo int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || c.group == nil {
		panic(fmt.Sprintf("telegramfake: no group %d: call AddGroup first", chatID))
	}
	c.nextMsgID++
	msg := map[string]any{
		"message_id": c.nextMsgID, "from": from.json(), "chat": c.chatJSON(), "date": time.Now().Unix(), "text": text,
	}
	if e := commandEntity(text); e != nil {
		msg["entities"] = e["entities"]
	}
	toBot := false
	if replyTo > 0 {
		if r := c.messageJSON(replyTo); r != nil {
			msg["reply_to_message"] = r
			toBot = c.byID[replyTo] != nil
		}
	}
	c.userMsgs[c.nextMsgID] = true
	c.group.posts[c.nextMsgID] = msg
	if !s.privacyOff && !toBot && !strings.HasPrefix(text, "/") {
		s.notifyLocked()
		return 0
	}
	return s.queueLocked(map[string]any{"message": msg})
}

// GroupMessageID is the message id of the group message that update
// updateID carries (0 when unknown), for replying to it.
func (s *Server) GroupMessageID(updateID int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var u struct {
		Message struct {
			MessageID int `json:"message_id"`
		} `json:"message"`
	}
	if raw := s.all[updateID]; raw != nil && json.Unmarshal(raw, &u) == nil {
		return u.Message.MessageID
	}
	return 0
}

// chatJSON renders the chat as a Message's chat field.
func (c *chat) chatJSON() map[string]any {
	if c.group == nil {
		return c.user.chatJSON()
	}
	return map[string]any{"id": c.user.ID, "type": "supergroup", "title": c.group.title}
}

// messageJSON renders message id of the chat (the bot's or a group
// member's) without its own reply, as reply_to_message carries it; nil
// when the chat has no such message.
func (c *chat) messageJSON(id int) map[string]any {
	if m := c.byID[id]; m != nil {
		out := m.json(&chat{user: c.user, group: c.group})
		delete(out, "reply_to_message")
		return out
	}
	if c.group == nil {
		return nil
	}
	if p := c.group.posts[id]; p != nil {
		out := make(map[string]any, len(p))
		for k, v := range p {
			if k != "reply_to_message" {
				out[k] = v
			}
		}
		return out
	}
	return nil
}

// replyTarget reads the message a send replies to (reply_to_message_id,
// or reply_parameters of newer Bot API versions): 0 for none. A message
// the chat does not have fails the send with 400 "message to be replied
// not found" unless allow_sending_without_reply is set, which sends it as
// no reply.
func (c *chat) replyTarget(p params) (int, error) {
	raw, allow := p["reply_to_message_id"], p["allow_sending_without_reply"] == "true"
	if rp := p["reply_parameters"]; rp != "" {
		var v struct {
			MessageID int  `json:"message_id"`
			Allow     bool `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(rp), &v); err != nil {
			return 0, badRequest("can't parse reply parameters JSON object")
		}
		raw, allow = strconv.Itoa(v.MessageID), v.Allow
	}
	if raw == "" || raw == "0" {
		return 0, nil
	}
	id, err := strconv.Atoi(raw)
	if err != nil {
		return 0, badRequest("message to be replied not found")
	}
	if c.byID[id] != nil || c.userMsgs[id] {
		return id, nil
	}
	if allow {
		return 0, nil
	}
	return 0, badRequest("message to be replied not found")
}
