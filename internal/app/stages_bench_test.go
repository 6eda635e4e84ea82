package app

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/postgres"
)

// mark is a moment of one update's way from a client to the reply
// (INBOUND_STAGES=1).
type mark int

// The marks, in the order an update passes them.
const (
	markQueued      mark = iota // the client queued it at the fake (before SendText)
	markPolled                  // a getUpdates answer carried it (the fake wrote the answer)
	markDelivered               // the adapter handed its batch to the relay's sink (chathub)
	markSubmitted               // the relay handed it to the dispatcher, after the Redis append (chathub)
	markPicked                  // a worker took it: chathub's Gate.Enter began; the floor's worker got it
	markEntered                 // Gate.Enter returned: the Redis pre-turn round trip (chathub)
	markRead                    // the engine asked for the client card (GetClient called; chathub, some turns)
	markReadDone                // GetClient returned
	markWrite                   // the CRM write began (RecordChanges called)
	markWriteQueued             // the write joined the group commit's queue
	markWriteTaken              // a flusher took it into a batch
	markWriteDone               // its batch committed
	markWritten                 // RecordChanges returned
	markSend                    // the reply's Send began
	markReceived                // the fake received the reply (sendMessage)
	markReplied                 // the client had the reply (the end of its latency)
	markLeave                   // the turn's leave began: the Redis post-turn round trip (chathub)
	markLeft                    // leave returned
	numMarks
)

// stage is a span between two marks.
type stage struct {
	name     string
	from, to mark
	// tail false: not on the way to the reply (the turn's leave runs after
	// it), so not a candidate for the slowest updates' largest stage.
	tail bool
	// only is whose span it is: every bot's (""), chathub's alone (its
	// relay, dispatcher, Gate and engine) or the floor loop's alone
	// (overlapping chathub's own spans).
	only string
}

// stages are the spans the trace reports; those with tail set add up to
// the update's latency when every mark is there.
var stages = []stage{
	{"poll wait (fake queue → getUpdates answer)", markQueued, markPolled, true, ""},
	{"adapter (answer → relay sink)", markPolled, markDelivered, true, "chathub"},
	{"relay append + hand-over (Redis XADD)", markDelivered, markSubmitted, true, "chathub"},
	{"dispatch queue (→ worker)", markSubmitted, markPicked, true, "chathub"},
	{"floor: answer → worker", markPolled, markPicked, true, "floor"},
	{"Redis pre-turn (claim+lock+state)", markPicked, markEntered, true, "chathub"},
	{"engine (→ CRM write), card read included", markEntered, markWrite, false, "chathub"},
	{"engine (→ card read or CRM write)", markEntered, markRead, true, "chathub"},
	{"card read (GetClient, PostgreSQL)", markRead, markReadDone, true, "chathub"},
	{"engine after the card read", markReadDone, markWrite, true, "chathub"},
	{"floor: worker → CRM write", markPicked, markWrite, true, "floor"},
	{"CRM: build statement", markWrite, markWriteQueued, true, ""},
	{"CRM: group-commit queue wait", markWriteQueued, markWriteTaken, true, ""},
	{"CRM: batch execute+commit", markWriteTaken, markWriteDone, true, ""},
	{"CRM: wake caller", markWriteDone, markWritten, true, ""},
	{"after CRM → send", markWritten, markSend, true, ""},
	{"send (sendMessage → fake)", markSend, markReceived, true, ""},
	{"fake → client", markReceived, markReplied, true, ""},
	{"Redis post-turn (leave; off path)", markLeave, markLeft, false, "chathub"},
	{"total (queued → replied)", markQueued, markReplied, false, ""},
}

// stageRec is one update's marks.
type stageRec struct {
	user  int64
	id    int // the fake's update id
	at    [numMarks]time.Time
	batch int // its write's batch size
}

