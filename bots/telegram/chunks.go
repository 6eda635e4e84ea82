package telegram

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// Bounds of the chunk log (see Bot.Send): how many sends it remembers and
// for how long. An hour covers the pipeline's retries, the adapters'
// redeliveries and a redelivery after a crash (the dedupe claim expires
// after 5 minutes).
const (
	chunkLogSize = 10000
	chunkLogTTL  = time.Hour
)

// progress is how far one Send of a message got.
type progress struct {
	// sum fingerprints the message (chat, text, keyboards): a later Send
	// with the same key but other content is a different message.
	sum [sha256.Size]byte
	// delivered counts the chunks delivered, in order; lastID is the message
	// id of the last of them.
	delivered int
	lastID    int
	// done is set once the whole Send succeeded; sent is its result.
	done bool
	sent messenger.Sent
	// at is when the entry was last written; it expires chunkLogTTL later.
	at time.Time
}

// chunkLog remembers, per idempotency key, how far a Send got, so a retried
// Send resumes after the chunks already delivered. It is bounded in size
// (the entry written longest ago is evicted first) and in age, in memory
// only, and safe for concurrent use.
type chunkLog struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	order *list.List // front = written most recently; values are *chunkEntry
	items map[string]*list.Element
}

type chunkEntry struct {
	key string
	p   progress
}

func newChunkLog(size int, ttl time.Duration) *chunkLog {
	return &chunkLog{size: size, ttl: ttl, order: list.New(), items: map[string]*list.Element{}}
}

// get returns the progress recorded for key at now when it is not expired
// and its fingerprint is sum.
func (l *chunkLog) get(key string, sum [sha256.Size]byte, now time.Time) (progress, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.items[key]
	if !ok {
		return progress{}, false
	}
	e := el.Value.(*chunkEntry)
	if now.Sub(e.p.at) >= l.ttl {
		l.removeLocked(el)
		return progress{}, false
	}
	if e.p.sum != sum {
		return progress{}, false
	}
	return e.p, true
}

// put records p for key; it drops expired entries and, beyond size, the
// entry written longest ago.
func (l *chunkLog) put(key string, p progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.items[key]; ok {
		el.Value.(*chunkEntry).p = p
		l.order.MoveToFront(el)
	} else {
		l.items[key] = l.order.PushFront(&chunkEntry{key: key, p: p})
	}
	for el := l.order.Back(); el != nil; el = l.order.Back() {
		if l.order.Len() <= l.size && p.at.Sub(el.Value.(*chunkEntry).p.at) < l.ttl {
			break
		}
		l.removeLocked(el)
	}
}

func (l *chunkLog) removeLocked(el *list.Element) {
	l.order.Remove(el)
	delete(l.items, el.Value.(*chunkEntry).key)
}

// len is the number of entries (expired ones not yet dropped included).
func (l *chunkLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// resumption is one Send's view of the chunk log: what an earlier attempt
// with the same key delivered, and the updates of this attempt. The zero
// value (no idempotency key) remembers nothing.
type resumption struct {
	log *chunkLog
	key string
	now func() time.Time
	p   progress
}

// resume looks up how far an earlier Send of o with the idempotency key got
// ("": none, nothing is remembered).
func (b *Bot) resume(key string, o outgoing) resumption {
	if key == "" {
		return resumption{}
	}
	sum, ok := fingerprint(o)
	if !ok {
		return resumption{}
	}
	logKey := strconv.FormatInt(o.chat, 10) + "\x00" + key
	r := resumption{log: b.chunks, key: logKey, now: b.clock, p: progress{sum: sum}}
	if p, ok := b.chunks.get(logKey, sum, b.clock()); ok {
		r.p = p
	}
	return r
}

// delivered records that chunk i (counted from 0) went out as message id.
func (r *resumption) delivered(i, id int) {
	r.p.delivered, r.p.lastID = i+1, id
	r.save()
}

// finish records the whole Send as done with its result.
func (r *resumption) finish(s messenger.Sent) {
	r.p.done, r.p.sent = true, s
	r.save()
}

func (r *resumption) save() {
	if r.log == nil {
		return
	}
	r.p.at = r.now()
	r.log.put(r.key, r.p)
}

// fingerprint hashes what a message shows: its text, picture and keyboards
// (the chat is part of the log key). ok is false when a keyboard cannot be
// encoded.
func fingerprint(o outgoing) (sum [sha256.Size]byte, ok bool) {
	h := sha256.New()
	// Each string with its length first: unambiguous, and with no quoting
	// pass over the text (strconv.Quote decoded every rune of it).
	var n [8]byte
	for _, s := range [...]string{o.text, o.photo} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		io.WriteString(h, s)
	}
	enc := json.NewEncoder(h)
	if err := enc.Encode([]any{o.inline, o.reply, o.remove, o.replyTo}); err != nil {
		return sum, false
	}
	copy(sum[:], h.Sum(nil))
	return sum, true
}
