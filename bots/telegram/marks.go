package telegram

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// maxQueuedMarks bounds the marks a Bot keeps waiting for a slot; past it a
// mark is dropped (it is cosmetic) with a debug line.
const maxQueuedMarks = 4096

// msgKey names one message of one chat.
type msgKey struct {
	chat int64
	msg  int
}

// Bounds of the edit log (markTracker): each of its two generations holds
// at most editLogSize messages and spans at most editLogSpan, so an edit is
// remembered at least that long unless editLogSize other messages were
// edited since.
const (
	editLogSize = 10_000
	editLogSpan = time.Hour
)

// markTracker remembers when the engine last edited each message (an
// editMessageText of a question, see Bot.edit), so that a press's mark is
// not shown over an edit made after the press: neither by the attempt
// that handled it, nor by an earlier attempt of the same update, nor by a
// later press's handling while the mark waited. It keeps two generations
// of a bounded size and age.
type markTracker struct {
	mu         sync.Mutex
	cur, prev  map[msgKey]time.Time
	curStarted time.Time
}

func newMarkTracker() *markTracker {
	return &markTracker{cur: map[msgKey]time.Time{}, prev: map[msgKey]time.Time{}}
}

// noteEdit records that message k is edited at now.
func (t *markTracker) noteEdit(k msgKey, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cur) >= editLogSize || now.Sub(t.curStarted) >= editLogSpan {
		t.prev, t.cur, t.curStarted = t.cur, make(map[msgKey]time.Time, len(t.cur)), now
	}
	t.cur[k] = now
}

// editedSince reports whether message k was edited at or after since.
func (t *markTracker) editedSince(k msgKey, since time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.cur[k]
	if !ok {
		at, ok = t.prev[k]
	}
	return ok && !at.Before(since)
}

// BeginPress implements messenger.PressMarker: once the press is handled,
// unless the message was edited since the press (by this attempt or an
// earlier one in this process), the message's keyboard is set to
// upd.PressMark (the pressed option marked, see prepare), on the side (see
// markQueue), and not at all if an edit comes before the mark goes out.
// Edits made by another process (a redelivery handled elsewhere) are not
// seen: the mark may then show over them.
func (b *Bot) BeginPress(upd *messenger.Update) (end func(handled bool)) {
	chat, err := strconv.ParseInt(upd.Chat.ID, 10, 64)
	msg, merr := strconv.Atoi(upd.MessageID)
	if upd.Kind != messenger.KindButton || len(upd.PressMark) == 0 || err != nil || merr != nil || msg <= 0 {
		return func(bool) {}
	}
	k := msgKey{chat: chat, msg: msg}
	// The press's time comes from the process that polled it; the local
	// clock's now covers this attempt's edits whatever the clocks' skew.
	since := b.clock()
	if !upd.Time.IsZero() && upd.Time.Before(since) {
		since = upd.Time
	}
	return func(handled bool) {
		if handled && !b.marks.editedSince(k, since) {
			b.markq.push(k, upd.PressMark, since)
		}
	}
}

var _ messenger.PressMarker = (*Bot)(nil)

// markQueue sends the marks of handled presses, at most maxSideCalls at
// once, off the handlers' path: push only queues. A message's marks go
// out one at a time in the order of its presses, and a mark still waiting
// is replaced by a later press's, so a message's keyboard ends with its
// last press marked and a double press costs one call when it can.
type markQueue struct {
	send func(k msgKey, markup json.RawMessage)
	drop func(k msgKey)
	// stale, when set, reports whether a mark of a press at since is to be
	// skipped (the message was edited since); it is asked once the mark is
	// in flight, so an edit that waits for it (settle) is either seen or
	// sent after it.
	stale func(k msgKey, since time.Time) bool

	mu      sync.Mutex
	order   []msgKey                 // messages with a mark waiting, oldest first
	waiting map[msgKey]pendingMark   // the mark to send, per message
	busy    map[msgKey]chan struct{} // a mark of the message in flight; closed when done
	running int                      // workers (at most maxSideCalls)
	idlers  []chan struct{}          // closed when the last worker ends (drain)
}