// stageTrace times every update's way through a bot under the inbound
// benchmarks (INBOUND_STAGES=1): the clients, the fake's hooks and
// wrappers around the bot's parts mark each update's moments. Each client
// has one update in flight at a time, so a mark made by chat goes to the
// chat's current update.
type stageTrace struct {
	mu     sync.Mutex
	cur    map[int64]*stageRec // by user: the update in flight
	byID   map[int]*stageRec
	polled map[int]time.Time // by update id, as the fake answered
	recs   []*stageRec
	gc0    runtime.MemStats // at the start
}

// newStageTrace returns a trace hooked to fake's getUpdates when
// INBOUND_STAGES=1, else nil (every method of a nil trace does nothing).
func newStageTrace(fake *telegramtest.Server) *stageTrace {
	if os.Getenv("INBOUND_STAGES") != "1" {
		return nil
	}
	t := &stageTrace{cur: map[int64]*stageRec{}, byID: map[int]*stageRec{}, polled: map[int]time.Time{}}
	runtime.ReadMemStats(&t.gc0)
	fake.SetOnPoll(func(ids []int) {
		now := time.Now()
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, id := range ids {
			if _, ok := t.polled[id]; !ok {
				t.polled[id] = now
			}
		}
	})
	return t
}

// begin starts the user's next update, queued at at.
func (t *stageTrace) begin(user int64, at time.Time) {
	if t == nil {
		return
	}
	r := &stageRec{user: user}
	r.at[markQueued] = at
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur[user] = r
	t.recs = append(t.recs, r)
}

// queued tells the user's current update its id.
func (t *stageTrace) queued(user int64, id int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.cur[user]; r != nil {
		r.id = id
		t.byID[id] = r
	}
}

// mark records m of the user's current update at now (the first time
// only, but for the marks an update may pass again on a retry: the last).
func (t *stageTrace) mark(user int64, m mark, now time.Time) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.cur[user]; r != nil {
		r.at[m] = now
	}
}

// markChat is mark for a chat key (the user id as text).
func (t *stageTrace) markChat(chat messenger.ChatKey, m mark, now time.Time) {
	if t == nil {
		return
	}
	if user, err := strconv.ParseInt(chat.ID, 10, 64); err == nil {
		t.mark(user, m, now)
	}
}

// current returns the chat's update in flight (nil: none).
func (t *stageTrace) current(chat messenger.ChatKey) *stageRec {
	user, _ := strconv.ParseInt(chat.ID, 10, 64)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur[user]
}

// markRec records m of r at now.
func (t *stageTrace) markRec(r *stageRec, m mark, now time.Time) {
	if r == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r.at[m] = now
}

// markWrite records the group commit's times of a write of the chat.
func (t *stageTrace) markWrite(user int64, w postgres.WriteTrace) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.cur[user]; r != nil {
		r.at[markWriteQueued], r.at[markWriteTaken], r.at[markWriteDone] = w.Queued, w.Taken, w.Done
		r.batch = w.Batch
	}
}

// traceWrites hooks the trace to the store's group commit: a write's
// context carries its chat (see tracedCRM).
func (t *stageTrace) traceWrites(s *postgres.Store) {
	if t == nil {
		return
	}
	s.TraceWrites(func(ctx context.Context, w postgres.WriteTrace) {
		if user, ok := ctx.Value(traceUserKey{}).(int64); ok {
			t.markWrite(user, w)
		}
	})
}

type traceUserKey struct{}

