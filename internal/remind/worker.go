// Package remind sends the reminders of unfinished questionnaires (a
// scenario step's `remind:`, docs/SCENARIOS.md "Reminders"): every
// `chathub run` process runs a Worker that claims the due reminders from
// the queue all processes share (internal/store/redis), keeps the mailing
// etiquette — never to a blocked or unsubscribed client, never in the
// client's quiet hours (postponed to their end) — and hands each to the
// dialog, which sends it under the chat's turn only while the conversation
// still waits for that answer (dialog.Handler.Remind).
package remind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/pollloop"
)

// Queue is the reminder queue every process shares (internal/store/redis
// implements it). Its times are the caller's clock.
type Queue interface {
	// ClaimReminders claims up to n reminders due at now, and those whose
	// claim ended, for lease.
	ClaimReminders(ctx context.Context, now time.Time, lease time.Duration, n int) ([]dialog.Reminder, error)
	// FinishReminder drops claimed r, unless the chat has another since.
	FinishReminder(ctx context.Context, r dialog.Reminder) error
	// RetryReminder puts claimed r back, due at at with attempts counted,
	// unless the chat has another since.
	RetryReminder(ctx context.Context, r dialog.Reminder, attempts int, at time.Time) error
}

// Clients reads a chat's client (internal/store/postgres implements it).
type Clients interface {
	GetClient(ctx context.Context, key messenger.ChatKey) (*crm.Client, error)
}

// Sender sends a reminder under its chat's turn (the app implements it
// over the chat gate and dialog.Handler.Remind).
type Sender interface {
	Remind(ctx context.Context, r dialog.Reminder) (dialog.RemindOutcome, error)
}

// QuietHours tells when the quiet hours that hold a client end: the
// broadcasts' own rule (broadcast.Policy implements it).
type QuietHours interface {
	// QuietUntil is when the quiet hours that hold a client of timezone
	// (an IANA name; "" for unknown) at now end; zero when now is outside
	// them.
	QuietUntil(timezone string, now time.Time) time.Time
}

// Pacer spaces the messages a bot sends on its own initiative (the
// Telegram bot's budget it shares with broadcasts).
type Pacer interface {
	Wait(ctx context.Context, chat messenger.ChatKey) error
}

// Defaults of Config.
const (
	DefaultPoll        = time.Second
	DefaultLease       = 2 * time.Minute
	DefaultConcurrency = 4
	// DefaultMaxAttempts bounds the tries of one reminder whose send
	// failed for a reason that may pass; then it is given up.
	DefaultMaxAttempts = 5
	// busyRetry is when a reminder whose chat was busy is tried again.
	busyRetry = 30 * time.Second
	// maxBackoff caps the wait before another try.
	maxBackoff = 30 * time.Minute
)

// Config configures a Worker.
type Config struct {
	// Queue, Clients and Sender are required.
	Queue   Queue
	Clients Clients
	Sender  Sender
	// Quiet, when set, holds reminders back in the client's quiet hours;
	// nil: none.
	Quiet QuietHours
	// Pacer, when set, is waited for before each send.
	Pacer Pacer
	// Poll is how often the queue is looked at. Default 1s.
	Poll time.Duration
	// Lease is how long a claim holds before another process may take the
	// reminder over (its holder died). Default 2m; it must outlast a
	// reminder's turn.
	Lease time.Duration
	// Concurrency is how many reminders are sent at once. Default 4.
	Concurrency int
	// MaxAttempts bounds the tries of one reminder. Default 5.
	MaxAttempts int
	// Outage, when set, tells a failure from an outage of a backing
	// service (health.Set.Outage): failures during one are logged at debug
	// level only.
	Outage func(ctx context.Context) <-chan struct{}
	// Logger defaults to slog.Default(); Now to time.Now (tests move it).
	Logger *slog.Logger
	Now    func() time.Time
}