// pendingMark is a mark waiting to be sent and when its press was made.
type pendingMark struct {
	markup json.RawMessage
	since  time.Time
}

func newMarkQueue(send func(msgKey, json.RawMessage), drop func(msgKey)) *markQueue {
	return &markQueue{send: send, drop: drop, waiting: map[msgKey]pendingMark{}, busy: map[msgKey]chan struct{}{}}
}

// push queues k's mark of a press made at since and starts a worker when
// one is free.
func (q *markQueue) push(k msgKey, markup json.RawMessage, since time.Time) {
	m := pendingMark{markup: markup, since: since}
	q.mu.Lock()
	if _, ok := q.waiting[k]; ok {
		q.waiting[k] = m // the later press's mark is the one to show
	} else if len(q.waiting) >= maxQueuedMarks {
		q.mu.Unlock()
		q.drop(k)
		return
	} else {
		q.waiting[k] = m
		q.order = append(q.order, k)
	}
	start := q.running < maxSideCalls
	if start {
		q.running++
	}
	q.mu.Unlock()
	if start {
		go q.work()
	}
}

// work sends waiting marks until none is left that is not already in
// flight (the worker sending that one takes the next after it).
func (q *markQueue) work() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		i := slices.IndexFunc(q.order, func(k msgKey) bool { return q.busy[k] == nil })
		if i < 0 {
			// Every waiting mark is in flight, sent by another worker,
			// which takes the next after it: the last worker leaves
			// nothing behind.
			if q.running--; q.running == 0 {
				for _, ch := range q.idlers {
					close(ch)
				}
				q.idlers = nil
			}
			return
		}
		k := q.order[i]
		q.order = slices.Delete(q.order, i, i+1)
		m := q.waiting[k]
		delete(q.waiting, k)
		done := make(chan struct{})
		q.busy[k] = done
		q.mu.Unlock()
		if q.stale == nil || !q.stale(k, m.since) {
			q.send(k, m.markup)
		}
		q.mu.Lock()
		delete(q.busy, k)
		close(done)
	}
}

// settle waits (until ctx ends) for the mark of k in flight, if any, so
// that an edit of the message sent next lands after it. Together with
// stale, asked once a mark is in flight, no mark shows over an edit noted
// (markTracker.noteEdit) before settle.
func (q *markQueue) settle(ctx context.Context, k msgKey) {
	q.mu.Lock()
	done := q.busy[k]
	q.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// drain waits until no mark is waiting or in flight, or ctx ends; it
// returns how many were left then.
func (q *markQueue) drain(ctx context.Context) int {
	q.mu.Lock()
	if q.running == 0 {
		q.mu.Unlock()
		return 0
	}
	done := make(chan struct{})
	q.idlers = append(q.idlers, done)
	q.mu.Unlock()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.waiting) + len(q.busy)
	}
}

// DrainMarks waits, until ctx ends, for the marks of the presses handled so
// far to be sent: the runtime calls it when it stops, after the pipeline
// has drained, so that the last presses are marked before the process
// exits. The marks still waiting when ctx ends are given up (they are
// cosmetic) with a debug line.
func (b *Bot) DrainMarks(ctx context.Context) {
	if left := b.markq.drain(ctx); left > 0 {
		b.log.Debug("stopping: some chosen options were not marked", "marks", left)
	}
}

// idle reports whether no mark is waiting or in flight (for tests).
func (q *markQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting) == 0 && len(q.busy) == 0
}

// mark sets a pressed message's keyboard to markup (JSON), its chosen
// option marked; failures only get a debug line.
func (b *Bot) mark(k msgKey, markup json.RawMessage) {
	ctx, cancel := context.WithTimeout(context.Background(), sideCallTimeout)
	defer cancel()
	if err := b.editReplyMarkupJSON(ctx, k.chat, k.msg, markup); err != nil && !notModified(err) {
		b.log.Debug("marking the chosen option failed", "chat_id", k.chat, "err", err)
	}
}
