package remind

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// entry is a reminder in the fake queue.
type entry struct {
	r     dialog.Reminder
	at    time.Time // due, or the claim's end while claimed
	lease bool
}

// queue is an in-memory Queue with the Redis queue's rules: one entry per
// chat, claims lease, finish and retry only the entry claimed.
type queue struct {
	mu      sync.Mutex
	entries map[messenger.ChatKey]*entry
	// claimErr, when set, fails every claim.
	claimErr error
}

func newQueue(rs ...dialog.Reminder) *queue {
	q := &queue{entries: map[messenger.ChatKey]*entry{}}
	for _, r := range rs {
		q.entries[r.Chat] = &entry{r: r, at: r.Due}
	}
	return q
}

func (q *queue) ClaimReminders(_ context.Context, now time.Time, lease time.Duration, n int) ([]dialog.Reminder, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.claimErr != nil {
		return nil, q.claimErr
	}
	var due []*entry
	for _, e := range q.entries {
		if !e.at.After(now) {
			due = append(due, e)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	var out []dialog.Reminder
	for _, e := range due[:min(n, len(due))] {
		e.at, e.lease = now.Add(lease), true
		out = append(out, e.r)
	}
	return out, nil
}

func (q *queue) FinishReminder(_ context.Context, r dialog.Reminder) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.entries[r.Chat]; e != nil && e.r == r {
		delete(q.entries, r.Chat)
	}
	return nil
}

func (q *queue) RetryReminder(_ context.Context, r dialog.Reminder, attempts int, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.entries[r.Chat]; e != nil && e.r == r {
		e.r.Attempts, e.at, e.lease = attempts, at, false
	}
	return nil
}

// get returns the chat's entry (a copy) and whether there is one.
func (q *queue) get(chat messenger.ChatKey) (entry, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.entries[chat]
	if e == nil {
		return entry{}, false
	}
	return *e, true
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

// clients is a Clients of fixed records.
type clients struct {
	mu  sync.Mutex
	m   map[messenger.ChatKey]*crm.Client
	err error
}

func (c *clients) GetClient(_ context.Context, key messenger.ChatKey) (*crm.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if cl := c.m[key]; cl != nil {
		cp := *cl
		return &cp, nil
	}
	return nil, nil
}

// sender records the reminders it is given and answers with errs (per
// chat, one per call, then nil) or the outcome out.
type sender struct {
	mu    sync.Mutex
	sent  []dialog.Reminder
	errs  map[messenger.ChatKey][]error
	out   dialog.RemindOutcome
	block chan struct{} // when set, each send waits for it (or ctx)
	// entered, when set, gets the chat of each send as it begins.
	entered chan messenger.ChatKey
}

func (s *sender) Remind(ctx context.Context, r dialog.Reminder) (dialog.RemindOutcome, error) {
	if s.entered != nil {
		s.entered <- r.Chat
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if errs := s.errs[r.Chat]; len(errs) > 0 {
		s.errs[r.Chat] = errs[1:]
		return 0, errs[0]
	}
	s.sent = append(s.sent, r)
	return s.out, nil
}

func (s *sender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// quiet is a QuietHours that holds every time before until.
type quiet struct{ until time.Time }

func (q quiet) QuietUntil(_ string, now time.Time) time.Time {
	if now.Before(q.until) {
		return q.until
	}
	return time.Time{}
}

var errDown = errors.New("store down")
