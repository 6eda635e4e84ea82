package segment

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// maxAgo caps ago(...) at about a hundred years.
const maxAgo = 100 * 365 * 24 * time.Hour

// timeKind says how a timeVal is resolved against the evaluation time.
type timeKind int

const (
	tvNow timeKind = iota // now()
	tvAgo                 // ago("30d"): now minus d
	tvAbs                 // date("2026-01-01"): a fixed instant
)

// timeVal is a timestamp operand, resolved when the segment is rendered or
// matched so that a saved segment means "the last 30 days" every time.
type timeVal struct {
	kind timeKind
	d    time.Duration
	t    time.Time
}

// at resolves v at now.
func (v timeVal) at(now time.Time) time.Time {
	switch v.kind {
	case tvAgo:
		return now.Add(-v.d)
	case tvAbs:
		return v.t
	}
	return now
}

// agoUnits are the units ago(...) accepts.
var agoUnits = map[byte]time.Duration{
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// ParseDuration reads a duration as ago(...) takes it: numbers with units
// m (minutes), h (hours), d (days), w (weeks), e.g. "30d", "12h" or
// "1d12h", at most about a hundred years. internal/funnel reads its
// periods with it.
func ParseDuration(s string) (time.Duration, error) {
	bad := errors.New(`write a duration as a number and a unit: m (minutes), h (hours), d (days), w (weeks), e.g. "30d", "12h", "2w" or "1d12h"`)
	if s == "" {
		return 0, bad
	}
	var total time.Duration
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j == len(s) || j-i > 6 {
			return 0, bad
		}
		unit, ok := agoUnits[s[j]]
		if !ok {
			return 0, bad
		}
		n, _ := strconv.Atoi(s[i:j])
		total += time.Duration(n) * unit
		if total > maxAgo {
			return 0, errors.New("a duration of at most 100 years (5214w)")
		}
		i = j + 1
	}
	return total, nil
}

// parseDate reads "2006-01-02" (dateOnly) or an RFC 3339 timestamp such as
// "2026-01-01T09:00:00+03:00", in UTC. Years run from 1000 to 9999.
func parseDate(s string) (t time.Time, dateOnly bool, err error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		t, dateOnly = d, true
	} else if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = ts.UTC().Truncate(time.Microsecond)
	} else {
		return time.Time{}, false, fmt.Errorf(`write a date as "2026-01-31" or a timestamp as "2026-01-31T09:00:00+03:00", not %q`, s)
	}
	if t.Year() < 1000 || t.Year() > 9999 {
		return time.Time{}, false, fmt.Errorf("a year from 1000 to 9999, not %d", t.Year())
	}
	return t, dateOnly, nil
}