func (c *Config) setDefaults() error {
	switch {
	case c.Queue == nil:
		return errors.New("remind: Config.Queue is required")
	case c.Clients == nil:
		return errors.New("remind: Config.Clients is required")
	case c.Sender == nil:
		return errors.New("remind: Config.Sender is required")
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Worker claims due reminders and sends them, Concurrency at a time.
// Start/Stop; Stop finishes the sends in progress and gives back the
// reminders claimed and not started.
type Worker struct {
	cfg  Config
	log  *slog.Logger
	jobs chan job
	// loop claims every Poll and on Wake; its Work is the context of
	// sends (it outlives Start's ctx and is cancelled when Stop's deadline
	// passes), its Quit is closed by Stop: no new claims.
	loop    *pollloop.Loop
	senders sync.WaitGroup

	mu     sync.Mutex
	inHand int // claimed and not settled
}

// job is a claimed reminder with the time of its claim.
type job struct {
	r  dialog.Reminder
	at time.Time
}

// NewWorker checks cfg and returns a Worker.
func NewWorker(cfg Config) (*Worker, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, jobs: make(chan job, 2*cfg.Concurrency)}
	w.loop = pollloop.New(cfg.Poll, w.claim)
	return w, nil
}

// Start begins claiming and sending; it goes on until Stop (ctx ending
// stops the claims too).
func (w *Worker) Start(ctx context.Context) error {
	if err := w.loop.Start(ctx); err != nil {
		return fmt.Errorf("remind: worker: %w", err)
	}
	for range w.cfg.Concurrency {
		w.senders.Add(1)
		go w.send()
	}
	return nil
}

// Stop stops claiming, finishes the sends in progress until ctx ends and
// gives back the reminders claimed and not started, so any process sends
// them at once. A send cut short by ctx leaves its reminder claimed until
// its lease ends; the chat's record of the reminder's turn keeps it from
// going out twice.
func (w *Worker) Stop(ctx context.Context) error {
	if !w.loop.Halt(ctx) {
		return nil
	}
	close(w.jobs)
	if err := w.loop.Drain(ctx, w.senders.Wait); err != nil {
		return fmt.Errorf("remind: worker stop: %w", err)
	}
	return nil
}

// Wake makes the Worker look at the queue now.
func (w *Worker) Wake() { w.loop.Wake() }

// running reports whether Stop was not called yet.
func (w *Worker) running() bool { return w.loop.Running() }

// claim claims as many due reminders as there is room for in hand.
func (w *Worker) claim(ctx context.Context) {
	w.mu.Lock()
	room := cap(w.jobs) - w.inHand
	w.mu.Unlock()
	if room <= 0 || !w.running() {
		return
	}
	now := w.cfg.Now()
	rs, err := w.cfg.Queue.ClaimReminders(ctx, now, w.cfg.Lease, room)
	if err != nil {
		if ctx.Err() == nil {
			w.failed(ctx, "remind: claim reminders", "err", err)
		}
		return
	}
	w.mu.Lock()
	w.inHand += len(rs)
	w.mu.Unlock()
	for _, r := range rs {
		w.jobs <- job{r: r, at: now} // room was counted: never blocks
	}
}

// send is one sender: it handles claimed reminders until Stop, then gives
// back the ones left.
func (w *Worker) send() {
	defer w.senders.Done()
	for j := range w.jobs {
		if w.running() {
			w.handle(j)
		} else {
			w.putBack(j.r)
		}
		w.mu.Lock()
		w.inHand--
		w.mu.Unlock()
		w.Wake()
	}
}

// sendTimeout bounds one reminder's handling: half the lease, so a send
// never outlives the claim it runs under.
func (w *Worker) sendTimeout() time.Duration { return w.cfg.Lease / 2 }

// handle keeps the etiquette and sends one claimed reminder.
func (w *Worker) handle(j job) {
	ctx := w.loop.Work()
	r := j.r
	now := w.cfg.Now()
	if now.After(j.at.Add(w.cfg.Lease - w.sendTimeout())) {
		// Past here another process may take the reminder over: leave it.
		w.log.DebugContext(ctx, "remind: claim ran out before the send", "chat", r.Chat.String())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, w.sendTimeout())
	defer cancel()
	cl, err := w.cfg.Clients.GetClient(ctx, r.Chat)
	if err != nil {
		w.failedSend(r, fmt.Errorf("read the client: %w", err))
		return
	}
	tz := ""
	if cl != nil {
		switch {
		case cl.BlockedAt != nil:
			w.finish(r, "blocked")
			return
		case !cl.Subscribed && cl.UnsubscribedAt != nil:
			w.finish(r, "unsubscribed")
			return
		}
		tz = cl.Timezone
	}
	if w.cfg.Quiet != nil {
		if until := w.cfg.Quiet.QuietUntil(tz, now); !until.IsZero() {
			w.postpone(r, until)
			return
		}
	}
	if w.cfg.Pacer != nil {
		if err := w.cfg.Pacer.Wait(ctx, r.Chat); err != nil {
			w.failedSend(r, fmt.Errorf("wait for the bot's budget: %w", err))
			return
		}
	}
	out, err := w.cfg.Sender.Remind(ctx, r)
	if err != nil {
		w.failedSend(r, err)
		return
	}
	w.finish(r, out.String())
}

// failedSend settles a reminder whose handling failed: given back as it
// was when Stop's deadline cut it short, else tried again later.
func (w *Worker) failedSend(r dialog.Reminder, err error) {
	if w.loop.Work().Err() != nil {
		w.putBack(r)
		return
	}
	w.retry(r, err)
}

// finish drops r from the queue: it went out, or it never will.
func (w *Worker) finish(r dialog.Reminder, outcome string) {
	ctx, cancel := w.settleContext()
	defer cancel()
	if err := w.cfg.Queue.FinishReminder(ctx, r); err != nil {
		w.failed(ctx, "remind: finish a reminder", "chat", r.Chat.String(), "err", err)
	}
	// A reminder sent (or no longer due) is routine; one that will never
	// go out is worth a line.
	level := slog.LevelDebug
	switch outcome {
	case dialog.RemindBlocked.String(), dialog.RemindRefused.String(), "unsubscribed":
		level = slog.LevelInfo
	}
	w.log.Log(ctx, level, "remind: reminder done", "chat", r.Chat.String(), "scenario", r.Scenario, "step", r.Step,
		"n", r.N, "outcome", outcome)
}

// postpone puts r back until the client's quiet hours end.
func (w *Worker) postpone(r dialog.Reminder, until time.Time) {
	ctx, cancel := w.settleContext()
	defer cancel()
	if err := w.cfg.Queue.RetryReminder(ctx, r, r.Attempts, until); err != nil {
		w.failed(ctx, "remind: postpone a reminder past quiet hours", "chat", r.Chat.String(), "err", err)
		return
	}
	w.log.DebugContext(ctx, "remind: reminder waits for the end of quiet hours", "chat", r.Chat.String(), "until", until)
}

// putBack gives back a reminder claimed and not started (Stop).
func (w *Worker) putBack(r dialog.Reminder) {
	ctx, cancel := w.settleContext()
	defer cancel()
	if err := w.cfg.Queue.RetryReminder(ctx, r, r.Attempts, w.cfg.Now()); err != nil {
		w.failed(ctx, "remind: give back a reminder", "chat", r.Chat.String(), "err", err)
	}
}

// retry puts r back after a failure that may pass, later the more often
// it failed (a rate limit's own wait; 30s for a busy chat), and gives it
// up after MaxAttempts.
func (w *Worker) retry(r dialog.Reminder, cause error) {
	ctx, cancel := w.settleContext()
	defer cancel()
	attempts := r.Attempts + 1
	if attempts >= w.cfg.MaxAttempts {
		w.log.WarnContext(ctx, "remind: reminder given up after failures", "chat", r.Chat.String(), "scenario", r.Scenario,
			"step", r.Step, "attempts", attempts, "err", cause)
		if err := w.cfg.Queue.FinishReminder(ctx, r); err != nil {
			w.failed(ctx, "remind: drop a reminder given up", "chat", r.Chat.String(), "err", err)
		}
		return
	}
	w.failed(ctx, "remind: reminder not sent; tried again later", "chat", r.Chat.String(), "attempts", attempts, "err", cause)
	if err := w.cfg.Queue.RetryReminder(ctx, r, attempts, w.cfg.Now().Add(retryDelay(cause, attempts))); err != nil {
		w.failed(ctx, "remind: put back a reminder", "chat", r.Chat.String(), "err", err)
	}
}

// retryDelay is the wait before try attempts+1: a rate limit's
// RetryAfter, busyRetry for a chat another turn held, else 1m, 2m, 4m…
// up to maxBackoff.
func retryDelay(err error, attempts int) time.Duration {
	var rl *messenger.RateLimitError
	switch {
	case errors.As(err, &rl) && rl.RetryAfter > 0:
		return rl.RetryAfter
	case errors.Is(err, dispatch.ErrChatBusy):
		return busyRetry
	}
	return min(time.Minute<<min(max(attempts-1, 0), 5), maxBackoff)
}

// settleContext is the context of a queue write after a send: its own, so
// that Stop's deadline never leaves an outcome unwritten.
func (w *Worker) settleContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(w.loop.Work()), 5*time.Second)
}

// failed logs a failure: a warning, or at debug level during an outage of
// a backing service (logged once where it is watched).
func (w *Worker) failed(ctx context.Context, msg string, args ...any) {
	level := slog.LevelWarn
	if w.cfg.Outage != nil && w.cfg.Outage(context.WithoutCancel(ctx)) != nil {
		level = slog.LevelDebug
	}
	w.log.Log(ctx, level, msg, args...)
}
