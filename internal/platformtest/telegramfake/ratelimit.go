package telegramfake

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// rateLimit enforces, when set, Telegram's flood limits on sendMessage: at
// most perBot messages in any one-second window and one message per chat
// per second; a send over either gets 429 with parameters.retry_after.
type rateLimit struct {
	perBot   int // 0: off
	perChat  time.Duration
	retry    int // retry_after seconds
	sends    []time.Time
	lastChat map[int64]time.Time
	refused  int
	accepted []time.Time
}

// SetRateLimit makes sendMessage answer 429 Too Many Requests (with
// retry_after seconds) to a message that would be the (perBot+1)-th within
// one second, or a second message to one chat within perChat (0: no chat
// limit). perBot 0 lifts both limits (the default).
func (s *Server) SetRateLimit(perBot int, perChat time.Duration, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = rateLimit{perBot: perBot, perChat: perChat, retry: max(retryAfter, 1), lastChat: map[int64]time.Time{}}
}

// refuseLocked answers 429 and reports true when the send p asks for would
// break the rate limit; sendMessage and sendPhoto count against it alike.
func (s *Server) refuseLocked(w http.ResponseWriter, p params) bool {
	chat, _, _ := p.int64("chat_id")
	if s.rate.admitLocked(chat, time.Now()) {
		return false
	}
	writeTooMany(w, s.rate.retry)
	return true
}

// admitLocked reports whether a message to chat may go out now.
func (r *rateLimit) admitLocked(chat int64, now time.Time) bool {
	if r.perBot <= 0 {
		return true
	}
	cut := now.Add(-time.Second)
	i := sort.Search(len(r.sends), func(i int) bool { return r.sends[i].After(cut) })
	r.sends = r.sends[i:]
	if len(r.sends) >= r.perBot {
		r.refused++
		return false
	}
	if last, ok := r.lastChat[chat]; ok && r.perChat > 0 && now.Sub(last) < r.perChat {
		r.refused++
		return false
	}
	r.sends = append(r.sends, now)
	r.lastChat[chat] = now
	r.accepted = append(r.accepted, now)
	return true
}

// TooManyRequests is how many sends the rate limit refused with 429.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate.refused
}

// Accepted returns when each message the rate limit let through arrived.
func (s *Server) Accepted() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.rate.accepted...)
}

// writeTooMany answers 429 as Telegram does.
func writeTooMany(w http.ResponseWriter, retry int) {
	writeError(w, http.StatusTooManyRequests, "Too Many Requests: retry after "+strconv.Itoa(retry), retry)
}
