package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// Errors of this adapter beyond the messenger ones.
var (
	// ErrConflict: getUpdates was refused with 409 because a webhook is set
	// or another process polls the same bot.
	ErrConflict = errors.New("telegram: conflict: a webhook is set or another instance is polling this bot")
	// ErrUnauthorized: the API refused the token (401, or 404 for a token it
	// does not know); a configuration error, not worth retrying.
	ErrUnauthorized = errors.New("telegram: the bot token was refused")
)

// APIError is a failed Bot API call. Its message never contains the token.
// errors.Is / errors.As see its class: messenger.ErrBlocked (403),
// messenger.ErrBadRequest (400; messenger.ErrTooLong, a bad request too,
// when Telegram says the text or caption is too long), *messenger.RateLimitError (429 with
// retry_after), messenger.ErrTransient (5xx, 429 without a hint, network
// failures, timeouts), ErrConflict (409), ErrUnauthorized (401/404), and the
// context error when the call's context ended.
type APIError struct {
	// Method is the Bot API method, e.g. "sendMessage".
	Method string
	// Code is Telegram's error_code; 0 when no API answer was read.
	Code int
	// Description is Telegram's description or the transport failure, redacted.
	Description string
	// RetryAfter is parameters.retry_after of a 429.
	RetryAfter time.Duration

	class error
	cause error
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("telegram: %s: %s", e.Method, e.Description)
	}
	return fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
}

// Unwrap exposes the error's class and the context error, if any.
func (e *APIError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.class, e.cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// tooLongDescriptions are the descriptions of Telegram's 400 answers to a
// text or caption over its limit (lower case). Telegram has no distinct
// error code for them, so this is the one place its words are read.
var tooLongDescriptions = []string{"message is too long", "message caption is too long", "text is too long", "message_too_long"}

// classify maps an API error code (and, for a 400, its description) to its
// class.
func classify(code int, description string, retryAfter time.Duration) error {
	switch {
	case code == 400 && tooLong(description):
		return messenger.ErrTooLong
	case code == 429 && retryAfter > 0:
		return &messenger.RateLimitError{RetryAfter: retryAfter}
	case code == 429, code >= 500:
		return messenger.ErrTransient
	case code == 403:
		return messenger.ErrBlocked
	case code == 400:
		return messenger.ErrBadRequest
	case code == 409:
		return ErrConflict
	case code == 401, code == 404:
		return ErrUnauthorized
	}
	return nil
}

// tooLong reports whether a 400's description says the text was too long.
func tooLong(description string) bool {
	d := strings.ToLower(description)
	for _, s := range tooLongDescriptions {
		if strings.Contains(d, s) {
			return true
		}
	}
	return false
}

// wrapError turns what tgbotapi returned for a call into an *APIError with
// the token redacted. ctx is the call's context.
func wrapError(ctx context.Context, method, token string, err error) error {
	if err == nil {
		return nil
	}
	if apiErr, ok := asTelegramError(err); ok {
		retry := time.Duration(apiErr.RetryAfter) * time.Second
		return &APIError{
			Method: method, Code: apiErr.Code, Description: redact(apiErr.Message, token),
			RetryAfter: retry, class: classify(apiErr.Code, apiErr.Message, retry),
		}
	}
	// Transport failures, timeouts and undecodable answers (an HTML gateway
	// page) are all worth a retry.
	e := &APIError{Method: method, Description: redact(err.Error(), token), class: messenger.ErrTransient}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.cause = ctxErr
	}
	return e
}

func asTelegramError(err error) (tgbotapi.Error, bool) {
	var p *tgbotapi.Error
	if errors.As(err, &p) {
		return *p, true
	}
	var v tgbotapi.Error
	if errors.As(err, &v) {
		return v, true
	}
	return tgbotapi.Error{}, false
}

// redactedToken replaces the token wherever it appears.
const redactedToken = "<redacted>"

// redact removes the token (raw, path- and query-escaped) from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	for _, t := range []string{token, url.PathEscape(token), url.QueryEscape(token)} {
		s = strings.ReplaceAll(s, t, redactedToken)
	}
	return s
}
