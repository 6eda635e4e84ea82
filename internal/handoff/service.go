package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

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
	cfg  Config
	wake atomic.Pointer[func()]
}

// NewService checks cfg and returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("handoff: Config.Store is required")
	}
	cfg.SLA = positiveOr(cfg.SLA, 10*time.Minute)
	cfg.Idle = positiveOr(cfg.Idle, 24*time.Hour)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for p, n := range cfg.MaxText {
		if n <= 0 {
			return nil, fmt.Errorf("handoff: Config.MaxText[%s] must be positive, got %d", p, n)
		}
	}
	s := &Service{cfg: cfg}
	if cfg.Wake != nil {
		s.SetWake(cfg.Wake)
	}
	return s, nil
}

// DefaultMaxText is a reply's longest text on Telegram and VK, in
// characters.
const DefaultMaxText = 4096

// SetWake sets what the Service calls after queueing a reply or a return
// (the process's Worker.Wake; NewWorker sets it). nil: nothing.
func (s *Service) SetWake(wake func()) {
	if wake == nil {
		s.wake.Store(nil)
		return
	}
	s.wake.Store(&wake)
}

func (s *Service) wakeWorker() {
	if f := s.wake.Load(); f != nil {
		(*f)()
	}
}

// SLA is the configured answer time.
func (s *Service) SLA() time.Duration { return s.cfg.SLA }

// Idle is how long a request may go without a message before it returns
// to the bot.
func (s *Service) Idle() time.Duration { return s.cfg.Idle }

// Inbox lists requests for manager's inbox tab (see Filter; an empty tab
// is TabWaiting; the limit is at most 200).
func (s *Service) Inbox(ctx context.Context, manager string, f Filter) ([]Request, error) {
	switch f.Tab {
	case "":
		f.Tab = TabWaiting
	case TabWaiting, TabMine, TabAll, TabClosed:
	default:
		return nil, fmt.Errorf("handoff: unknown inbox tab %q (waiting, mine, all or closed)", f.Tab)
	}
	f.Manager = manager
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)
	rs, err := s.cfg.Store.ListHandoffs(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("handoff: list the %s inbox: %w", f.Tab, err)
	}
	return rs, nil
}

// Counts counts manager's inbox tabs.
func (s *Service) Counts(ctx context.Context, manager string) (Counts, error) {
	c, err := s.cfg.Store.CountHandoffs(ctx, manager, s.cfg.Now(), s.cfg.SLA)
	if err != nil {
		return Counts{}, fmt.Errorf("handoff: count the inbox: %w", err)
	}
	return c, nil
}

// Get returns request id.
func (s *Service) Get(ctx context.Context, id int64) (Request, error) {
	r, err := s.cfg.Store.GetHandoff(ctx, id)
	if err != nil {
		return Request{}, fmt.Errorf("handoff: get request %d: %w", id, err)
	}
	return r, nil
}

// LiveOf returns the client's live request; ErrNotFound when none.
func (s *Service) LiveOf(ctx context.Context, clientID int64) (Request, error) {
	r, err := s.cfg.Store.LiveHandoffOf(ctx, clientID)
	if err != nil {
		return Request{}, fmt.Errorf("handoff: live request of client %d: %w", clientID, err)
	}
	return r, nil
}

// Transcript returns a page of the client's messages (the limit defaults
// to 50, at most 200).
func (s *Service) Transcript(ctx context.Context, clientID int64, p Page) ([]crm.Message, error) {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	p.Limit = min(p.Limit, 200)
	ms, err := s.cfg.Store.Transcript(ctx, clientID, p)
	if err != nil {
		return nil, fmt.Errorf("handoff: transcript of client %d: %w", clientID, err)
	}
	return ms, nil
}

// Take assigns request id to manager: *TakenError when another manager
// was first, ErrClosed when it is no longer live.
func (s *Service) Take(ctx context.Context, id int64, manager string) (Request, error) {
	if strings.TrimSpace(manager) == "" {
		return Request{}, errors.New("handoff: take: no manager named")
	}
	r, err := s.cfg.Store.TakeHandoff(ctx, id, manager, s.cfg.Now())
	if err != nil {
		return Request{}, fmt.Errorf("handoff: take request %d: %w", id, err)
	}
	return r, nil
}

