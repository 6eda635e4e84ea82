// Package dispatch is the inbound pipeline between the platform adapters and
// the dialog handler: it dedupes updates by platform update id, routes each to
// one of N workers by chat (one chat's updates in order, many chats in
// parallel) over bounded queues, recovers panics, retries failures with
// backoff without acknowledging the update, and drains on shutdown.
package dispatch

import (
	"context"

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

// Deduper remembers which platform updates were handled, in two phases: a
// claim while handling (which expires, so an update whose process died is
// handled again on redelivery) and a completion afterwards
// (internal/store/redis implements it).
type Deduper interface {
	// ClaimUpdate returns true when this caller is the first to take the
	// update, false when it was already handled, and an error when it cannot
	// tell or another handler still holds it (then it must not be acknowledged).
	ClaimUpdate(ctx context.Context, platform messenger.Platform, updateID string) (bool, error)
	// CompleteUpdate records that a claimed update was handled.
	CompleteUpdate(ctx context.Context, platform messenger.Platform, updateID string) error
	// ReleaseUpdate forgets a claim so a redelivery is handled again.
	ReleaseUpdate(ctx context.Context, platform messenger.Platform, updateID string) error
}

// Locker serialises one chat's updates across processes
// (internal/store/redis implements it with a Redis lock).
type Locker interface {
	// LockChat waits for the chat's lock until ctx ends; the func releases it.
	LockChat(ctx context.Context, key messenger.ChatKey) (func(), error)
}
