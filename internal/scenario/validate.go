package scenario

import (
	"fmt"
	"math"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// rule says which steps a validate: key applies to.
type rule struct {
	applies func(s *Step) bool
	works   string // "number steps and multi-select choices"
}

func isNumberOrMulti(s *Step) bool {
	return s.Input == InputNumber || s.Input == InputChoice && s.Multiple
}
func isNumber(s *Step) bool   { return s.Input == InputNumber }
func isDate(s *Step) bool     { return s.Input == InputDate }
func hasInput(s *Step) bool   { return s.Input != InputNone }
func isFreeText(s *Step) bool { return s.Input == InputChoice && s.FreeText }

func isTextual(s *Step) bool {
	return s.Input == InputText || s.Input == InputEmail || isFreeText(s)
}

func isTyped(s *Step) bool { return isTextual(s) || s.Input == InputPhone }

var validateRules = map[string]rule{
	"min":      {isNumberOrMulti, "number steps and multi-select choices"},
	"max":      {isNumberOrMulti, "number steps and multi-select choices"},
	"integer":  {isNumber, "number steps"},
	"min_len":  {isTextual, "text and email steps and choices with free_text: true"},
	"max_len":  {isTextual, "text and email steps and choices with free_text: true"},
	"regex":    {isTyped, "text, email and phone steps and choices with free_text: true"},
	"min_date": {isDate, "date steps"},
	"max_date": {isDate, "date steps"},
	"error":    {hasInput, "steps with an input"},
}

// inputName names a step's input for messages ("number", "multi-select choice").
func inputName(s *Step) string {
	if s.Input == InputChoice && s.Multiple {
		return "multi-select choice"
	}
	return s.Input.String()
}

// validation compiles `validate:`.
func (c *compiler) validation(b *stepBuild) {
	n := b.f.get("validate")
	if n == nil || !c.isMapping(n, fmt.Sprintf("validate: of step %q", b.s.ID)) {
		return
	}
	if b.s.Input == InputNone {
		c.errorf(b.f.keyNode("validate"), "validate: in step %q has nothing to check: the step asks for no answer; add input: or remove validate:", b.s.ID)
		return
	}
	where := fmt.Sprintf("in validate: of step %q", b.s.ID)
	f := c.fields(n, where, validateKeys)
	for _, key := range validateKeys {
		p, ok := f[key]
		if !ok {
			continue
		}
		if r := validateRules[key]; !r.applies(b.s) {
			c.errorf(p.key, "validate.%s in step %q does not apply to %s input; it works with %s%s",
				key, b.s.ID, inputName(b.s), r.works, ruleHint(b.s, key))
			continue
		}
		c.validateKey(b, key, p.val, where)
	}
	c.checkBounds(b, f)
}

// ruleHint suggests the rule that fits a number step's length limits.
func ruleHint(s *Step, key string) string {
	if s.Input == InputNumber && (key == "min_len" || key == "max_len") {
		return "; bound a number with min: and max:"
	}
	return ""
}

// validateKey compiles one applicable validate: key.
func (c *compiler) validateKey(b *stepBuild, key string, n *yaml.Node, where string) {
	v := &b.s.Validate
	lbl := label(key, where)
	switch key {
	case "min", "max":
		if x, ok := c.number(n, lbl); ok {
			if key == "min" {
				v.Min = &x
			} else {
				v.Max = &x
			}
		}
	case "integer":
		v.Integer, _ = c.boolean(n, lbl)
	case "min_len":
		v.MinLen, _ = c.count(n, lbl)
	case "max_len":
		v.MaxLen, _ = c.count(n, lbl)
	case "regex":
		v.Regex = c.regex(n, lbl)
	case "min_date":
		v.MinDate, _ = c.dateBound(n, lbl)
	case "max_date":
		v.MaxDate, _ = c.dateBound(n, lbl)
	case "error":
		if raw, ok := c.nonEmpty(n, lbl); ok {
			b.s.ErrorText = c.template(n, raw, "error", b)
		}
	}
}

func (c *compiler) regex(n *yaml.Node, lbl string) *regexp.Regexp {
	src, ok := c.nonEmpty(n, lbl)
	if !ok {
		return nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		c.errorf(n, "%s does not compile: %v; fix the pattern (Go RE2 syntax, no look-arounds or back-references)", lbl, err)
		return nil
	}
	return re
}

// dateBound reads "today" or a YYYY-MM-DD date.
func (c *compiler) dateBound(n *yaml.Node, lbl string) (DateBound, bool) {
	s, ok := c.text(n, lbl)
	if !ok {
		return DateBound{}, false
	}
	if s == "today" {
		return DateBound{Set: true, Today: true}, true
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		c.errorf(n, "%s must be today or a date written YYYY-MM-DD, e.g. 1990-01-31, got %q", lbl, s)
		return DateBound{}, false
	}
	return DateBound{Set: true, Date: d}, true
}

// checkBounds reports limits that no answer can meet.
func (c *compiler) checkBounds(b *stepBuild, f fieldSet) {
	v, id := b.s.Validate, b.s.ID
	if v.Min != nil && v.Max != nil && *v.Min > *v.Max {
		c.errorf(f.get("min"), "validate.min (%v) is greater than validate.max (%v) in step %q, so no answer can pass; swap them", *v.Min, *v.Max, id)
	}
	if v.MaxLen > 0 && v.MinLen > v.MaxLen {
		c.errorf(f.get("min_len"), "validate.min_len (%d) is greater than validate.max_len (%d) in step %q, so no answer can pass; swap them", v.MinLen, v.MaxLen, id)
	}
	if n := f.get("max_len"); n != nil && n.Value == "0" && isTextual(b.s) {
		c.errorf(f.get("max_len"), "validate.max_len in step %q is 0, so no answer can pass; set it to at least 1 or remove it", id)
	}
	if v.MinDate.Set && v.MaxDate.Set && !v.MinDate.Today && !v.MaxDate.Today && v.MinDate.Date.After(v.MaxDate.Date) {
		c.errorf(f.get("min_date"), "validate.min_date is after validate.max_date in step %q, so no date can pass; swap them", id)
	}
	if b.s.Multiple {
		c.checkMultiBounds(b, f)
	}
}

// checkMultiBounds checks min:/max: of a multi-select against its options.
func (c *compiler) checkMultiBounds(b *stepBuild, f fieldSet) {
	v, id, n := b.s.Validate, b.s.ID, float64(len(b.s.Options))
	for key, x := range map[string]*float64{"min": v.Min, "max": v.Max} {
		switch {
		case x == nil:
		case *x != math.Trunc(*x) || *x < 0:
			c.errorf(f.get(key), "validate.%s in step %q counts chosen options, so it must be a whole number, 0 or more; got %v", key, id, *x)
		case key == "min" && *x > n:
			c.errorf(f.get(key), "validate.min in step %q asks for %v choices but there are only %v options; lower it", id, *x, n)
		case key == "max" && *x < 1:
			c.errorf(f.get(key), "validate.max in step %q allows no choice at all; set it to 1 or more", id)
		}
	}
}
