// Package dispatch is the inbound pipeline between the platform adapters and
// the dialog handler: it dedupes updates by platform update id, queues each
// on its chat and lets N workers take the chats in turn (one chat's updates
// in order, many chats in parallel, a slow chat holding up only itself) with
// the queued updates bounded, recovers panics, retries failures with backoff
// without acknowledging the update, acknowledges without retrying an update
// that failed for good (messenger.ErrPermanent), parks an update whose chat
// another process keeps (Parker) so the other chats flow on, and drains on
// shutdown.
package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// Handler handles one update (dialog.Handler satisfies it).
type Handler interface {
	Handle(ctx context.Context, upd *messenger.Update) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, upd *messenger.Update) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, upd *messenger.Update) error { return f(ctx, upd) }

// Middleware wraps a Handler (metrics, logging, tracing).
type Middleware func(Handler) Handler

// Chain applies middlewares to h; the first one is the outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Gate admits one update of a chat at a time, across processes, and
// remembers which updates were handled (internal/store/redis implements it).
type Gate interface {
	// Enter waits until ctx ends (or its WaitLimit passes) for the chat's
	// turn, held for at most ttl.
	// dup reports an update (non-empty updateID) handled before: nothing is
	// then held and leave is nil. Otherwise leave must be called once;
	// handled true records the update as handled (a redelivery is then a
	// duplicate) and confirms the replies the handler recorded for it. An
	// error of leave wrapping ErrTurnUnsaved means the update is not done.
	Enter(ctx context.Context, chat messenger.ChatKey, updateID string, ttl time.Duration) (leave func(ctx context.Context, handled bool) error, dup bool, err error)
}

// WithWaitLimit bounds how long a Gate's Enter may wait for a chat that
// another holder keeps: past d it gives up with ErrChatBusy. Only the wait
// is bounded; the Gate's own round trips run under ctx, so a slow store is
// not mistaken for a busy chat (nor does it cut a round trip in half and
// leave a lock behind).
func WithWaitLimit(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, waitLimitKey{}, d)
}

// WaitLimit returns the wait bound WithWaitLimit put in ctx.
func WaitLimit(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(waitLimitKey{}).(time.Duration)
	return d, ok
}

type waitLimitKey struct{}

// ErrTurnUnsaved is wrapped by a Gate's leave that could not write what
// the turn handed it to write with the end of the turn (the chat's next
// state: dialog.TurnStateStore): the update's effects are not all recorded
// yet, so the pipeline does not count it handled and tries it again. The
// Gate keeps the unfinished leave and completes it before the chat's next
// turn in this process, which then finds the update handled.
var ErrTurnUnsaved = errors.New("dispatch: the turn's state was not written")

// ErrChatBusy is wrapped by a Gate's Enter whose wait ended (its ctx or its
// WaitLimit) while
// another holder had the chat, or at once when the chat has parked updates
// that must go first.
var ErrChatBusy = errors.New("dispatch: the chat is busy")

// Parker is a Gate that can park an update: keep it durably behind the
// chat's turn, so the update counts as taken (the adapter acknowledges it)
// and is handled once the chat is free, while the updates of other chats
// flow on (internal/store/redis implements it). Without parking a chat held
// by a process that died pins a long-polling adapter's offset: every chat
// would wait for that one.
type Parker interface {
	Gate
	// Park stores upd (it has an id) behind the chat's parked updates,
	// unless the chat is free with nothing parked (parked false: enter as
	// usual) or the update was handled before (dup).
	Park(ctx context.Context, upd *messenger.Update) (parked, dup bool, err error)
	// ParkedChats returns up to n chats that have parked updates.
	ParkedChats(ctx context.Context, n int) ([]messenger.ChatKey, error)
	// EnterParked takes the chat's turn for its oldest parked update when
	// the chat is free (or its holder stopped) and returns the update; nil
	// when nothing is parked, and busy when another holder has the chat.
	// leave is as for Enter; handled true also removes the update from the
	// parked ones. An update handled before is removed and the next taken.
	EnterParked(ctx context.Context, chat messenger.ChatKey, ttl time.Duration) (upd *messenger.Update, leave func(ctx context.Context, handled bool) error, busy bool, err error)
}
