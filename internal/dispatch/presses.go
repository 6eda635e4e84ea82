package dispatch

import (
	"context"

	"github.com/chathub/chathub/internal/messenger"
)

// MarkPresses is a Middleware that has a button press marked by its
// adapter (messenger.PressMarker) once the press is handled, in the
// process that handles it: markers returns the PressMarker of a chat's
// bot, nil when that bot marks nothing. Every attempt is bracketed alone
// (BeginPress before the handler, end after, handled when it returned
// nil), so the adapter sees the replies that attempt sent: a press whose
// replies edited the pressed message is not marked over them.
func MarkPresses(markers func(messenger.ChatKey) messenger.PressMarker) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, upd *messenger.Update) error {
			if upd.Kind != messenger.KindButton || len(upd.PressMark) == 0 {
				return next.Handle(ctx, upd)
			}
			m := markers(upd.Chat)
			if m == nil {
				return next.Handle(ctx, upd)
			}
			end := m.BeginPress(upd)
			handled := false
			defer func() { end(handled) }() // a panic marks nothing
			err := next.Handle(ctx, upd)
			handled = err == nil
			return err
		})
	}
}
