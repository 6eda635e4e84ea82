package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	// Embedded timezone database: DEFAULT_TIMEZONE and the clients' own
	// timezones resolve in images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/chathub/chathub/internal/broadcast"
)

// Broadcast configures the broadcaster `chathub run` runs (the settings of
// the management API and `chathub broadcast` dry runs too).
type Broadcast struct {
	// Workers (BROADCAST_WORKERS) is the number of sending goroutines per
	// process. Default 8, at most 256.
	Workers int
	// FrequencyCap (FREQUENCY_CAP, Go duration; "0" or "off": none) allows at
	// most one broadcast per client within it. Default 168h (7 days).
	FrequencyCap time.Duration
	// QuietHours (QUIET_HOURS, "HH:MM-HH:MM" in the client's local time, or
	// "off") is the daily window without broadcasts. Default "21:00-09:00".
	QuietHours string
	// DefaultTimezone (DEFAULT_TIMEZONE, an IANA name) is the timezone of
	// clients whose own is unknown. Default "Europe/Moscow".
	DefaultTimezone string
	// Lease (BROADCAST_LEASE, Go duration, 5s..1h) is how long a claimed
	// ledger row belongs to the process that claimed it: a process that dies
	// mid-send leaves its rows to be taken over after it, and a worker waits
	// on the bot's budget and starts sends in the first half of it only
	// (claiming no more than its share of that half's sends, so any lease in
	// range keeps the budget's rate). Default 2m.
	Lease time.Duration
}

// Defaults of Broadcast and of the Telegram broadcast budget.
const (
	DefaultBroadcastWorkers = broadcast.DefaultWorkers
	DefaultFrequencyCap     = broadcast.DefaultFrequencyCap
	DefaultQuietHours       = broadcast.DefaultQuietHours
	DefaultTimezone         = "Europe/Moscow"
	DefaultBroadcastLease   = broadcast.DefaultLease
	// MinBroadcastLease is the shortest BROADCAST_LEASE: a send may run for
	// a quarter of the lease before it is cut and retried, and a cut send
	// that Telegram did deliver is delivered again (the Bot API has no
	// idempotency key), so the lease leaves a send at least 1.25 s, several
	// times a slow Bot API answer.
	MinBroadcastLease = 5 * time.Second
	// DefaultTelegramRPS is Telegram's limit on a bot's messages per second.
	DefaultTelegramRPS = 30
	// MaxTelegramRPS is the most TELEGRAM_RPS accepts without paid broadcasts.
	MaxTelegramRPS = 30
	// PaidBroadcastRPS is the bot's budget with TELEGRAM_PAID_BROADCAST on
	// (Telegram's limit for paid broadcasts).
	PaidBroadcastRPS = 1000
)

// BroadcastRPS is the Telegram bot's broadcast budget in messages per
// second: PaidBroadcastRPS with paid broadcasts, else RequestsPerSecond.
func (t Telegram) BroadcastRPS() int {
	if t.PaidBroadcast {
		return PaidBroadcastRPS
	}
	return t.RequestsPerSecond
}

// Location loads DefaultTimezone.
func (b Broadcast) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(b.DefaultTimezone)
	if err != nil || b.DefaultTimezone == "" || strings.EqualFold(b.DefaultTimezone, "local") {
		return nil, fmt.Errorf("DEFAULT_TIMEZONE must be an IANA timezone name such as Europe/Moscow or Asia/Yekaterinburg, got %q", b.DefaultTimezone)
	}
	return loc, nil
}

// readBroadcast reads the broadcast settings and the Telegram budget.
func readBroadcast(getenv func(string) string, c *Config) []error {
	errs := []error{
		intVar(getenv, "BROADCAST_WORKERS", &c.Broadcast.Workers),
		intVar(getenv, "TELEGRAM_RPS", &c.Telegram.RequestsPerSecond),
		boolVar(getenv, "TELEGRAM_PAID_BROADCAST", &c.Telegram.PaidBroadcast),
		durationVar(getenv, "BROADCAST_LEASE", &c.Broadcast.Lease),
	}
	if v := strings.TrimSpace(getenv("FREQUENCY_CAP")); v != "" {
		if strings.EqualFold(v, "off") {
			c.Broadcast.FrequencyCap = 0
		} else {
			errs = append(errs, durationVar(getenv, "FREQUENCY_CAP", &c.Broadcast.FrequencyCap))
		}
	}
	if v := strings.TrimSpace(getenv("QUIET_HOURS")); v != "" {
		c.Broadcast.QuietHours = v
	}
	if v := strings.TrimSpace(getenv("DEFAULT_TIMEZONE")); v != "" {
		c.Broadcast.DefaultTimezone = v
	}
	return errs
}

func boolVar(getenv func(string) string, name string, dst *bool) error {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s=%q: use true or false", name, v)
	}
	*dst = b
	return nil
}

// validateBroadcast checks the broadcast settings and the Telegram budget.
func (c *Config) validateBroadcast() error {
	var errs []error
	if c.Broadcast.Workers < 1 || c.Broadcast.Workers > 256 {
		errs = append(errs, fmt.Errorf("BROADCAST_WORKERS must be 1..256 sending goroutines, got %d", c.Broadcast.Workers))
	}
	if l := c.Broadcast.Lease; l < MinBroadcastLease || l > time.Hour {
		errs = append(errs, fmt.Errorf("BROADCAST_LEASE must be 5s..1h (how long a claimed row belongs to its process), got %s", l))
	}
	if c.Broadcast.FrequencyCap < 0 {
		errs = append(errs, fmt.Errorf("FREQUENCY_CAP must be a positive duration such as 168h, or off, got %s", c.Broadcast.FrequencyCap))
	}
	if _, err := broadcast.ParseQuietHours(c.Broadcast.QuietHours); err != nil {
		errs = append(errs, fmt.Errorf("QUIET_HOURS must be HH:MM-HH:MM (e.g. 21:00-09:00) or off: %w", err))
	}
	if _, err := c.Broadcast.Location(); err != nil {
		errs = append(errs, err)
	}
	if r := c.Telegram.RequestsPerSecond; r < 1 || r > MaxTelegramRPS {
		errs = append(errs, fmt.Errorf("TELEGRAM_RPS must be 1..%d messages per second (Telegram's limit for a bot; "+
			"set TELEGRAM_PAID_BROADCAST=true for %d/s paid broadcasts), got %d", MaxTelegramRPS, PaidBroadcastRPS, r))
	}
	return errors.Join(errs...)
}
