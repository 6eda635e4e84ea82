package messenger

import (
	"errors"
	"fmt"
	"time"
)

// Errors adapters translate platform failures into. Callers test them with
// errors.Is / errors.As.
var (
	// ErrBlocked: the client blocked the bot or cannot be messaged; permanent
	// for that client, never retry.
	ErrBlocked = errors.New("messenger: recipient blocked the bot or is unreachable")
	// ErrBadRequest: the platform rejected the message itself (format, length);
	// retrying the same message will not help.
	ErrBadRequest = errors.New("messenger: bad request")
	// ErrTooLong: the platform refused the message for its length (a text
	// or caption longer than it takes). It is a bad request too:
	// errors.Is(err, ErrBadRequest) holds, so a caller that only knows bad
	// requests treats it as one. Adapters tell it from the platform's answer
	// (Telegram words it only in its description, VK has error 914), so the
	// callers never read a platform's error text.
	ErrTooLong error = &subclassError{msg: "messenger: message too long", class: ErrBadRequest}
	// ErrTransient: a temporary platform failure (5xx, timeout, flood control
	// without a retry hint); retry with backoff.
	ErrTransient = errors.New("messenger: temporary platform failure")
	// ErrPermanent marks an update that can never be handled as it is: a
	// retry fails the same way (a value the CRM refuses for good). A
	// handler returns it wrapped once it has done what it could (answered
	// the client, recorded the update); the inbound pipeline then does not
	// retry the update, counts it and acknowledges it, so it never holds up
	// the updates behind it.
	ErrPermanent = errors.New("messenger: update failed permanently")
)

// subclassError is a sentinel that is also one of the broader classes
// (errors.Is sees both).
type subclassError struct {
	msg   string
	class error
}

// Error implements error.
func (e *subclassError) Error() string { return e.msg }

// Unwrap returns the broader class.
func (e *subclassError) Unwrap() error { return e.class }

// RateLimitError is a 429-style answer: the whole bot bucket must pause for RetryAfter.
type RateLimitError struct {
	RetryAfter time.Duration
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("messenger: rate limited, retry after %s", e.RetryAfter)
}

// Is makes errors.Is(err, ErrTransient) true for rate limits too.
func (e *RateLimitError) Is(target error) bool { return target == ErrTransient }

// OutageError is a delivery that failed because a backing service (the
// database, Redis) is down. Recovered is closed once that service answers
// again: an adapter then delivers again at once rather than at the end of
// its backoff. The outage itself is logged once where it is watched, so an
// adapter logs such a failure at debug level only.
type OutageError struct {
	// Recovered is closed when the service answers again.
	Recovered <-chan struct{}
	// Err is the delivery's failure.
	Err error
}

// Error implements error.
func (e *OutageError) Error() string { return e.Err.Error() }

// Unwrap returns the delivery's failure.
func (e *OutageError) Unwrap() error { return e.Err }

// Recovery returns the Recovered channel of the OutageError in err (errors.As,
// so also inside joined errors), or nil when err is no outage.
func Recovery(err error) <-chan struct{} {
	var o *OutageError
	if errors.As(err, &o) {
		return o.Recovered
	}
	return nil
}
