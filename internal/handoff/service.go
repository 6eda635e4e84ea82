package handoff

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// errUnbuilt marks what the foundation declared and a later commit builds.
var errUnbuilt = errors.New("handoff: not built yet")

// Config configures a Service.
type Config struct {
	// Store keeps requests and transcripts. Required.
	Store Store
	// SLA is how long a client may wait for a manager's answer
	// (HANDOFF_SLA): longer shows red in the inbox and counts as OverSLA.
	// Default 10m.
	SLA time.Duration
	// Idle returns a request to the bot after this long without a message
	// either way (HANDOFF_IDLE). Default 24h.
	Idle time.Duration
	// MaxText caps a reply by platform (characters); a longer one is
	// refused with *TooLongError. Default: 4096 for Telegram and VK.
	MaxText map[string]int
	// Wake, when set, is called after a reply is queued or a return
	// requested, so the process's Worker acts at once instead of at its
	// next poll.
	Wake func()
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// Service is what the console, the API, the CLI and the team chat do with
// requests: list, take, reply, give back to the bot, count.
type Service struct {
	cfg Config
}

// NewService checks cfg and returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("handoff: Config.Store is required")
	}
	if cfg.SLA <= 0 {
		cfg.SLA = 10 * time.Minute
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

// SLA is the configured answer time.
func (s *Service) SLA() time.Duration { return s.cfg.SLA }

// Inbox lists requests for manager's inbox tab (see Filter).
func (s *Service) Inbox(ctx context.Context, manager string, f Filter) ([]Request, error) {
	return nil, errUnbuilt
}

// Counts counts manager's inbox tabs.
func (s *Service) Counts(ctx context.Context, manager string) (Counts, error) {
	return Counts{}, errUnbuilt
}

// Get returns request id.
func (s *Service) Get(ctx context.Context, id int64) (Request, error) {
	return Request{}, errUnbuilt
}

// LiveOf returns the client's live request; ErrNotFound when none.
func (s *Service) LiveOf(ctx context.Context, clientID int64) (Request, error) {
	return Request{}, errUnbuilt
}

// Transcript returns a page of the client's messages.
func (s *Service) Transcript(ctx context.Context, clientID int64, p Page) ([]crm.Message, error) {
	return nil, errUnbuilt
}

// Take assigns request id to manager: *TakenError when another manager
// was first, ErrClosed when it is no longer live.
func (s *Service) Take(ctx context.Context, id int64, manager string) (Request, error) {
	return Request{}, errUnbuilt
}

// Reply queues manager's text to the client of request id (taking the
// request when nobody has) and waits up to wait for this process's Worker
// to send it, returning the message as it then stands: sent (with the
// platform's id), failed (with the platform's reason: blocked, refused),
// or still queued (no process sent it within wait; it goes out when one
// does). Refused before queueing: ErrEmpty, *TooLongError, ErrClosed,
// *TakenError (another manager's request).
func (s *Service) Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error) {
	return crm.Message{}, errUnbuilt
}

// Return gives the chat of request id back to the bot: the paused step is
// re-asked, or scenario (when not "") starts. by is who asked. A Worker
// carries it out; ErrClosed when the request is no longer live.
func (s *Service) Return(ctx context.Context, id int64, by, scenario string) error {
	return errUnbuilt
}

// Stats returns the open requests and the reply times since since.
func (s *Service) Stats(ctx context.Context, since time.Time) (Stats, error) {
	return Stats{}, errUnbuilt
}