// Reply queues manager's text to the client of request id (taking the
// request when nobody has) and waits up to wait for this process's Worker
// to send it, returning the message as it then stands: sent (with the
// platform's id), failed (with the platform's reason: blocked, refused),
// or still queued (no process sent it within wait; it goes out when one
// does). Refused before queueing: ErrEmpty, *TooLongError, ErrClosed,
// *TakenError (another manager's request).
func (s *Service) Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return crm.Message{}, ErrEmpty
	}
	if strings.TrimSpace(manager) == "" {
		return crm.Message{}, errors.New("handoff: reply: no manager named")
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return crm.Message{}, err
	}
	if r.Status != StatusOpen && r.Status != StatusAssigned {
		return crm.Message{}, fmt.Errorf("handoff: reply to request %d: %w", id, ErrClosed)
	}
	if err := s.checkLength(r.Chat.Platform, text); err != nil {
		return crm.Message{}, err
	}
	switch r.Manager {
	case manager:
	case "":
		if _, err := s.Take(ctx, id, manager); err != nil {
			return crm.Message{}, err
		}
	default:
		return crm.Message{}, fmt.Errorf("handoff: reply to request %d: %w", id, &TakenError{By: r.Manager})
	}
	m, err := s.cfg.Store.QueueReply(ctx, id, crm.Message{
		Direction: crm.DirectionOut, AuthorKind: crm.AuthorManager, Author: manager,
		Text: text, Status: crm.MessageQueued, CreatedAt: s.cfg.Now(),
	})
	if err != nil {
		return crm.Message{}, fmt.Errorf("handoff: queue a reply to request %d: %w", id, err)
	}
	s.wakeWorker()
	return s.awaitSent(ctx, m, wait), nil
}

// checkLength refuses a text longer than the platform's message (or
// longer than the transcript keeps, crm.MaxMessageText bytes: the Worker
// sends the transcript's text, so a longer one would go out cut).
func (s *Service) checkLength(p messenger.Platform, text string) error {
	limit := s.cfg.MaxText[string(p)]
	if limit <= 0 {
		limit = DefaultMaxText
	}
	n := utf8.RuneCountInString(text)
	if len(text) > crm.MaxMessageText {
		limit = min(limit, utf8.RuneCountInString(cutBytes(text, crm.MaxMessageText)))
	}
	if n > limit {
		return &TooLongError{Platform: p, Len: n, Max: limit}
	}
	return nil
}

// cutBytes is text's longest prefix of at most n bytes ending at a rune
// boundary.
func cutBytes(text string, n int) string {
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}

// awaitSent polls m until it is sent or failed, wait passes or ctx ends,
// and returns it as it then stands.
func (s *Service) awaitSent(ctx context.Context, m crm.Message, wait time.Duration) crm.Message {
	if wait <= 0 {
		return m
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	step := 20 * time.Millisecond
	for {
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return m
		case <-deadline.C:
			t.Stop()
			return m
		case <-t.C:
		}
		cur, err := s.cfg.Store.GetMessage(ctx, m.ID)
		if err != nil {
			s.cfg.Logger.WarnContext(ctx, "handoff: read a queued reply", "message", m.ID, "err", err)
			return m
		}
		m = cur
		if m.Status == crm.MessageSent || m.Status == crm.MessageFailed {
			return m
		}
		step = min(2*step, 250*time.Millisecond)
	}
}

// Return gives the chat of request id back to the bot: the paused step is
// re-asked, or scenario (when not "") starts. by is who asked. A Worker
// carries it out; ErrClosed when the request is no longer live.
func (s *Service) Return(ctx context.Context, id int64, by, scenario string) error {
	if err := s.cfg.Store.RequestReturn(ctx, id, by, CloseManager, scenario, s.cfg.Now()); err != nil {
		return fmt.Errorf("handoff: return request %d to the bot: %w", id, err)
	}
	s.wakeWorker()
	return nil
}

// Stats returns the open requests and the reply times since since.
func (s *Service) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{Since: since}
	var err error
	if st.Open, st.Waiting, st.OverSLA, err = s.cfg.Store.OpenHandoffs(ctx, s.cfg.Now(), s.cfg.SLA); err != nil {
		return Stats{}, fmt.Errorf("handoff: count open requests: %w", err)
	}
	times, err := s.cfg.Store.FirstReplyTimes(ctx, since)
	if err != nil {
		return Stats{}, fmt.Errorf("handoff: first reply times: %w", err)
	}
	st.Overall, st.PerManager = replyQuantiles(times)
	return st, nil
}

// replyQuantiles summarises reply times overall and per manager (sorted
// by name).
func replyQuantiles(times []ReplyTime) (Quantiles, []ManagerQuantiles) {
	all := make([]time.Duration, 0, len(times))
	by := map[string][]time.Duration{}
	for _, t := range times {
		all = append(all, t.Wait)
		by[t.Manager] = append(by[t.Manager], t.Wait)
	}
	per := make([]ManagerQuantiles, 0, len(by))
	for m, ws := range by {
		per = append(per, ManagerQuantiles{Manager: m, Quantiles: quantiles(ws)})
	}
	slices.SortFunc(per, func(a, b ManagerQuantiles) int { return strings.Compare(a.Manager, b.Manager) })
	return quantiles(all), per
}

// quantiles are ws's count, median and 90th percentile (nearest rank).
func quantiles(ws []time.Duration) Quantiles {
	if len(ws) == 0 {
		return Quantiles{}
	}
	slices.Sort(ws)
	return Quantiles{Count: len(ws), P50: rank(ws, 0.5), P90: rank(ws, 0.9)}
}

// rank is the nearest-rank q-quantile of sorted ws.
func rank(ws []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(ws)))) - 1
	return ws[max(0, min(i, len(ws)-1))]
}
