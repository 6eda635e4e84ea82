package telegram

import (
	"context"
	"log/slog"
)

// redactingHandler removes the bot token from every log record's message and
// attribute values before passing it on: a last line of defence, since the
// adapter already logs only redacted errors.
type redactingHandler struct {
	inner slog.Handler
	token string
}

// newRedactingLogger wraps l so that the token never reaches its output.
func newRedactingLogger(l *slog.Logger, token string) *slog.Logger {
	return slog.New(&redactingHandler{inner: l.Handler(), token: token})
}

// Enabled implements slog.Handler.
func (h *redactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message, h.token), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactingHandler{inner: h.inner.WithAttrs(clean), token: h.token}
}

// WithGroup implements slog.Handler.
func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{inner: h.inner.WithGroup(name), token: h.token}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String(), h.token))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, redact(err.Error(), h.token))
		}
		return slog.String(a.Key, redact(v.String(), h.token))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
