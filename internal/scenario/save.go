package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/crm"
)

// VarsPrefix starts a save target kept in the conversation's variables.
const VarsPrefix = "vars."

// consentYes are the answers crm.SaveConsent treats as agreement.
var consentYes = []string{"yes", "да", "true", "1"}

// boolWords are the option values a boolean column accepts.
var boolWords = []string{"yes", "no", "true", "false", "1", "0", "да", "нет"}

// save compiles `save:` and checks the answer fits the target.
func (c *compiler) save(b *stepBuild) {
	n := b.f.get("save")
	if n == nil {
		return
	}
	name, ok := c.nonEmpty(n, label("save", b.where))
	if !ok {
		return
	}
	if b.s.Input == InputNone {
		c.errorf(n, "save: in step %q has nothing to save: the step asks for no answer; add input: or buttons:, or remove save:", b.s.ID)
		return
	}
	t, ok := c.target(n, strings.TrimSpace(name), b.s.ID)
	if !ok {
		return
	}
	b.s.Save = t
	switch t.Kind {
	case SaveConsent:
		c.checkConsent(b, n)
	case SaveField:
		c.checkField(b, n, t.Field)
	case SaveVar:
		if b.s.Input == InputContact {
			c.errorf(n, "input: contact in step %q gives a phone number; save it to phone or attributes.<key>", b.s.ID)
		}
	}
}

// target parses a save target.
func (c *compiler) target(n *yaml.Node, name, stepID string) (Target, bool) {
	if name == crm.SaveConsent {
		return Target{Kind: SaveConsent, Name: name}, true
	}
	if key, ok := strings.CutPrefix(name, crm.AttributesPrefix); ok {
		if !stepIDRe.MatchString(key) {
			c.errorf(n, "attribute %q in save: of step %q must be attributes.<key> with a key of latin letters, digits, _ or -; rename it", name, stepID)
			return Target{}, false
		}
		return Target{Kind: SaveAttribute, Name: key}, true
	}
	if key, ok := strings.CutPrefix(name, VarsPrefix); ok {
		if !varNameRe.MatchString(key) {
			c.errorf(n, "variable %q in save: of step %q must be vars.<name> with a name of latin letters, digits and _, not starting with a digit; rename it", name, stepID)
			return Target{}, false
		}
		return Target{Kind: SaveVar, Name: key}, true
	}
	f, ok := crm.LookupField(name)
	if !ok {
		c.unknownField(n, name, stepID)
		return Target{}, false
	}
	return Target{Kind: SaveField, Name: name, Field: f}, true
}

func (c *compiler) unknownField(n *yaml.Node, name, stepID string) {
	hint := didYouMean(name, append(crm.FieldNames(), crm.SaveConsent))
	if prefix, rest, ok := strings.Cut(name, "."); ok && hint == "" {
		if m := suggest(prefix, []string{"attributes", "vars"}); m != "" {
			hint = fmt.Sprintf("; did you mean %q?", m+"."+rest)
		}
	}
	if hint != "" {
		c.errorf(n, "unknown field %q in save: of step %q%s", name, stepID, hint)
		return
	}
	c.errorf(n, "unknown field %q in save: of step %q; save to attributes.%s, or to a core field: %s",
		name, stepID, slug(name), strings.Join(crm.FieldNames(), ", "))
}

// checkConsent requires a single yes/no answer that can mean yes.
func (c *compiler) checkConsent(b *stepBuild, n *yaml.Node) {
	s := b.s
	switch {
	case s.Multiple:
		c.errorf(n, "save: consent in step %q needs one yes/no answer; remove multiple: true", s.ID)
	case s.Input == InputText, s.Input == InputChoice && s.FreeText:
	case s.Input != InputChoice:
		c.errorf(n, "save: consent in step %q needs a yes/no answer; use buttons like {text: Да, value: yes} and {text: Нет, value: no}", s.ID)
	case !slices.ContainsFunc(s.Options, func(o Option) bool { return slices.Contains(consentYes, strings.ToLower(o.Value)) }):
		c.errorf(n, "save: consent in step %q records consent only for a yes, but no option has the value yes, да, true or 1; set value: yes on the agreeing button", s.ID)
	}
}

// answerNoun names what a step's answer is, for messages.
func answerNoun(s *Step) string {
	switch s.Input {
	case InputNumber:
		return "a number"
	case InputEmail:
		return "an email"
	case InputPhone:
		return "a phone number"
	case InputDate:
		return "a date"
	case InputChoice:
		return "a choice"
	case InputContact:
		return "a contact"
	}
	return "a text answer"
}

