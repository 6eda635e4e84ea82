package telegram

import "sync"

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

// begin starts watching the messages of presses about to be delivered.
func (t *markTracker) begin(keys []msgKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		st := t.pending[k]
		if st == nil {
			st = &markState{}
			t.pending[k] = st
		}
		st.refs++
	}
}

// noteEdit records that a message was edited; only watched ones are kept.
func (t *markTracker) noteEdit(k msgKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.pending[k]; st != nil {
		st.edited = true
	}
}

// end stops watching and reports, per key, whether the message was edited.
func (t *markTracker) end(keys []msgKey) []bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	edited := make([]bool, len(keys))
	for i, k := range keys {
		st := t.pending[k]
		if st == nil {
			continue
		}
		edited[i] = st.edited
		if st.refs--; st.refs == 0 {
			delete(t.pending, k)
		}
	}
	return edited
}
