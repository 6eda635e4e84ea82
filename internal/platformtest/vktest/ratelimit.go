package vktest

import (
	"sort"
	"time"
)

// rateLimit is the per-token request budget: a bucket of limit requests
// refilled at limit per second (so at most limit at once, and limit per
// second on average). It also records when each API request arrived.
type rateLimit struct {
	limit    int // requests per second; 0: unlimited
	tokens   float64
	last     time.Time
	arrivals []time.Time
	refused  int
}

// arriveLocked records a request arriving at now and reports whether it is
// over the limit (then VK answers error 6 and does nothing).
func (r *rateLimit) arriveLocked(now time.Time) bool {
	r.arrivals = append(r.arrivals, now)
	if r.limit <= 0 {
		return false
	}
	if r.last.IsZero() {
		r.tokens = float64(r.limit)
	} else {
		r.tokens = min(float64(r.limit), r.tokens+now.Sub(r.last).Seconds()*float64(r.limit))
	}
	r.last = now
	if r.tokens < 1 {
		r.refused++
		return true
	}
	r.tokens--
	return false
}

// SetRateLimit sets how many API requests per second the token may make
// (default DefaultRateLimit); 0 or less lifts the limit. The bucket starts
// full.
func (s *Server) SetRateLimit(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate.limit, s.rate.last = perSecond, time.Time{}
}

// Requests is how many API requests arrived (an execute is one; long polls
// are not API requests), refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rate.arrivals)
}

// RateLimited is how many requests were refused with error 6.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate.refused
}

// MaxRequestsIn is the largest number of API requests that arrived within
// any one window of length d (a sliding window over the arrival times).
func (s *Server) MaxRequestsIn(d time.Duration) int {
	s.mu.Lock()
	times := append([]time.Time(nil), s.rate.arrivals...)
	s.mu.Unlock()
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, from := 0, 0
	for to := range times {
		for times[to].Sub(times[from]) >= d {
			from++
		}
		best = max(best, to-from+1)
	}
	return best
}