// report logs every stage's percentiles and, for the slowest 1 % of the
// updates, which stage took the longest.
func (t *stageTrace) report(b *testing.B) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var done []*stageRec
	for _, r := range t.recs {
		if at, ok := t.polled[r.id]; ok && r.id != 0 {
			r.at[markPolled] = at
		}
		if !r.at[markReplied].IsZero() {
			done = append(done, r)
		}
	}
	if len(done) == 0 {
		return
	}
	span := func(r *stageRec, s stage) (time.Duration, bool) {
		if kind := map[bool]string{true: "chathub", false: "floor"}[!r.at[markDelivered].IsZero()]; s.only != "" && s.only != kind {
			return 0, false
		}
		from, to := r.at[s.from], r.at[s.to]
		if s.to == markRead && to.IsZero() {
			to = r.at[markWrite] // no card read: the engine ran straight to the write
		}
		if from.IsZero() || to.IsZero() {
			return 0, false
		}
		return to.Sub(from), true
	}
	slices.SortFunc(done, func(x, y *stageRec) int {
		return cmp.Compare(x.at[markReplied].Sub(x.at[markQueued]), y.at[markReplied].Sub(y.at[markQueued]))
	})
	tail := done[len(done)-max(len(done)/100, 1):]
	var out strings.Builder
	fmt.Fprintf(&out, "%s: stages of %d updates (ms; tail: the slowest %d, by total):\n", b.Name(), len(done), len(tail))
	fmt.Fprintf(&out, "%-46s %6s %8s %8s %8s %8s %9s %9s\n", "stage", "n", "p50", "p90", "p99", "max", "tail-mean", "tail-top")
	top := map[string]int{}
	for _, r := range tail {
		best, name := time.Duration(-1), ""
		for _, s := range stages {
			if d, ok := span(r, s); ok && s.tail && d > best {
				best, name = d, s.name
			}
		}
		top[name]++
	}
	batches := make([]time.Duration, 0, len(done))
	for _, r := range done {
		if r.batch > 0 {
			batches = append(batches, time.Duration(r.batch))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, s := range stages {
		var all []time.Duration
		for _, r := range done {
			if d, ok := span(r, s); ok {
				all = append(all, d)
			}
		}
		if len(all) == 0 {
			continue
		}
		var sum time.Duration
		n := 0
		for _, r := range tail {
			if d, ok := span(r, s); ok {
				sum += d
				n++
			}
		}
		mean := 0.0
		if n > 0 {
			mean = ms(sum / time.Duration(n))
		}
		fmt.Fprintf(&out, "%-46s %6d %8.2f %8.2f %8.2f %8.2f %9.2f %9d\n", s.name, len(all),
			ms(pct(all, 0.50)), ms(pct(all, 0.90)), ms(pct(all, 0.99)), ms(pct(all, 1)), mean, top[s.name])
	}
	if len(batches) > 0 {
		fmt.Fprintf(&out, "write batch size: p50 %d p90 %d p99 %d max %d\n",
			pct(batches, 0.5), pct(batches, 0.9), pct(batches, 0.99), pct(batches, 1))
		for _, bucket := range [][2]int{{1, 1}, {2, 4}, {5, 8}, {9, 16}, {17, 1 << 20}} {
			var exec []time.Duration
			for _, r := range done {
				if r.batch >= bucket[0] && r.batch <= bucket[1] {
					exec = append(exec, r.at[markWriteDone].Sub(r.at[markWriteTaken]))
				}
			}
			if len(exec) > 0 {
				fmt.Fprintf(&out, "  writes in batches of %d-%d: %d, their batch's execute+commit p50 %.2f p99 %.2f ms\n",
					bucket[0], bucket[1], len(exec), ms(pct(exec, 0.5)), ms(pct(exec, 0.99)))
			}
		}
	}
	var gc runtime.MemStats
	runtime.ReadMemStats(&gc)
	fmt.Fprintf(&out, "GC: %d cycles, %.1f ms of stop-the-world pauses in all, GOMAXPROCS %d\n",
		gc.NumGC-t.gc0.NumGC, float64(gc.PauseTotalNs-t.gc0.PauseTotalNs)/1e6, runtime.GOMAXPROCS(0))
	// Printed, not logged: a benchmark's log is cut to its first lines.
	fmt.Print(out.String())
}

// pct returns the p-quantile of ds (sorting it).
func pct(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[int(p*float64(len(ds)-1))]
}

// hook wraps chathub's parts for the trace: the relay's sink (the adapter's
// hand-over), the dispatcher as the relay hands it updates, the Gate, the
// CRM and the sender.
func (t *stageTrace) hook(stores *Stores, entry *Bot) {
	if t == nil {
		return
	}
	inner := stores.clients
	stores.clients = func(c dialog.ClientStore) dialog.ClientStore {
		if inner != nil {
			c = inner(c)
		}
		return tracedCRM{c, t}
	}
	t.traceWrites(stores.CRM)
	stores.gate = func(g dispatch.Gate) dispatch.Gate { return tracedGate{g.(dispatch.Parker), t} }
	stores.sink = func(s messenger.Submitter) messenger.Submitter { return tracedSubmitter{s, t} }
	entry.Sender = tracedSender{entry.Sender, t}
	if poll := entry.Poll; poll != nil {
		entry.Poll = func(ctx context.Context, sink messenger.Sink) error {
			return poll(ctx, tracedSink{sink, t})
		}
	}
}

// tracedSink marks the updates the adapter delivers (it is no Submitter,
// as the relay's sink is not).
type tracedSink struct {
	messenger.Sink
	t *stageTrace
}

func (s tracedSink) Deliver(ctx context.Context, batch []*messenger.Update) error {
	now := time.Now()
	for _, u := range batch {
		s.t.markChat(u.Chat, markDelivered, now)
	}
	return s.Sink.Deliver(ctx, batch)
}

// tracedSubmitter marks the updates the relay hands to the dispatcher.
type tracedSubmitter struct {
	messenger.Submitter
	t *stageTrace
}

func (s tracedSubmitter) Submit(ctx context.Context, updates []*messenger.Update) (func() error, error) {
	now := time.Now()
	for _, u := range updates {
		s.t.markChat(u.Chat, markSubmitted, now)
	}
	return s.Submitter.Submit(ctx, updates)
}

// tracedGate marks a worker's start (Enter) and the turn's Redis round
// trips.
type tracedGate struct {
	dispatch.Parker
	t *stageTrace
}

func (g tracedGate) Enter(ctx context.Context, chat messenger.ChatKey, updateID string, ttl time.Duration) (func(context.Context, bool) error, bool, error) {
	g.t.markChat(chat, markPicked, time.Now())
	leave, dup, err := g.Parker.Enter(ctx, chat, updateID, ttl)
	g.t.markChat(chat, markEntered, time.Now())
	if leave == nil {
		return leave, dup, err
	}
	// The leave runs after the reply, maybe once the client sent its next
	// update: its marks go to the update of this turn.
	r := g.t.current(chat)
	return func(ctx context.Context, handled bool) error {
		g.t.markRec(r, markLeave, time.Now())
		err := leave(ctx, handled)
		g.t.markRec(r, markLeft, time.Now())
		return err
	}, dup, err
}

// tracedCRM marks the CRM writes and puts the chat's user into their
// context for the group commit's trace.
type tracedCRM struct {
	dialog.ClientStore
	t *stageTrace
}

func (c tracedCRM) RecordChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) error {
	user, _ := strconv.ParseInt(key.ID, 10, 64)
	c.t.mark(user, markWrite, time.Now())
	err := c.ClientStore.RecordChanges(context.WithValue(ctx, traceUserKey{}, user), key, ch)
	c.t.mark(user, markWritten, time.Now())
	return err
}

func (c tracedCRM) GetClient(ctx context.Context, key messenger.ChatKey) (*crm.Client, error) {
	c.t.markChat(key, markRead, time.Now())
	cl, err := c.ClientStore.GetClient(ctx, key)
	c.t.markChat(key, markReadDone, time.Now())
	return cl, err
}

// tracedSender marks the replies' sends.
type tracedSender struct {
	messenger.Sender
	t *stageTrace
}

func (s tracedSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	s.t.markChat(msg.Chat, markSend, time.Now())
	return s.Sender.Send(ctx, msg)
}

// BeginPress forwards to the adapter's (messenger.PressMarker), so the
// trace leaves the presses' marks as they are.
func (s tracedSender) BeginPress(u *messenger.Update) func(bool) {
	if m, ok := s.Sender.(messenger.PressMarker); ok {
		return m.BeginPress(u)
	}
	return func(bool) {}
}
