package dialog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// answer is an accepted (or rejected) answer in its normalised forms.
type answer struct {
	text string    // as recorded in the history and shown in texts
	val  any       // string, float64 or []string: what conditions and templates see
	num  float64   // for number answers
	date time.Time // for date answers
	list []string  // for multi-select answers
}

func textAnswer(s string) answer { return answer{text: s, val: s} }

// accept reads the update as an answer to step. pending means the update was
// a partial answer (a multi-select toggle) already replied to.
func (c *call) accept(step *scenario.Step) (ans answer, opt *scenario.Option, problem string, pending bool) {
	upd := c.t.Update
	tx := c.e.cfg.Texts
	switch {
	case upd.Kind == messenger.KindUnsupported:
		return ans, nil, tx.Unsupported, false
	case upd.Kind == messenger.KindButton && step.Input != scenario.InputChoice:
		return ans, nil, tx.BadChoice, false // a stale button of an earlier question
	case upd.Kind == messenger.KindContact && step.Input != scenario.InputContact && step.Input != scenario.InputPhone:
		return ans, nil, tx.Unsupported, false
	}
	switch step.Input {
	case scenario.InputNumber:
		ans, problem = c.acceptNumber(step, upd.Text)
	case scenario.InputEmail:
		ans, problem = acceptNormalized(upd.Text, NormalizeEmail, tx.BadEmail)
	case scenario.InputPhone:
		if upd.Kind == messenger.KindContact {
			ans, problem = c.acceptContact(upd)
		} else {
			ans, problem = acceptNormalized(upd.Text, NormalizePhone, tx.BadPhone)
		}
	case scenario.InputContact:
		ans, problem = c.acceptContact(upd)
	case scenario.InputDate:
		ans, problem = c.acceptDate(step, upd.Text)
	case scenario.InputChoice:
		if step.Multiple {
			return c.acceptMulti(step)
		}
		ans, opt, problem = c.acceptChoice(step)
	default:
		ans, problem = c.acceptText(step, upd.Text)
	}
	return ans, opt, problem, false
}

func (c *call) acceptText(step *scenario.Step, raw string) (answer, string) {
	tx := c.e.cfg.Texts
	s, n := CleanText(raw)
	v := &step.Validate
	maxLen := v.MaxLen
	if maxLen <= 0 {
		maxLen = c.e.cfg.MaxTextLen
	}
	switch {
	case n == 0:
		return answer{}, tx.EmptyAnswer
	case n < v.MinLen:
		return answer{}, fmt.Sprintf(tx.TooShort, CountWord(v.MinLen, tx.CharForms))
	case n > maxLen:
		return answer{}, fmt.Sprintf(tx.TooLong, CountWord(maxLen, tx.CharForms))
	case v.Regex != nil && !v.Regex.MatchString(s):
		return answer{}, tx.BadFormat
	}
	return textAnswer(s), ""
}

func (c *call) acceptNumber(step *scenario.Step, raw string) (answer, string) {
	tx := c.e.cfg.Texts
	f, ok := ParseNumber(raw)
	if !ok {
		return answer{}, tx.BadNumber
	}
	v := &step.Validate
	if v.Integer && f != math.Trunc(f) {
		return answer{}, tx.NotInteger
	}
	if p := rangeProblem(tx, v.Min, v.Max, f); p != "" {
		return answer{}, p
	}
	return answer{text: formatNumber(f), val: f, num: f}, ""
}

// rangeProblem checks f against optional bounds.
func rangeProblem(tx *Texts, lo, hi *float64, f float64) string {
	switch {
	case lo != nil && hi != nil && (f < *lo || f > *hi):
		return fmt.Sprintf(tx.NumberRange, formatNumber(*lo), formatNumber(*hi))
	case lo != nil && f < *lo:
		return fmt.Sprintf(tx.NumberMin, formatNumber(*lo))
	case hi != nil && f > *hi:
		return fmt.Sprintf(tx.NumberMax, formatNumber(*hi))
	}
	return ""
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func acceptNormalized(raw string, norm func(string) (string, bool), problem string) (answer, string) {
	s, ok := norm(raw)
	if !ok {
		return answer{}, problem
	}
	return textAnswer(s), ""
}

func (c *call) acceptContact(upd *messenger.Update) (answer, string) {
	tx := c.e.cfg.Texts
	if upd.Kind != messenger.KindContact {
		return acceptNormalized(upd.Text, NormalizePhone, tx.BadContact)
	}
	if upd.Contact == nil {
		return answer{}, tx.BadContact
	}
	if upd.Contact.UserID != "" && upd.Contact.UserID != c.t.Chat.ID {
		return answer{}, tx.ForeignContact
	}
	return acceptNormalized(upd.Contact.Phone, NormalizePhone, tx.BadPhone)
}

func (c *call) acceptDate(step *scenario.Step, raw string) (answer, string) {
	tx := c.e.cfg.Texts
	d, ok := ParseDate(raw)
	if !ok {
		return answer{}, tx.BadDate
	}
	v := &step.Validate
	if v.MinDate.Set || v.MaxDate.Set {
		c.res.UsedClock = true
	}
	if v.MinDate.Set && d.Before(v.MinDate.At(c.t.Now)) {
		return answer{}, fmt.Sprintf(tx.DateTooEarly, v.MinDate.At(c.t.Now).Format("02.01.2006"))
	}
	if v.MaxDate.Set && d.After(v.MaxDate.At(c.t.Now)) {
		return answer{}, fmt.Sprintf(tx.DateTooLate, v.MaxDate.At(c.t.Now).Format("02.01.2006"))
	}
	s := d.Format("02.01.2006")
	return answer{text: s, val: s, date: d}, ""
}

// acceptChoice matches a button press or typed text to one option.
func (c *call) acceptChoice(step *scenario.Step) (answer, *scenario.Option, string) {
	upd := c.t.Update
	var opt *scenario.Option
	if upd.Kind == messenger.KindButton {
		opt = optionByValue(step, upd.Value)
	} else {
		opt = matchOption(step, upd.Text)
	}
	if opt != nil {
		return textAnswer(opt.Value), opt, ""
	}
	if step.FreeText && upd.Kind == messenger.KindMessage {
		ans, problem := c.acceptText(step, upd.Text)
		return ans, nil, problem
	}
	return answer{}, nil, c.e.cfg.Texts.BadChoice
}

func optionByValue(step *scenario.Step, v string) *scenario.Option {
	for i := range step.Options {
		if step.Options[i].Value == v {
			return &step.Options[i]
		}
	}
	return nil
}

// matchOption finds the option a person typed: its caption or value (any
// case), else its number in the list.
func matchOption(step *scenario.Step, raw string) *scenario.Option {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil
	}
	for i := range step.Options {
		o := &step.Options[i]
		if strings.EqualFold(o.Text, s) || strings.EqualFold(o.Value, s) {
			return o
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(step.Options) {
		return &step.Options[n-1]
	}
	return nil
}

// isSkip reports whether upd asks to skip the step.
func (c *call) isSkip(upd *messenger.Update) bool {
	if upd.Kind == messenger.KindButton {
		return upd.Value == valueSkip
	}
	return upd.Kind == messenger.KindMessage && strings.EqualFold(strings.TrimSpace(upd.Text), c.g.SkipWord)
}
