package handoff

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// DefaultTeamChatPostWait is TeamChatConfig.PostWait's default.
const DefaultTeamChatPostWait = 3 * time.Second

// AnnouncingReporter is an optional TeamChatStore method: whether some
// process (this one or another) holds the claim of an announcement in
// team chat chat (its store key) it has not recorded yet at now: its post
// may be out, its id not yet known.
type AnnouncingReporter interface {
	Announcing(ctx context.Context, chat string, now time.Time) (bool, error)
}

// postsInFlight counts this process's posts to the team chat whose send
// has not returned or whose message id is not recorded yet.
type postsInFlight struct {
	mu      sync.Mutex
	n       int
	settled chan struct{} // closed when the next post settles; nil: nobody waits
}

func (p *postsInFlight) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
}

func (p *postsInFlight) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	if p.settled != nil {
		close(p.settled)
		p.settled = nil
	}
}

// next is closed when the next post in flight settles; nil when none is.
func (p *postsInFlight) next() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return nil
	}
	if p.settled == nil {
		p.settled = make(chan struct{})
	}
	return p.settled
}

// postAndRecord sends msg to the team chat and records the post with
// record, counted in flight meanwhile: a manager may answer the post before
// its id is recorded (see requestOfPost). A failed send records nothing; a
// failed record is returned as recordErr.
func (tc *TeamChat) postAndRecord(ctx context.Context, msg messenger.OutMessage, record func(messageID string) error) (sendErr, recordErr error) {
	tc.posting.begin()
	defer tc.posting.end()
	sent, err := tc.cfg.Sender.Send(ctx, msg)
	if err != nil {
		return err, nil
	}
	return nil, record(sent.MessageID)
}

// requestOfPost returns the request post (a message of the team chat)
// belongs to. A post not recorded yet while posts are in flight (this
// process's, or an announcement claimed by any process) may be one whose
// id is not known yet: a manager who answers a card the moment it appears
// is quicker than the send's return. It is looked up again as they settle,
// for up to PostWait; then ErrNotFound.
func (tc *TeamChat) requestOfPost(ctx context.Context, post string) (Request, error) {
	req, err := tc.cfg.Store.HandoffByPost(ctx, tc.chat, post)
	if !errors.Is(err, ErrNotFound) {
		return req, err
	}
	deadline := time.NewTimer(tc.cfg.PostWait)
	defer deadline.Stop()
	step := 50 * time.Millisecond
	for {
		settled := tc.posting.next()
		if settled == nil && !tc.announcing(ctx) {
			return Request{}, ErrNotFound
		}
		poll := time.NewTimer(step)
		select {
		case <-settled:
		case <-poll.C:
		case <-deadline.C:
			poll.Stop()
			return Request{}, ErrNotFound
		case <-ctx.Done():
			poll.Stop()
			return Request{}, ctx.Err()
		}
		poll.Stop()
		req, err := tc.cfg.Store.HandoffByPost(ctx, tc.chat, post)
		if !errors.Is(err, ErrNotFound) {
			return req, err
		}
		step = min(2*step, 400*time.Millisecond)
	}
}

// announcing reports whether the store knows of an announcement in flight
// (false when it cannot tell).
func (tc *TeamChat) announcing(ctx context.Context) bool {
	a, ok := tc.cfg.Store.(AnnouncingReporter)
	if !ok {
		return false
	}
	busy, err := a.Announcing(ctx, tc.chat, tc.cfg.Now())
	if err != nil {
		tc.log.Warn("reading the announcements in flight failed", "err", err)
		return false
	}
	return busy
}
