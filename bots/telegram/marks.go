package telegram

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"

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

// markTracker notes which messages with a pressed button the engine edited
// while the press was being handled, so the adapter marks the chosen option
// only on the others.
type markTracker struct {
	mu      sync.Mutex
	pending map[msgKey]*markState
}

type markState struct {
	refs   int
	edited bool
}

func newMarkTracker() *markTracker {
	return &markTracker{pending: map[msgKey]*markState{}}
}

// begin starts watching the message of a press about to be handled.
func (t *markTracker) begin(k msgKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.pending[k]
	if st == nil {
		st = &markState{}
		t.pending[k] = st
	}
	st.refs++
}

// noteEdit records that a message was edited; only watched ones are kept.
func (t *markTracker) noteEdit(k msgKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.pending[k]; st != nil {
		st.edited = true
	}
}

// end stops watching k (once per begin) and reports whether the message
// was edited meanwhile.
func (t *markTracker) end(k msgKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.pending[k]
	if st == nil {
		return false
	}
	if st.refs--; st.refs == 0 {
		delete(t.pending, k)
	}
	return st.edited
}

// BeginPress implements messenger.PressMarker: once the press is handled,
// unless the handler's replies edited the pressed message, the message's
// keyboard is set to upd.PressMark (the pressed option marked, see
// prepare), on the side (see markQueue).
func (b *Bot) BeginPress(upd *messenger.Update) (end func(handled bool)) {
	chat, err := strconv.ParseInt(upd.Chat.ID, 10, 64)
	msg, merr := strconv.Atoi(upd.MessageID)
	if upd.Kind != messenger.KindButton || len(upd.PressMark) == 0 || err != nil || merr != nil || msg <= 0 {
		return func(bool) {}
	}
	k := msgKey{chat: chat, msg: msg}
	b.marks.begin(k)
	return func(handled bool) {
		if edited := b.marks.end(k); handled && !edited {
			b.markq.push(k, upd.PressMark)
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

	mu      sync.Mutex
	order   []msgKey                   // messages with a mark waiting, oldest first
	waiting map[msgKey]json.RawMessage // the mark to send, per message
	busy    map[msgKey]bool            // a mark of the message in flight
	running int                        // workers (at most maxSideCalls)
}

func newMarkQueue(send func(msgKey, json.RawMessage), drop func(msgKey)) *markQueue {
	return &markQueue{send: send, drop: drop, waiting: map[msgKey]json.RawMessage{}, busy: map[msgKey]bool{}}
}

// push queues k's mark and starts a worker when one is free.
func (q *markQueue) push(k msgKey, markup json.RawMessage) {
	q.mu.Lock()
	if _, ok := q.waiting[k]; ok {
		q.waiting[k] = markup // the later press's mark is the one to show
	} else if len(q.waiting) >= maxQueuedMarks {
		q.mu.Unlock()
		q.drop(k)
		return
	} else {
		q.waiting[k] = markup
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
		i := slices.IndexFunc(q.order, func(k msgKey) bool { return !q.busy[k] })
		if i < 0 {
			q.running--
			return
		}
		k := q.order[i]
		q.order = slices.Delete(q.order, i, i+1)
		markup := q.waiting[k]
		delete(q.waiting, k)
		q.busy[k] = true
		q.mu.Unlock()
		q.send(k, markup)
		q.mu.Lock()
		delete(q.busy, k)
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
