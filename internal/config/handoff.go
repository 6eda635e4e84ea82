package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/handoff"
)

// Handoff configures the live hand-off to managers (internal/handoff) and
// the conversation record.
type Handoff struct {
	// SLA (HANDOFF_SLA, Go duration, 1m..24h) is how long a client may wait
	// for a manager's answer: longer shows red in the inbox. Default 10m.
	SLA time.Duration
	// Idle (HANDOFF_IDLE, Go duration, 10m..720h) gives a hand-off back to
	// the bot after this long without a message either way. Default 24h.
	Idle time.Duration
	// Hours (HANDOFF_HOURS) are the managers' working hours in
	// DEFAULT_TIMEZONE, e.g. "mon-fri 09:00-18:00, sat 10:00-15:00"
	// (handoff.ParseHours); outside them the bot says when managers are
	// back. Default "": always.
	Hours string
	// Wait (HANDOFF_WAIT, Go duration, 1m..72h) is the wait the bot promises
	// when it acknowledges a request. Default: SLA.
	Wait time.Duration
	// Keywords (HANDOFF_KEYWORDS, a comma-separated list, or "off") are
	// the client's phrases that ask for a person. Default
	// DefaultHandoffKeywords.
	Keywords []string
	// Retention (TRANSCRIPT_RETENTION, days such as "365d" or a Go
	// duration, 1d..3650d) keeps the conversation record this long. Default
	// 365 days.
	Retention time.Duration
}

// Defaults of Handoff.
const (
	DefaultHandoffSLA          = 10 * time.Minute
	DefaultHandoffIdle         = 24 * time.Hour
	DefaultTranscriptRetention = 365 * 24 * time.Hour
	// MaxHandoffKeywords and MaxHandoffKeywordLen bound HANDOFF_KEYWORDS.
	MaxHandoffKeywords   = 100
	MaxHandoffKeywordLen = 100
)

// DefaultHandoffKeywords ask for a person in so many words. Single words
// such as «менеджер» or «оператор» are left out: they are ordinary answers
// to a questionnaire («Кем вы работаете?» — «менеджер»).
var DefaultHandoffKeywords = []string{
	"позовите менеджера", "позвать менеджера", "связаться с менеджером", "соедините с менеджером",
	"хочу поговорить с человеком", "живой человек", "позовите оператора",
}

func defaultHandoff() Handoff {
	return Handoff{
		SLA: DefaultHandoffSLA, Idle: DefaultHandoffIdle, Wait: DefaultHandoffSLA,
		Keywords: append([]string(nil), DefaultHandoffKeywords...), Retention: DefaultTranscriptRetention,
	}
}

// readHandoff reads the hand-off settings.
func readHandoff(getenv func(string) string, c *Config) []error {
	errs := []error{
		durationVar(getenv, "HANDOFF_SLA", &c.Handoff.SLA),
		durationVar(getenv, "HANDOFF_IDLE", &c.Handoff.Idle),
	}
	if strings.TrimSpace(getenv("HANDOFF_WAIT")) == "" {
		c.Handoff.Wait = c.Handoff.SLA
	} else {
		errs = append(errs, durationVar(getenv, "HANDOFF_WAIT", &c.Handoff.Wait))
	}
	if v := strings.TrimSpace(getenv("HANDOFF_HOURS")); v != "" {
		c.Handoff.Hours = v
	}
	if v := strings.TrimSpace(getenv("HANDOFF_KEYWORDS")); v != "" {
		c.Handoff.Keywords = parseKeywords(v)
	}
	if v := strings.TrimSpace(getenv("TRANSCRIPT_RETENTION")); v != "" {
		d, err := parseDays(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRANSCRIPT_RETENTION=%q: %w", v, err))
		} else {
			c.Handoff.Retention = d
		}
	}
	return errs
}

// parseKeywords splits a comma-separated list ("off" or "none": none),
// trimmed, lower-cased, without empties and repeats.
func parseKeywords(v string) []string {
	if strings.EqualFold(v, "off") || strings.EqualFold(v, "none") {
		return []string{}
	}
	out := []string{}
	seen := map[string]bool{}
	for _, k := range strings.Split(v, ",") {
		k = strings.ToLower(strings.Join(strings.Fields(k), " "))
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// parseDays reads "365d" (whole days) or a Go duration such as 8760h.
func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, errors.New("not a number of days like 365d, or a duration like 8760h")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("not a number of days like 365d, or a duration like 8760h")
	}
	return d, nil
}

// AnswerWait is the wait the bot promises: Wait, or SLA when Wait is unset
// (a Config built in code rather than by FromEnv).
func (h Handoff) AnswerWait() time.Duration {
	if h.Wait > 0 {
		return h.Wait
	}
	return h.SLA
}

// HandoffHours parses HANDOFF_HOURS in DEFAULT_TIMEZONE.
func (c *Config) HandoffHours() (handoff.Hours, error) {
	loc, err := c.Broadcast.Location()
	if err != nil {
		loc = time.UTC // reported by validateBroadcast
	}
	h, err := handoff.ParseHours(c.Handoff.Hours, loc)
	if err != nil {
		return handoff.Hours{}, fmt.Errorf("HANDOFF_HOURS must be days and times such as \"mon-fri 09:00-18:00, sat 10:00-15:00\" (empty: always): %w", err)
	}
	return h, nil
}

// validateHandoff checks the hand-off settings.
func (c *Config) validateHandoff() error {
	h := c.Handoff
	var errs []error
	if h.SLA < time.Minute || h.SLA > 24*time.Hour {
		errs = append(errs, fmt.Errorf("HANDOFF_SLA must be 1m..24h (how long a client may wait for a manager), got %s", h.SLA))
	}
	if h.Idle < 10*time.Minute || h.Idle > 720*time.Hour {
		errs = append(errs, fmt.Errorf("HANDOFF_IDLE must be 10m..720h (a quiet hand-off then goes back to the bot), got %s", h.Idle))
	} else if h.Idle <= h.SLA {
		errs = append(errs, fmt.Errorf("HANDOFF_IDLE (%s) must be longer than HANDOFF_SLA (%s)", h.Idle, h.SLA))
	}
	if h.Wait < time.Minute || h.Wait > 72*time.Hour {
		errs = append(errs, fmt.Errorf("HANDOFF_WAIT must be 1m..72h (the wait the bot promises), got %s", h.Wait))
	}
	if _, err := c.HandoffHours(); err != nil {
		errs = append(errs, err)
	}
	if len(h.Keywords) > MaxHandoffKeywords {
		errs = append(errs, fmt.Errorf("HANDOFF_KEYWORDS has %d phrases, at most %d", len(h.Keywords), MaxHandoffKeywords))
	}
	for _, k := range h.Keywords {
		if n := len([]rune(k)); n > MaxHandoffKeywordLen {
			errs = append(errs, fmt.Errorf("HANDOFF_KEYWORDS: a phrase is %d characters, at most %d", n, MaxHandoffKeywordLen))
			break
		}
	}
	if d := 24 * time.Hour; h.Retention < d || h.Retention > 3650*d {
		errs = append(errs, fmt.Errorf("TRANSCRIPT_RETENTION must be 1d..3650d (how long the conversation record is kept), got %s", formatDays(h.Retention)))
	}
	return errors.Join(errs...)
}

// formatDays renders d in whole days when it is some ("365d").
func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