// checkField checks that a step's answer fits a core column.
func (c *compiler) checkField(b *stepBuild, n *yaml.Node, f crm.Field) {
	s := b.s
	switch {
	case s.Multiple:
		c.errorf(n, "step %q allows several answers (multiple: true), a list, which only attributes.<key> can hold; save to attributes.%s", s.ID, f.Name)
	case s.Input == InputContact && f.Name != "phone":
		c.errorf(n, "input: contact in step %q gives a phone number; save it to phone or attributes.<key>", s.ID)
	case f.Type == crm.TypeInt:
		c.checkIntField(b, n, f)
	case f.Type == crm.TypeDate && s.Input != InputDate:
		c.errorf(n, "step %q saves %s to %q, a date field; use input: date", s.ID, answerNoun(s), f.Name)
	case f.Type == crm.TypeEnum:
		c.checkOptionValues(b, n, f, f.Values)
	case f.Type == crm.TypeBool:
		c.checkOptionValues(b, n, f, boolWords)
	case f.Format == "phone" && s.Input != InputPhone && s.Input != InputContact:
		c.errorf(n, "step %q saves %s to %q, which holds phone numbers in international format; use input: phone or input: contact", s.ID, answerNoun(s), f.Name)
	case f.Format == "email" && s.Input != InputEmail:
		c.errorf(n, "step %q saves %s to %q, which holds checked addresses; use input: email", s.ID, answerNoun(s), f.Name)
	case f.Type == crm.TypeText && isTextual(s):
		c.checkTextCap(s, n, f)
	}
}

// checkTextCap bounds free text saved to a core text column: the column
// takes at most f.MaxLen characters, and an indexed column (city) needs an
// explicit validate.max_len so the author decides what a sane answer is
// (the engine refuses longer answers either way).
func (c *compiler) checkTextCap(s *Step, n *yaml.Node, f crm.Field) {
	switch {
	case s.Validate.MaxLen > f.MaxLen:
		c.errorf(n, "step %q saves free text to %q, which takes at most %d characters, but its validate.max_len is %d; lower max_len to %d or less, or save to attributes.<key>",
			s.ID, f.Name, f.MaxLen, s.Validate.MaxLen, f.MaxLen)
	case f.Indexed && s.Validate.MaxLen == 0:
		c.errorf(n, "step %q saves free text to %q, an indexed field, without validate.max_len; set one (at most %d), e.g. validate: { max_len: 100 }",
			s.ID, f.Name, f.MaxLen)
	}
}

// checkIntField requires a number (made whole) or whole-number option values.
func (c *compiler) checkIntField(b *stepBuild, n *yaml.Node, f crm.Field) {
	s := b.s
	switch {
	case s.Input == InputNumber:
		s.Validate.Integer = true
	case s.Input == InputChoice && !s.FreeText:
		for i, o := range s.Options {
			if _, err := strconv.Atoi(o.Value); err != nil {
				c.errorf(b.optNodes[i], "%s %q of step %q has the value %q, but %q is an integer field; set value: to a whole number",
					b.optKind, o.Text, s.ID, o.Value, f.Name)
			}
		}
	default:
		c.errorf(n, "step %q saves %s to %q, an integer field; use input: number", s.ID, answerNoun(s), f.Name)
	}
}

// checkOptionValues requires a choice whose every option value is allowed.
func (c *compiler) checkOptionValues(b *stepBuild, n *yaml.Node, f crm.Field, allowed []string) {
	s, list := b.s, strings.Join(allowed, ", ")
	switch {
	case s.Input != InputChoice:
		c.errorf(n, "step %q saves %s to %q, which takes only %s; use buttons with those values, e.g. {text: ..., value: %s}",
			s.ID, answerNoun(s), f.Name, list, allowed[0])
	case s.FreeText:
		c.errorf(b.f.get("free_text"), "free_text: true in step %q lets any text through, but %q takes only %s; remove free_text: or save to attributes.%s",
			s.ID, f.Name, list, f.Name)
	default:
		for i, o := range s.Options {
			if !slices.Contains(allowed, o.Value) {
				c.errorf(b.optNodes[i], "%s %q of step %q has the value %q, which %q does not take; set value: to one of %s",
					b.optKind, o.Text, s.ID, o.Value, f.Name, list)
			}
		}
	}
}
