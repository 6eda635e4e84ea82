package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// SecretHeader carries the webhook secret in Telegram's requests.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler serves Telegram's webhook requests: POST only (else 405);
// the SecretHeader must equal Config.WebhookSecret, compared in constant time
// (else 401, without reading the body); the body is limited to
// Config.MaxBodyBytes (413 beyond) and must be one JSON update (400
// otherwise). The update is delivered to sink and answered 200 only after
// Deliver returns nil; a Deliver error answers 500 so Telegram sends the
// update again. Updates the adapter ignores (groups, channels...) get 200.
func (b *Bot) WebhookHandler(sink messenger.Sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !b.secretOK(r.Header.Get(SecretHeader)) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		u, status := b.readUpdate(w, r)
		if u == nil {
			http.Error(w, http.StatusText(status), status)
			return
		}
		b.state.Set(messenger.BotOK) // Telegram reaches the webhook
		if err := b.handleWebhook(r.Context(), sink, u); err != nil {
			level := slog.LevelError
			if messenger.Recovery(err) != nil {
				level = slog.LevelDebug // the outage is logged once where it is watched
			}
			b.log.Log(r.Context(), level, "webhook update not handled; Telegram will retry", "update_id", u.UpdateID, "err", err)
			http.Error(w, "update not handled", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// secretOK compares the request's secret with the configured one; a Bot
// without a secret accepts nothing.
func (b *Bot) secretOK(got string) bool {
	want := b.cfg.WebhookSecret
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// readUpdate reads the body as one update; on failure it returns nil and the
// HTTP status to answer.
func (b *Bot) readUpdate(w http.ResponseWriter, r *http.Request) (*tgbotapi.Update, int) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge
		}
		return nil, http.StatusBadRequest
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(body, &u); err != nil {
		b.log.Debug("webhook body is not an update", "err", err)
		return nil, http.StatusBadRequest
	}
	return &u, http.StatusOK
}

func (b *Bot) handleWebhook(ctx context.Context, sink messenger.Sink, u *tgbotapi.Update) error {
	bt := b.prepare(ctx, []tgbotapi.Update{*u})
	if len(bt.updates) == 0 {
		return nil
	}
	return b.deliver(ctx, sink, bt)
}

// SetWebhook registers Config.WebhookURL with Config.WebhookSecret and the
// update kinds the adapter handles. Updates pending from polling are kept.
func (b *Bot) SetWebhook(ctx context.Context) error {
	if b.cfg.WebhookURL == "" {
		return errors.New("telegram: SetWebhook: no WebhookURL configured")
	}
	allowed, err := json.Marshal(allowedUpdates)
	if err != nil {
		return fmt.Errorf("telegram: SetWebhook: %w", err)
	}
	p := tgbotapi.Params{"url": b.cfg.WebhookURL, "secret_token": b.cfg.WebhookSecret, "allowed_updates": string(allowed)}
	err = b.callParams(ctx, "setWebhook", p, nil)
	switch {
	case err == nil:
		b.state.Set(messenger.BotOK)
	case errors.Is(err, ErrUnauthorized):
		b.state.Set(messenger.BotUnauthorized)
	}
	return err
}

// DeleteWebhook removes the webhook (keeping pending updates), so Run can
// poll.
func (b *Bot) DeleteWebhook(ctx context.Context) error {
	return b.callParams(ctx, "deleteWebhook", tgbotapi.Params{}, nil)
}
