package telegramfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// User is a Telegram user of the fake server.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

func (u User) json() map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
	addNonEmpty(m, "last_name", u.LastName)
	addNonEmpty(m, "username", u.Username)
	addNonEmpty(m, "language_code", u.LanguageCode)
	return m
}

func (u User) chatJSON() map[string]any {
	m := map[string]any{"id": u.ID, "type": "private", "first_name": u.FirstName}
	addNonEmpty(m, "last_name", u.LastName)
	addNonEmpty(m, "username", u.Username)
	return m
}

func addNonEmpty(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

// SetUser sets the profile a user's updates carry (default: first name
// "User", username "user<id>", language "ru") and makes the user known, as
// if they had started the bot.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(u.ID).user = u
}

// AddUser makes a user known (as if they had started the bot), so the bot
// can message them; sending to an unknown chat fails with "chat not found".
func (s *Server) AddUser(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(userID)
}

// SendText queues a text message from the user and returns its update id.
func (s *Server) SendText(userID int64, text string) int {
	return s.userMessage(userID, map[string]any{"text": text}, commandEntity(text))
}

func commandEntity(text string) map[string]any {
	if len(text) < 2 || text[0] != '/' {
		return nil
	}
	n := len(text)
	for i, r := range text {
		if r == ' ' || r == '\n' {
			n = i
			break
		}
	}
	return map[string]any{"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": TextLen(text[:n])}}}
}

// ShareContact queues a shared contact card (the request_contact button);
// ownerID is contact.user_id (0 leaves it out, as for a foreign contact).
func (s *Server) ShareContact(userID int64, phone string, ownerID int64) int {
	s.mu.Lock()
	first := s.chatLocked(userID).user.FirstName
	s.mu.Unlock()
	contact := map[string]any{"phone_number": phone, "first_name": first}
	if ownerID != 0 {
		contact["user_id"] = ownerID
	}
	return s.userMessage(userID, map[string]any{"contact": contact}, nil)
}

// SendSticker queues a sticker from the user.
func (s *Server) SendSticker(userID int64) int {
	sticker := map[string]any{
		"file_id": "CAACAgIAAxkBAAIBY2Zfake", "file_unique_id": "AgADfake", "type": "regular",
		"width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍",
	}
	return s.userMessage(userID, map[string]any{"sticker": sticker}, nil)
}

// userMessage queues a message update in the user's private chat.
func (s *Server) userMessage(userID int64, fields, extra map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(userID)
	c.nextMsgID++
	msg := map[string]any{
		"message_id": c.nextMsgID, "from": c.user.json(), "chat": c.user.chatJSON(), "date": time.Now().Unix(),
	}
	for k, v := range fields {
		msg[k] = v
	}
	for k, v := range extra {
		msg[k] = v
	}
	c.userMsgs[c.nextMsgID] = true
	return s.queueLocked(map[string]any{"message": msg})
}

// PressButton queues the callback query of pressing the inline button with
// callback data on the bot's message messageID.
func (s *Server) PressButton(userID int64, messageID int, data string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(userID)
	msg := map[string]any{"message_id": messageID, "chat": c.user.chatJSON(), "date": time.Now().Unix()}
	if m := c.byID[messageID]; m != nil {
		msg = m.json(c)
	}
	id := fmt.Sprintf("%d%s", userID, randomHex(6))
	s.callbacks[id] = &callback{userID: userID}
	update := s.queueLocked(map[string]any{"callback_query": map[string]any{
		"id": id, "from": c.user.json(), "message": msg, "chat_instance": fmt.Sprintf("-%d", userID), "data": data,
	}})
	if !s.discard {
		s.cbByUpdate[update] = id
	}
	return update
}

// Block queues the my_chat_member update of the user blocking the bot; from
// then on sending to the user fails with 403.
func (s *Server) Block(userID int64) int { return s.memberUpdate(userID, "member", "kicked", true) }

// Unblock queues the my_chat_member update of the user unblocking the bot
// (restarting it) and lets the bot message the user again.
func (s *Server) Unblock(userID int64) int { return s.memberUpdate(userID, "kicked", "member", false) }

func (s *Server) memberUpdate(userID int64, from, to string, blocked bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(userID)
	c.blocked = blocked
	member := func(status string) map[string]any {
		m := map[string]any{"user": botUser(), "status": status}
		if status == "kicked" {
			m["until_date"] = 0
		}
		return m
	}
	return s.queueLocked(map[string]any{"my_chat_member": map[string]any{
		"chat": c.user.chatJSON(), "from": c.user.json(), "date": time.Now().Unix(),
		"old_chat_member": member(from), "new_chat_member": member(to),
	}})
}

// SetBlocked makes sending to the user fail with 403 "Forbidden: bot was
// blocked by the user" without queueing an update.
func (s *Server) SetBlocked(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(userID).blocked = true
	s.notifyLocked()
}

// Inject queues an arbitrary update (its update_id is assigned) and returns
// its id: group messages, channel posts, edited messages...
func (s *Server) Inject(update map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queueLocked(update)
}

