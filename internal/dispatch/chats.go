package dispatch

import (
	"sync"

	"github.com/chathub/chathub/internal/messenger"
)

// chatQueue is one chat's updates waiting for a worker, oldest first.
type chatQueue struct {
	key  messenger.ChatKey
	jobs []job
}

// chats holds the chats that have updates waiting or being handled. A chat
// is on the ready list at most once, and never while a worker handles one
// of its updates, so a chat's updates run one at a time in arrival order;
// a worker takes whichever chat is ready next, so a slow or retrying chat
// holds up only itself (a worker per shard of chats held up the whole
// shard).
type chats struct {
	mu    sync.Mutex
	byKey map[messenger.ChatKey]*chatQueue
	// ready lists the chats with an update waiting and no worker. Each has
	// at least one waiting update, and the waiting updates are bounded by
	// the capacity given to newChats, so a send on it never blocks.
	ready chan *chatQueue
	// draining holds the chats with a turn at their parked updates queued
	// or running, so a chat gets one at a time.
	draining map[messenger.ChatKey]bool
}

// newChats returns an empty set for at most capacity waiting updates.
func newChats(capacity int) *chats {
	return &chats{byKey: map[messenger.ChatKey]*chatQueue{}, ready: make(chan *chatQueue, capacity),
		draining: map[messenger.ChatKey]bool{}}
}

// push queues j on its chat, making the chat ready if nothing of it was
// waiting or running.
func (c *chats) push(j job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.byKey[j.chat]
	if q != nil {
		q.jobs = append(q.jobs, j)
		return
	}
	q = &chatQueue{key: j.chat, jobs: []job{j}}
	c.byKey[j.chat] = q
	c.ready <- q
}

// take removes and returns the oldest waiting update of q, a chat the
// calling worker received from ready.
func (c *chats) take(q *chatQueue) job {
	c.mu.Lock()
	defer c.mu.Unlock()
	j := q.jobs[0]
	q.jobs[0] = job{}
	q.jobs = q.jobs[1:]
	return j
}

// done hands q back after the worker finished its update: ready again, at
// the back (chats take turns), when more updates wait, else forgotten.
func (c *chats) done(q *chatQueue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(q.jobs) > 0 {
		c.ready <- q
		return
	}
	delete(c.byKey, q.key)
}

// markDraining records a turn at chat's parked updates; false when one is
// queued or running already.
func (c *chats) markDraining(chat messenger.ChatKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining[chat] {
		return false
	}
	c.draining[chat] = true
	return true
}

// doneDraining ends the turn markDraining recorded.
func (c *chats) doneDraining(chat messenger.ChatKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.draining, chat)
}
