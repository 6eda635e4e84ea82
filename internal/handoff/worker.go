package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/pollloop"
)

// Ticker is the managers' team chat as the Worker drives it: each poll it
// announces new requests and forwards the clients' new messages
// (TeamChat implements it).
type Ticker interface {
	Tick(ctx context.Context) error
}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Store and Sender (the process's bots) are required; Returner too.
	Store    Store
	Sender   messenger.Sender
	Returner Returner
	// Service is the process's Service (its Wake is wired to the Worker).
	Service *Service
	// TeamChat, when set, is ticked every poll.
	TeamChat Ticker
	// Poll is how often the Worker looks for work queued by other
	// processes (replies, returns, idle requests, team chat). Default 1s.
	Poll time.Duration
	// Lease is how long a claim holds before another process may take the
	// work over (its holder died). Default 30s.
	Lease time.Duration
	// Retention deletes transcript messages older than it
	// (TRANSCRIPT_RETENTION), checked hourly. Default 365 days.
	Retention time.Duration
	// ReturnBackoff is the wait after a return's first failed try; it
	// doubles after each further one, up to 40 times it (the default 15s:
	// 15s, 30s, 1m … 10m). See MaxReturnAttempts.
	ReturnBackoff time.Duration
	// Outage, when set, tells a failure of the database from an outage
	// (health.Set.Outage): an outage is logged once where it is watched, so
	// the Worker's failures during one are logged at debug level only.
	Outage func(ctx context.Context) <-chan struct{}
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// failed logs a failure of the Worker's own work: a warning, or at debug
// level during an outage of a backing service.
func (w *Worker) failed(ctx context.Context, msg string, args ...any) {
	level := slog.LevelWarn
	if w.cfg.Outage != nil && w.cfg.Outage(context.WithoutCancel(ctx)) != nil {
		level = slog.LevelDebug
	}
	w.log.Log(ctx, level, msg, args...)
}

// Defaults of WorkerConfig.
const (
	DefaultPoll      = time.Second
	DefaultLease     = 30 * time.Second
	DefaultRetention = 365 * 24 * time.Hour
	// MaxAttempts is how many times a reply is tried on transient
	// failures (platform outage, rate limit) before it fails with
	// FailGaveUp.
	MaxAttempts = 5
	// MaxReturnAttempts is how many times a return to the bot is tried
	// on failures that may pass (an outage, a rate limit, a timeout, the
	// chat's bot not running in the process that tried) before it is given
	// up (CloseReturnFailed); with DefaultReturnBackoff the last try comes
	// about 26 minutes after the first.
	MaxReturnAttempts = 8
	// DefaultReturnBackoff is WorkerConfig.ReturnBackoff's default.
	DefaultReturnBackoff = 15 * time.Second
	// purgeEvery is how often old transcript messages are deleted.
	purgeEvery = time.Hour
	// purgeBatch and purgeBatches bound one purge: at most
	// purgeBatch*purgeBatches messages an hour, in short statements.
	purgeBatch   = 1000
	purgeBatches = 100
	// concurrency is how many sends and returns run at once.
	concurrency = 8
	// inHand caps the replies (and the returns) claimed and not settled
	// yet, so a slow platform never lets claims pile up.
	inHand = 64
)

// Worker carries out the hand-off work of one `chathub run` process:
// sends managers' replies, gives chats back to the bot (asked for, or idle
// for Service's Idle), ticks the team chat and purges old transcripts.
// Start/Stop; Stop drains the work in hand.
type Worker struct {
	cfg  WorkerConfig
	idle time.Duration
	log  *slog.Logger
	sem  chan struct{}
	// loop runs tick every Poll and on Wake; its Work is the context of
	// sends and returns (it outlives Start's ctx and is cancelled when
	// Stop's deadline passes), its Quit is closed by Stop: no new claims,
	// no retry waits.
	loop  *pollloop.Loop
	tasks sync.WaitGroup

	mu        sync.Mutex
	chats     map[messenger.ChatKey][]claimed // replies waiting per chat, in order
	pending   int                             // replies claimed and not settled
	returning int                             // returns claimed and not settled
	attempts  map[int64]int                   // transient failures per reply
	lastPurge time.Time
}

// claimed is a reply this process claimed, with the claim's time.
type claimed struct {
	Outgoing
	at time.Time
}

// NewWorker checks cfg and returns a Worker; it becomes the Wake of
// cfg.Service.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("handoff: WorkerConfig.Store is required")
	case cfg.Sender == nil:
		return nil, errors.New("handoff: WorkerConfig.Sender is required")
	case cfg.Returner == nil:
		return nil, errors.New("handoff: WorkerConfig.Returner is required")
	}
	cfg.Poll = positiveOr(cfg.Poll, DefaultPoll)
	cfg.Lease = positiveOr(cfg.Lease, DefaultLease)
	cfg.Retention = positiveOr(cfg.Retention, DefaultRetention)
	cfg.ReturnBackoff = positiveOr(cfg.ReturnBackoff, DefaultReturnBackoff)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Worker{
		cfg: cfg, idle: 24 * time.Hour, log: cfg.Logger,
		sem:   make(chan struct{}, concurrency),
		chats: map[messenger.ChatKey][]claimed{}, attempts: map[int64]int{},
	}
	w.loop = pollloop.New(cfg.Poll, w.tick)
	if cfg.Service != nil {
		w.idle = cfg.Service.Idle()
		cfg.Service.SetWake(w.Wake)
	}
	return w, nil
}

