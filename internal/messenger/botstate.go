package messenger

import "sync/atomic"

// BotState is how a bot's intake last found its platform; /readyz reports
// it per bot.
type BotState string

// Bot states.
const (
	// BotStarting: the intake has had no answer from the platform yet.
	BotStarting BotState = "starting"
	// BotOK: the platform answered the intake's last request.
	BotOK BotState = "ok"
	// BotUnauthorized: the platform refused the token (Telegram 401/404, VK
	// errors 5, 27, 28); the intake has stopped: fix the token and restart.
	BotUnauthorized BotState = "unauthorized"
	// BotConflict: another consumer takes the bot's updates (Telegram 409: a
	// webhook is set, or another process polls); the intake has stopped.
	BotConflict BotState = "conflict"
	// BotUnreachable: the platform does not answer (network failure, 5xx,
	// timeout); the intake keeps retrying.
	BotUnreachable BotState = "unreachable"
	// BotFailed: the platform refused the intake with another permanent
	// error (e.g. a wrong community id); the intake has stopped.
	BotFailed BotState = "failed"
)

// BotStateCell holds a bot's state for concurrent readers; the zero value
// reads BotStarting.
type BotStateCell struct{ v atomic.Value }

// Set records s.
func (c *BotStateCell) Set(s BotState) { c.v.Store(s) }

// Get returns the state last Set, BotStarting before any.
func (c *BotStateCell) Get() BotState {
	if s, ok := c.v.Load().(BotState); ok {
		return s
	}
	return BotStarting
}
