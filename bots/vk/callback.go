package vk

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/chathub/chathub/internal/messenger"
)

// CallbackHandler serves the Callback API: VK POSTs one event per request.
//
//   - in Bots Long Poll mode every request gets 404;
//   - only POST (else 405); a body over MaxBodyBytes gets 413, malformed JSON 400;
//   - an event for another community gets 400;
//   - "confirmation" is answered with the ConfirmationCode (plain text);
//   - any other event must carry CallbackSecret (compared in constant time),
//     else 401;
//   - the event is translated and delivered to sink; "ok" is answered only
//     after Deliver returned nil, and a Deliver error gets 500 so VK sends the
//     event again (the sink dedupes by Update.ID, the event_id).
func (b *Bot) CallbackHandler(sink messenger.Sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.serveCallback(w, r, sink)
	})
}

func (b *Bot) serveCallback(w http.ResponseWriter, r *http.Request, sink messenger.Sink) {
	if !b.cfg.CallbackMode() {
		http.Error(w, "callback API is not configured", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ev, status := b.readEvent(w, r)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if ev.Type == events.EventConfirmation {
		writeText(w, b.cfg.ConfirmationCode)
		return
	}
	if subtle.ConstantTimeCompare([]byte(ev.Secret), []byte(b.cfg.CallbackSecret)) != 1 {
		b.log.Warn("callback event with a wrong secret refused", "type", string(ev.Type), "remote", r.RemoteAddr)
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	b.state.Set(messenger.BotOK) // VK reaches the callback
	if u := b.translate(r.Context(), []events.GroupEvent{ev}); len(u) > 0 {
		if err := sink.Deliver(r.Context(), u); err != nil {
			level := slog.LevelWarn
			if messenger.Recovery(err) != nil {
				level = slog.LevelDebug // the outage is logged once where it is watched
			}
			b.log.Log(r.Context(), level, "delivering a callback event failed; VK will retry", "event", ev.EventID,
				"err", redactErr(b.cfg.Token, err))
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
	}
	writeText(w, "ok")
}

// readEvent reads and decodes the body; a non-zero status refuses it.
func (b *Bot) readEvent(w http.ResponseWriter, r *http.Request) (events.GroupEvent, int) {
	var ev events.GroupEvent
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		b.log.Warn("callback body too large", "limit", b.cfg.MaxBodyBytes)
		return ev, http.StatusRequestEntityTooLarge
	case err != nil:
		return ev, http.StatusBadRequest
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		b.log.Warn("malformed callback body", "bytes", len(body))
		return ev, http.StatusBadRequest
	}
	if ev.GroupID != b.GroupID() {
		b.log.Warn("callback event for another community refused", "group", ev.GroupID)
		return ev, http.StatusBadRequest
	}
	return ev, 0
}

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s)
}