// Start begins polling; the work goes on until Stop (ctx ending stops the
// polling too).
func (w *Worker) Start(ctx context.Context) error {
	if err := w.loop.Start(ctx); err != nil {
		return fmt.Errorf("handoff: worker: %w", err)
	}
	return nil
}

// Stop stops polling and waits for the work in hand until ctx ends; what
// is still unsent then is cut short and left to be claimed again.
func (w *Worker) Stop(ctx context.Context) error {
	if !w.loop.Halt(ctx) {
		return nil
	}
	if err := w.loop.Drain(ctx, w.tasks.Wait); err != nil {
		return fmt.Errorf("handoff: worker stop: %w", err)
	}
	return nil
}

// Wake makes the Worker look for work now.
func (w *Worker) Wake() { w.loop.Wake() }

// tick does one round: claims replies and returns, ticks the team chat,
// purges old messages when due.
func (w *Worker) tick(ctx context.Context) {
	w.claimReplies(ctx)
	w.claimReturns(ctx)
	if w.cfg.TeamChat != nil {
		if err := w.cfg.TeamChat.Tick(ctx); err != nil && ctx.Err() == nil {
			w.failed(ctx, "handoff: team chat", "err", err)
		}
	}
	w.purge(ctx)
}

// running reports whether Stop was not called yet.
func (w *Worker) running() bool { return w.loop.Running() }

