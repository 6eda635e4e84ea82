package handoff

import (
	"context"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// Returner gives a chat back to the bot: holding the chat's turn (the
// same lock the inbound pipeline takes), it clears the hand-off mark of
// the conversation, notes the return in the transcript and re-asks the
// paused step, or starts r.ReturnScenario when set. The app implements it
// over dialog.Handler.ReturnToBot and the chat gate.
type Returner interface {
	ReturnToBot(ctx context.Context, r Request, note string) error
}

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
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// Worker carries out the hand-off work of one `chathub run` process:
// sends managers' replies, gives chats back to the bot (asked for, or idle
// for Service's Idle), ticks the team chat and purges old transcripts.
// Start/Stop; Stop drains the work in hand.
type Worker struct {
	cfg WorkerConfig
}

// NewWorker checks cfg and returns a Worker.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	return &Worker{cfg: cfg}, errUnbuilt
}

// Start begins polling.
func (w *Worker) Start(ctx context.Context) error { return errUnbuilt }

// Stop stops polling and waits for the work in hand until ctx ends.
func (w *Worker) Stop(ctx context.Context) error { return nil }

// Wake makes the Worker look for work now.
func (w *Worker) Wake() {}