// Update returns the JSON of an update queued earlier (nil when unknown), for
// posting it to a webhook with PostWebhook.
func (s *Server) Update(updateID int) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all[updateID]
}

// PollOverlaps returns when getUpdates calls arrived while another was in
// progress: two pollers of one bot at once, which Telegram answers with
// 409 Conflict.
func (s *Server) PollOverlaps() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.overlaps...)
}

// Pending returns the ids of the updates not yet confirmed by getUpdates.
func (s *Server) Pending() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, len(s.updates))
	for i, u := range s.updates {
		ids[i] = u.id
	}
	return ids
}

// CallbackAnswered reports whether the callback query of the update that
// PressButton returned was answered, and with what text.
func (s *Server) CallbackAnswered(updateID int) (answered bool, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[s.cbByUpdate[updateID]]
	if cb == nil {
		return false, ""
	}
	return cb.answered, cb.text
}

func (s *Server) queueLocked(update map[string]any) int {
	id := s.nextUpdate
	s.nextUpdate++
	delete(update, "update_id")
	body, err := json.Marshal(update)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal update: %v", err))
	}
	// update_id first, as Telegram writes it.
	raw := fmt.Appendf(nil, `{"update_id":%d`, id)
	if len(body) > 2 {
		raw = append(append(raw, ','), body[1:]...)
	} else {
		raw = append(raw, '}')
	}
	if s.delivery != nil {
		s.delivery.queue <- queued{id: id, raw: raw}
	} else {
		s.updates = append(s.updates, queued{id: id, raw: raw})
	}
	if !s.discard {
		s.all[id] = raw
	}
	s.notifyLocked()
	return id
}

// beginPoll records getUpdates call r as in progress, and an overlap when
// another call is in progress whose client is still connected: a poll whose
// client went away (a process killed or a request cancelled) may still be
// counted here until its handler sees it, and Telegram would end it with a
// 409 for the newer one in any case.
func (s *Server) beginPoll(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.polling == nil {
		s.polling = make(map[*http.Request]struct{})
	}
	for other := range s.polling {
		if other.Context().Err() == nil {
			s.overlaps = append(s.overlaps, time.Now())
			break
		}
	}
	s.polling[r] = struct{}{}
}

// getUpdates serves long polling: updates with id ≥ offset, at most limit,
// waiting up to timeout seconds for the first one. An offset confirms (and
// forgets) every update below it; a negative offset keeps the last -offset.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p params) {
	offset, err1 := p.int("offset", 0)
	limit, err2 := p.int("limit", 100)
	timeout, err3 := p.int("timeout", 0)
	if err := firstErr(err1, err2, err3); err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	limit = min(max(limit, 1), 100)
	s.beginPoll(r)
	defer func() {
		s.mu.Lock()
		delete(s.polling, r)
		s.mu.Unlock()
	}()
	timer := time.NewTimer(time.Duration(max(timeout, 0)) * time.Second)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.webhook.URL != "" {
			s.mu.Unlock()
			writeError(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", 0)
			return
		}
		ups := s.takeLocked(offset, limit)
		ch := s.changed
		onPoll := s.onPoll
		var ids []int
		if onPoll != nil {
			for _, u := range s.updates[:len(ups)] {
				ids = append(ids, u.id)
			}
		}
		s.mu.Unlock()
		if len(ups) > 0 || timeout <= 0 || !s.wait(r.Context(), ch, timer.C) {
			if r.Context().Err() == nil {
				writeUpdates(w, ups)
				if len(ids) > 0 {
					onPoll(ids)
				}
			}
			return
		}
	}
}

// writeUpdates answers getUpdates with the stored JSON of ups as it is:
// encoding the raw messages through encoding/json would validate and compact
// every one again, which load tests pay for on every poll.
func writeUpdates(w http.ResponseWriter, ups []json.RawMessage) {
	n := len(`{"ok":true,"result":[]}`) + 1
	for _, u := range ups {
		n += len(u) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, `{"ok":true,"result":[`...)
	for i, u := range ups {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, u...)
	}
	buf = append(buf, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

// takeLocked confirms the updates below offset and returns the next ones.
func (s *Server) takeLocked(offset, limit int) []json.RawMessage {
	switch {
	case offset < 0 && -offset < len(s.updates):
		s.updates = s.updates[len(s.updates)+offset:]
	case offset > 0:
		i := 0
		for i < len(s.updates) && s.updates[i].id < offset {
			i++
		}
		s.updates = s.updates[i:]
	}
	out := []json.RawMessage{}
	for _, u := range s.updates {
		if len(out) == limit {
			break
		}
		out = append(out, u.raw)
	}
	return out
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) answerCallbackQuery(w http.ResponseWriter, _ *http.Request, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[p["callback_query_id"]]
	if cb == nil || cb.answered {
		writeError(w, http.StatusBadRequest, "Bad Request: query is too old and response timeout expired or query ID is invalid", 0)
		return
	}
	cb.answered, cb.text = true, p["text"]
	if s.discard {
		delete(s.callbacks, p["callback_query_id"]) // answering it again fails all the same
	}
	s.notifyLocked()
	writeOK(w, true)
}
