package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Bounds and defaults of a step's `remind:`.
const (
	// MinRemindAfter is the shortest wait before a reminder: a client
	// needs a moment to read and answer.
	MinRemindAfter = time.Minute
	// MaxRemindAfter is the longest: a conversation idle for longer than
	// its state lives (STATE_TTL, 30 days by default) is gone by then.
	MaxRemindAfter = 30 * 24 * time.Hour
	// DefaultRemindTimes is how many reminders a step sends when times: is
	// not written; MaxRemindTimes the most it may ask for.
	DefaultRemindTimes = 1
	MaxRemindTimes     = 3
)

// remindKeys are the keys of a step's `remind:`.
var remindKeys = []string{"after", "text", "times"}

// remind compiles a step's `remind:`: after: a duration (MinRemindAfter to
// MaxRemindAfter), text: a template, times: 1 to MaxRemindTimes. A step
// that waits for no answer has nothing to remind of.
func (c *compiler) remind(b *stepBuild) {
	n := b.f.get("remind")
	if n == nil {
		return
	}
	key := b.f.keyNode("remind")
	where := fmt.Sprintf("in remind: of step %q", b.s.ID)
	if b.s.Input == InputNone {
		c.errorf(key, "remind: in step %q has nothing to remind of: the step asks for no answer; move remind: to a step with an input or remove it", b.s.ID)
		return
	}
	if !c.isMapping(n, fmt.Sprintf("remind: of step %q", b.s.ID)) {
		return
	}
	f := c.fields(n, where, remindKeys)
	r := &Remind{Times: DefaultRemindTimes, Pos: Pos{Line: key.Line, Col: key.Column}}
	ok := c.remindAfter(n, f, r, where, b.s.ID)
	ok = c.remindText(n, f, r, where, b) && ok
	ok = c.remindTimes(f, r, where) && ok
	if ok {
		b.s.Remind = r
	}
}

// remindAfter reads after:, required.
func (c *compiler) remindAfter(n *yaml.Node, f fieldSet, r *Remind, where, step string) bool {
	a := f.get("after")
	if a == nil {
		c.errorf(n, "remind: of step %q has no after:; write how long to wait for the answer, e.g. after: 2h", step)
		return false
	}
	lbl := label("after", where)
	raw, ok := c.text(a, lbl)
	if !ok {
		return false
	}
	d, err := ParseRemindAfter(raw)
	switch {
	case err != nil:
		c.errorf(a, "%s must be a duration such as 30m, 2h, 1h30m or 1d, got %q", lbl, raw)
		return false
	case d < MinRemindAfter:
		c.errorf(a, "%s is %s; wait at least 1m before reminding, e.g. after: 30m", lbl, d)
		return false
	case d > MaxRemindAfter:
		c.errorf(a, "%s is %s; remind within 30d (720h): a conversation idle longer is gone by then", lbl, raw)
		return false
	}
	r.After = d
	return true
}

// remindText reads text:, required: a template like say:, at most one
// message long.
func (c *compiler) remindText(n *yaml.Node, f fieldSet, r *Remind, where string, b *stepBuild) bool {
	t := f.get("text")
	if t == nil {
		c.errorf(n, "remind: of step %q has no text:; write what the reminder says, e.g. text: \"Вы не ответили на вопрос — продолжим?\"", b.s.ID)
		return false
	}
	lbl := label("text", where)
	raw, ok := c.nonEmpty(t, lbl)
	if !ok {
		return false
	}
	if l := textLen(raw); l > maxMessageLen {
		c.errorf(t, "%s is %d characters long, at most %d (one message); shorten it", lbl, l, maxMessageLen)
		return false
	}
	r.Text = c.template(t, raw, "remind.text", b)
	return r.Text != nil
}

// remindTimes reads times:, 1 to MaxRemindTimes.
func (c *compiler) remindTimes(f fieldSet, r *Remind, where string) bool {
	t := f.get("times")
	if t == nil {
		return true
	}
	v, ok := c.count(t, label("times", where))
	if !ok {
		return false
	}
	if v < 1 || v > MaxRemindTimes {
		c.errorf(t, "%s must be 1, 2 or 3, got %d; more reminders than that read as spam", label("times", where), v)
		return false
	}
	r.Times = v
	return true
}

// errBadDuration: not a duration ParseRemindAfter reads.
var errBadDuration = errors.New("not a duration")

// maxDays bounds the days of a duration ParseRemindAfter reads (and keeps
// the sum from overflowing).
const maxDays = 3650

// ParseRemindAfter reads a reminder's wait: a Go duration (30m, 2h,
// 1h30m) optionally led by whole days (1d, 2d12h). A negative duration is
// an error.
func ParseRemindAfter(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > maxDays || strings.HasPrefix(s, "+") {
			return 0, fmt.Errorf("%w: %q", errBadDuration, s)
		}
		days = time.Duration(n) * 24 * time.Hour
		if s = s[i+1:]; s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || strings.HasPrefix(s, "+") || d > time.Duration(1<<62)-days {
		return 0, fmt.Errorf("%w: %q", errBadDuration, s)
	}
	return days + d, nil
}
