package vk

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
)

// rateLimitPause is how long a rate-limit answer (6, 9, 29) pauses the
// bucket: VK gives no hint, and its limits are per second.
const rateLimitPause = time.Second

// classify maps a VK API error code to the messenger error it means, or nil
// when the code has no general meaning.
func classify(code api.ErrorType) error {
	switch code {
	case api.ErrTooMany, api.ErrFlood, api.ErrRateLimit: // 6, 9, 29
		return &messenger.RateLimitError{RetryAfter: rateLimitPause}
	case api.ErrServer: // 10
		return messenger.ErrTransient
	case api.ErrMessagesUserBlocked, api.ErrMessagesDenySend, api.ErrMessagesPrivacy, // 900, 901, 902
		api.ErrUserDeleted, api.ErrMessagesContactNotFound: // 18, 936
		return messenger.ErrBlocked
	case api.ErrMessagesTooLongMessage: // 914
		return messenger.ErrTooLong // a bad request too
	case api.ErrMessagesKeyboardInvalid, // 911
		api.ErrMessagesCantUseIntent, api.ErrMessagesLimitIntent, api.ErrParam: // 943, 944, 100
		return messenger.ErrBadRequest
	}
	return nil
}

// ErrorCode returns the VK API error code inside err, or 0 when err carries none.
func ErrorCode(err error) int {
	var aerr *api.Error
	if errors.As(err, &aerr) {
		return int(aerr.Code)
	}
	return 0
}

// opError is an adapter error: a redacted message, and the messenger
// sentinel plus the original cause for errors.Is / errors.As.
type opError struct {
	msg  string
	errs []error
}

// Error returns the redacted message.
func (e *opError) Error() string { return e.msg }

// Unwrap exposes the messenger sentinel (if any) and the cause.
func (e *opError) Unwrap() []error { return e.errs }

// wrap gives err the operation's context and its messenger meaning: API
// errors by code, network and decoding failures as ErrTransient, the
// caller's cancellation as itself. The token never reaches the message.
func (b *Bot) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var kind error
	var aerr *api.Error
	switch {
	case errors.As(err, &aerr):
		kind = classify(aerr.Code)
		op = fmt.Sprintf("%s (code %d)", op, aerr.Code)
	case ctx.Err() != nil:
		kind = ctx.Err()
	default:
		kind = messenger.ErrTransient
	}
	errs := []error{err}
	if kind != nil {
		errs = []error{kind, err}
	}
	return &opError{msg: redact(b.cfg.Token, "vk: "+op+": "+err.Error()), errs: errs}
}

// secretParam matches URL parameters that carry secrets.
var secretParam = regexp.MustCompile(`(access_token|key)=[^&\s"']+`)

// minRedactLen: shorter "tokens" (only in tests; real ones are 85+
// characters) are not replaced literally, which would mangle the text.
const minRedactLen = 8

// redact removes the token and secret URL parameters from s.
func redact(token, s string) string {
	if len(token) >= minRedactLen {
		s = strings.ReplaceAll(s, token, "***")
	}
	return secretParam.ReplaceAllString(s, "${1}=***")
}

// redactErr returns err with a redacted message (and no unwrapping: the
// original may print the token).
func redactErr(token string, err error) error {
	if err == nil {
		return nil
	}
	return errors.New(redact(token, err.Error()))
}
