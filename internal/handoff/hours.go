package handoff

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hours are the managers' working hours (HANDOFF_HOURS) in a timezone:
// when the bot acknowledges a request outside them it says when managers
// are back. The zero value is always open.
type Hours struct {
	loc *time.Location
	// days[time.Weekday] are the day's open spans, in minutes since
	// midnight, [from, to).
	days [7][]span
	set  bool
}

type span struct{ from, to int }

const dayMinutes = 24 * 60

// dayNames are the accepted names of the week's days (English and
// Russian abbreviations), by time.Weekday.
var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"вс": time.Sunday, "пн": time.Monday, "вт": time.Tuesday, "ср": time.Wednesday,
	"чт": time.Thursday, "пт": time.Friday, "сб": time.Saturday,
}

var shortDays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseHours reads working hours: comma-separated entries of days and a
// time range, e.g. "mon-fri 09:00-18:00, sat 10:00-15:00". Days are mon
// tue wed thu fri sat sun (or пн вт ср чт пт сб вс), one or a range
// ("fri-mon" wraps over the weekend), or "daily"; times are HH:MM, the
// end may be 24:00, and an end before the start runs past midnight into
// the next day. An empty spec is always open. Times are read in loc (UTC
// when nil).
func ParseHours(spec string, loc *time.Location) (Hours, error) {
	if loc == nil {
		loc = time.UTC
	}
	h := Hours{loc: loc}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return h, nil
	}
	for _, entry := range strings.Split(spec, ",") {
		if err := h.addEntry(strings.TrimSpace(entry)); err != nil {
			return Hours{}, err
		}
	}
	for d := range h.days {
		slices.SortFunc(h.days[d], func(a, b span) int { return cmp.Or(a.from-b.from, a.to-b.to) })
	}
	h.set = true
	return h, nil
}

func (h *Hours) addEntry(entry string) error {
	fields := strings.Fields(entry)
	if len(fields) != 2 {
		return fmt.Errorf("working hours %q: want days and a time range, e.g. \"mon-fri 09:00-18:00\"", entry)
	}
	days, err := parseDays(fields[0])
	if err != nil {
		return fmt.Errorf("working hours %q: %w", entry, err)
	}
	from, to, err := parseRange(fields[1])
	if err != nil {
		return fmt.Errorf("working hours %q: %w", entry, err)
	}
	for _, d := range days {
		if to > from {
			h.days[d] = append(h.days[d], span{from, to})
			continue
		}
		// Past midnight: the rest of the day, then the next morning.
		h.days[d] = append(h.days[d], span{from, dayMinutes})
		if to > 0 {
			next := (d + 1) % 7
			h.days[next] = append(h.days[next], span{0, to})
		}
	}
	return nil
}

// parseDays reads "mon", "mon-fri" or "daily".
func parseDays(s string) ([]time.Weekday, error) {
	s = strings.ToLower(s)
	if s == "daily" || s == "ежедневно" {
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
	}
	first, last, isRange := strings.Cut(s, "-")
	a, ok := dayNames[first]
	if !ok {
		return nil, fmt.Errorf("unknown day %q (use mon tue wed thu fri sat sun, a range such as mon-fri, or daily)", first)
	}
	if !isRange {
		return []time.Weekday{a}, nil
	}
	b, ok := dayNames[last]
	if !ok {
		return nil, fmt.Errorf("unknown day %q (use mon tue wed thu fri sat sun, a range such as mon-fri, or daily)", last)
	}
	var out []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		out = append(out, d)
		if d == b {
			return out, nil
		}
	}
}

// parseRange reads "HH:MM-HH:MM" into minutes since midnight.
func parseRange(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("time range %q: want HH:MM-HH:MM", s)
	}
	if from, err = parseClock(a); err != nil {
		return 0, 0, err
	}
	if to, err = parseClock(b); err != nil {
		return 0, 0, err
	}
	switch {
	case from == dayMinutes:
		return 0, 0, fmt.Errorf("time range %q: a start of 24:00 is the next day's 00:00", s)
	case from == to:
		return 0, 0, fmt.Errorf("time range %q is empty (use 00:00-24:00 for the whole day)", s)
	}
	return from, to, nil
}

// parseClock reads "HH:MM" (00:00..24:00) into minutes since midnight.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, fmt.Errorf("time %q: want HH:MM such as 09:00", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err := errors.Join(err1, err2); err != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q: want HH:MM from 00:00 to 24:00", s)
	}
	return h*60 + m, nil
}

// Always reports whether the hours are always open (no hours set).
func (h Hours) Always() bool { return !h.set }

// Location is the timezone the hours are read in.
func (h Hours) Location() *time.Location {
	if h.loc == nil {
		return time.UTC
	}
	return h.loc
}

// Open reports whether managers work at t.
func (h Hours) Open(t time.Time) bool {
	if !h.set {
		return true
	}
	t = t.In(h.Location())
	m := t.Hour()*60 + t.Minute()
	for _, s := range h.days[t.Weekday()] {
		if s.from <= m && m < s.to {
			return true
		}
	}
	return false
}

// NextOpen returns t when managers work at t, else the next time they
// start (in the hours' timezone).
func (h Hours) NextOpen(t time.Time) time.Time {
	if h.Open(t) {
		return t
	}
	loc := h.Location()
	lt := t.In(loc)
	var best time.Time
	for d := 0; d <= 7; d++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+d, 0, 0, 0, 0, loc)
		for _, s := range h.days[day.Weekday()] {
			at := time.Date(day.Year(), day.Month(), day.Day(), s.from/60, s.from%60, 0, 0, loc)
			if at.After(t) && (best.IsZero() || at.Before(best)) {
				best = at
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return t
}

// String renders the hours as ParseHours reads them, one entry per day
// and span ("" when always open).
func (h Hours) String() string {
	if !h.set {
		return ""
	}
	var parts []string
	for _, d := range []time.Weekday{1, 2, 3, 4, 5, 6, 0} {
		for _, s := range h.days[d] {
			parts = append(parts, fmt.Sprintf("%s %02d:%02d-%02d:%02d", shortDays[d], s.from/60, s.from%60, s.to/60, s.to%60))
		}
	}
	return strings.Join(parts, ", ")
}
