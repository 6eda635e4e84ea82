package broadcast

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// QuietHours is a daily window [Start, End) of minutes after local midnight
// when no broadcast is sent; it may wrap midnight (21:00-09:00). Start ==
// End means none.
type QuietHours struct {
	Start, End int
}

// ParseQuietHours reads "21:00-09:00"; "" or "off" means none.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", s)
	}
	a, err := parseClock(from)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	b, err := parseClock(to)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	return QuietHours{Start: a, End: b}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return hh*60 + mm, nil
}

// String renders "21:00-09:00" ("off" for none).
func (q QuietHours) String() string {
	if q.Start == q.End {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// Until returns when the quiet window that holds t ends, or the zero time
// when t is outside the window (t's location is the client's).
func (q QuietHours) Until(t time.Time) time.Time {
	if q.Start == q.End {
		return time.Time{}
	}
	min := t.Hour()*60 + t.Minute()
	in := false
	if q.Start < q.End {
		in = min >= q.Start && min < q.End
	} else {
		in = min >= q.Start || min < q.End
	}
	if !in {
		return time.Time{}
	}
	end := time.Date(t.Year(), t.Month(), t.Day(), q.End/60, q.End%60, 0, 0, t.Location())
	if !end.After(t) {
		end = time.Date(t.Year(), t.Month(), t.Day()+1, q.End/60, q.End%60, 0, 0, t.Location())
	}
	return end
}

// Policy is the mailing etiquette (../shared/DOMAIN.md): a frequency cap and
// quiet hours in the client's timezone, or Location when it is unknown.
type Policy struct {
	// FrequencyCap: at most one broadcast per client within it; 0: no cap.
	FrequencyCap time.Duration
	Quiet        QuietHours
	// Location is the timezone of clients without a known one.
	Location *time.Location

	zones sync.Map // IANA name → *time.Location (nil for invalid names)
}

// Verdict is the decision for one recipient: Reason != "" skips it;
// otherwise NotBefore (when set) delays it past quiet hours.
type Verdict struct {
	Reason    string
	NotBefore time.Time
}

// Check decides what campaign c does with recipient r at now.
func (p *Policy) Check(c *Campaign, r *Recipient, now time.Time) Verdict {
	switch {
	case len(c.Platforms) > 0 && !slices.Contains(c.Platforms, r.Platform):
		return Verdict{Reason: ReasonPlatform}
	case !Broadcastable(r.Platform):
		return Verdict{Reason: ReasonNoChannel}
	case r.Blocked:
		return Verdict{Reason: ReasonBlocked}
	case !r.Subscribed:
		return Verdict{Reason: ReasonUnsubscribed}
	case r.InHandoff:
		return Verdict{Reason: ReasonInHandoff}
	case !c.IgnoreFrequencyCap && p.FrequencyCap > 0 && r.LastBroadcastAt != nil &&
		now.Sub(*r.LastBroadcastAt) < p.FrequencyCap:
		return Verdict{Reason: ReasonFrequencyCap}
	}
	return Verdict{NotBefore: p.quietUntil(c, r, now)}
}

// location returns the client's timezone, or the default.
func (p *Policy) location(name string) *time.Location {
	def := p.Location
	if def == nil {
		def = time.UTC
	}
	if name == "" {
		return def
	}
	if v, ok := p.zones.Load(name); ok {
		if loc := v.(*time.Location); loc != nil {
			return loc
		}
		return def
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	p.zones.Store(name, loc)
	if loc == nil {
		return def
	}
	return loc
}

// Broadcastable reports whether campaigns can reach clients of platform p:
// Telegram and VK have broadcast channels; terminal clients (chathub chat)
// have none.
func Broadcastable(p messenger.Platform) bool {
	return p == messenger.Telegram || p == messenger.VK
}

// platformsValid checks a platform filter.
func platformsValid(ps []messenger.Platform) error {
	for _, p := range ps {
		if !Broadcastable(p) {
			return invalid("platforms", "unknown platform %q (telegram, vk)", p)
		}
	}
	return nil
}
