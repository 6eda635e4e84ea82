package vktest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxBatch is the most events one long-poll answer carries.
const maxBatch = 100

// longPoll is the Bots Long Poll state: every pushed event in order, the
// current key and the failures to inject.
type longPoll struct {
	events  []Event
	key     string
	keySeq  int
	failing []int
	polls   []Poll
}

// Poll is one long-poll request as the server saw it.
type Poll struct {
	Key string
	TS  string
	// Failed is the failure it was answered with (0 for none or not yet).
	Failed int
}

// FailLongPoll makes the next long-poll request answer {"failed":failed}:
// 1 answers the current ts (events before it are skipped, like VK's expired
// history), 2 expires the key, 3 expires the key and the ts.
func (s *Server) FailLongPoll(failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lp.failing = append(s.lp.failing, failed)
	s.notifyLocked()
}

// Polls returns every long-poll request made so far.
func (s *Server) Polls() []Poll {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Poll(nil), s.lp.polls...)
}

// WaitPollAfterFailure waits until a long poll arrived after one that was
// answered with a failure; it reports whether that happened within timeout.
func (s *Server) WaitPollAfterFailure(timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool {
		for i, p := range s.lp.polls {
			if p.Failed != 0 && i < len(s.lp.polls)-1 {
				return true
			}
		}
		return false
	})
}

// TS is the long-poll position after the last pushed event.
func (s *Server) TS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.Itoa(len(s.lp.events))
}

// groupsGetLongPollServer serves groups.getLongPollServer: the server URL
// points back at the fake; ts is the position after the last event.
func (s *Server) groupsGetLongPollServer(p url.Values) (any, *apiError) {
	if p.Get("group_id") != strconv.Itoa(s.groupID) {
		return nil, paramError("group_id is invalid")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]string{
		"key": s.lp.key, "server": s.srv.URL + "/lp", "ts": strconv.Itoa(len(s.lp.events)),
	}, nil
}

// rotateKeyLocked expires the current key.
func (s *Server) rotateKeyLocked() {
	s.lp.keySeq++
	s.lp.key = fmt.Sprintf("lpkey-%d", s.lp.keySeq+1)
}

func (s *Server) serveLongPoll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("act") != "a_check" {
		writeJSON(w, map[string]any{"failed": 4})
		return
	}
	wait, _ := strconv.Atoi(q.Get("wait"))
	wait = min(max(wait, 0), 90)
	s.mu.Lock()
	s.calls["a_check"]++
	s.lp.polls = append(s.lp.polls, Poll{Key: q.Get("key"), TS: q.Get("ts")})
	idx := len(s.lp.polls) - 1
	s.notifyLocked()
	s.mu.Unlock()
	deadline := time.NewTimer(time.Duration(wait) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		answer, ch := s.pollLocked(idx, q.Get("key"), q.Get("ts")), s.changed
		s.mu.Unlock()
		if answer != nil {
			writeJSON(w, answer)
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			writeJSON(w, map[string]any{"ts": q.Get("ts"), "updates": []Event{}})
			return
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// pollLocked answers a long poll, or nil when there is nothing to say yet.
func (s *Server) pollLocked(idx int, key, rawTS string) any {
	if len(s.lp.failing) > 0 {
		failed := s.lp.failing[0]
		s.lp.failing = s.lp.failing[1:]
		s.lp.polls[idx].Failed = failed
		s.notifyLocked()
		if failed == 1 {
			return map[string]any{"failed": 1, "ts": strconv.Itoa(len(s.lp.events))}
		}
		s.rotateKeyLocked()
		return map[string]any{"failed": failed}
	}
	if key != s.lp.key {
		return map[string]any{"failed": 2}
	}
	ts, err := strconv.Atoi(rawTS)
	if err != nil || ts < 0 || ts > len(s.lp.events) {
		return map[string]any{"failed": 1, "ts": strconv.Itoa(len(s.lp.events))}
	}
	if ts == len(s.lp.events) {
		return nil
	}
	end := min(len(s.lp.events), ts+maxBatch)
	return map[string]any{"ts": strconv.Itoa(end), "updates": s.lp.events[ts:end]}
}