// claimReplies claims queued replies and queues each behind its chat's
// earlier ones, so one chat's replies go out in order and a failing chat
// holds up no other.
func (w *Worker) claimReplies(ctx context.Context) {
	w.mu.Lock()
	room := inHand - w.pending
	w.mu.Unlock()
	if room <= 0 {
		return
	}
	now := w.cfg.Now()
	out, err := w.cfg.Store.ClaimReplies(ctx, now, w.cfg.Lease, room, 0)
	if err != nil {
		if ctx.Err() == nil {
			w.failed(ctx, "handoff: claim replies", "err", err)
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range out {
		w.pending++
		q, busy := w.chats[o.Chat]
		w.chats[o.Chat] = append(q, claimed{Outgoing: o, at: now})
		if !busy {
			w.tasks.Add(1)
			go w.drainChat(o.Chat)
		}
	}
}

// drainChat sends the chat's claimed replies one after another.
func (w *Worker) drainChat(chat messenger.ChatKey) {
	defer w.tasks.Done()
	for {
		w.mu.Lock()
		q := w.chats[chat]
		if len(q) == 0 {
			delete(w.chats, chat)
			w.mu.Unlock()
			return
		}
		c := q[0]
		w.chats[chat] = q[1:]
		w.mu.Unlock()
		w.deliver(c)
		w.mu.Lock()
		w.pending--
		w.mu.Unlock()
	}
}

// sendTimeout bounds one send: a quarter of the lease (at most 10s), so a
// send never outlives the claim it runs under.
func (w *Worker) sendTimeout() time.Duration { return min(w.cfg.Lease/4, 10*time.Second) }

// deliver sends one claimed reply, retrying transient failures while its
// claim holds, and settles it.
func (w *Worker) deliver(c claimed) {
	ctx := w.loop.Work()
	for {
		// Never start a send the claim may not cover: past it another
		// process may have taken the reply over.
		if w.cfg.Now().After(c.at.Add(w.cfg.Lease - w.sendTimeout())) {
			w.log.DebugContext(ctx, "handoff: reply claim ran out before its send", "message", c.Message.ID)
			return
		}
		sent, err := w.send(ctx, c)
		if ctx.Err() != nil {
			w.settle(c, crm.MessageQueued, "", "")
			return
		}
		reason, retry := classify(err)
		switch {
		case err == nil:
			w.settle(c, crm.MessageSent, sent.MessageID, "")
			return
		case !retry:
			w.log.InfoContext(ctx, "handoff: reply refused by the platform", "message", c.Message.ID,
				"platform", string(c.Chat.Platform), "reason", reason)
			w.settle(c, crm.MessageFailed, "", reason)
			return
		}
		n := w.failedOnce(c.Message.ID)
		if n >= MaxAttempts {
			w.log.WarnContext(ctx, "handoff: reply given up after transient failures", "message", c.Message.ID,
				"platform", string(c.Chat.Platform), "attempts", n)
			w.settle(c, crm.MessageFailed, "", FailGaveUp)
			return
		}
		delay := retryDelay(err, n)
		if !w.running() || w.cfg.Now().Add(delay).After(c.at.Add(w.cfg.Lease-w.sendTimeout())) {
			// Not within this claim: queue it again for the next claim.
			w.settle(c, crm.MessageQueued, "", "")
			return
		}
		if !w.sleep(delay) {
			w.settle(c, crm.MessageQueued, "", "")
			return
		}
	}
}

// send sends c within the concurrency bound and sendTimeout.
func (w *Worker) send(ctx context.Context, c claimed) (messenger.Sent, error) {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return messenger.Sent{}, ctx.Err()
	}
	defer func() { <-w.sem }()
	sctx, cancel := context.WithTimeout(ctx, w.sendTimeout())
	defer cancel()
	return w.cfg.Sender.Send(sctx, messenger.OutMessage{Chat: c.Chat, Text: c.Message.Text})
}

// failedOnce counts a transient failure of reply id and returns the count.
func (w *Worker) failedOnce(id int64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts[id]++
	return w.attempts[id]
}

// sleep waits d; false when Stop came first.
func (w *Worker) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.loop.Quit():
		return false
	case <-w.loop.Work().Done():
		return false
	}
}

// settle records a reply's outcome (in a context of its own: Stop's
// deadline may have cut the send, the outcome is still written).
func (w *Worker) settle(c claimed, status, platformID, reason string) {
	if status != crm.MessageQueued {
		w.mu.Lock()
		delete(w.attempts, c.Message.ID)
		w.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.loop.Work()), 5*time.Second)
	defer cancel()
	if err := w.cfg.Store.FinishReply(ctx, c.Message.ID, status, platformID, reason, w.cfg.Now()); err != nil {
		w.failed(ctx, "handoff: settle a reply", "message", c.Message.ID, "status", status, "err", err)
	}
}

// classify turns a send's error into the reply's failure reason and
// whether to try again: blocked, too long and refused are for good; rate
// limits, transient and unknown failures are tried again.
func classify(err error) (reason string, retry bool) {
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, messenger.ErrBlocked):
		return FailBlocked, false
	case errors.Is(err, messenger.ErrTooLong): // a bad request too: first
		return FailTooLong, false
	case errors.Is(err, messenger.ErrBadRequest):
		return FailRefused, false
	}
	return FailGaveUp, true
}

// retryDelay is the wait before retry n+1: the rate limit's RetryAfter,
// else 1s, 2s, 4s… capped at 8s.
func retryDelay(err error, n int) time.Duration {
	var rl *messenger.RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		return rl.RetryAfter
	}
	return min(time.Second<<min(max(n-1, 0), 3), 8*time.Second)
}

// purge deletes transcript messages older than Retention, hourly, in
// batches.
func (w *Worker) purge(ctx context.Context) {
	now := w.cfg.Now()
	w.mu.Lock()
	due := w.lastPurge.IsZero() || now.Sub(w.lastPurge) >= purgeEvery
	if due {
		w.lastPurge = now
	}
	w.mu.Unlock()
	if !due {
		return
	}
	before := now.Add(-w.cfg.Retention)
	var total int64
	for range purgeBatches {
		if !w.running() || ctx.Err() != nil {
			break
		}
		n, err := w.cfg.Store.PurgeMessages(ctx, before, purgeBatch)
		if err != nil {
			w.failed(ctx, "handoff: purge old transcript messages", "err", err)
			break
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	if total > 0 {
		w.log.InfoContext(ctx, "handoff: purged old transcript messages", "deleted", total)
	}
}
