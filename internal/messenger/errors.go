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
