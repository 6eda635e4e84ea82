package dialog

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// record turns an accepted answer into CRM changes: the saved value, the
// answer history, tags and a handoff. A value the save target cannot take
// (free text for an enum column, say) is a problem to re-ask.
func (c *call) record(step *scenario.Step, opt *scenario.Option, ans answer) string {
	if problem := c.save(step, ans); problem != "" {
		return problem
	}
	ch := &c.res.Changes
	ch.Answers = append(ch.Answers, crm.Answer{
		Scenario: c.g.ID, Version: c.g.Version, Step: step.ID,
		Field: targetName(step.Save), Value: ans.text, CreatedAt: c.t.Now,
	})
	c.actions(step, opt)
	for _, v := range ans.list {
		if o := optionByValue(step, v); o != nil {
			ch.AddTags = append(ch.AddTags, o.Tags...)
			ch.RemoveTags = append(ch.RemoveTags, o.Untags...)
		}
	}
	c.data = nil
	return ""
}

// actions applies a step's (and the chosen option's) tags and handoff.
func (c *call) actions(step *scenario.Step, opt *scenario.Option) {
	ch := &c.res.Changes
	ch.AddTags = append(ch.AddTags, step.Tags...)
	ch.RemoveTags = append(ch.RemoveTags, step.Untags...)
	if opt != nil {
		ch.AddTags = append(ch.AddTags, opt.Tags...)
		ch.RemoveTags = append(ch.RemoveTags, opt.Untags...)
	}
	if step.Handoff {
		ch.Handoff = &crm.Handoff{Scenario: c.g.ID, Step: step.ID, Reason: step.HandoffReason, CreatedAt: c.t.Now}
	}
	if len(step.Tags)+len(step.Untags) > 0 || step.Handoff || opt != nil {
		c.data = nil
	}
}

func targetName(t scenario.Target) string {
	switch t.Kind {
	case scenario.SaveField:
		return t.Name
	case scenario.SaveAttribute:
		return crm.AttributesPrefix + t.Name
	case scenario.SaveConsent:
		return crm.SaveConsent
	case scenario.SaveVar:
		return "vars." + t.Name
	}
	return ""
}

// save writes the answer where the step says.
func (c *call) save(step *scenario.Step, ans answer) string {
	ch := &c.res.Changes
	switch t := step.Save; t.Kind {
	case scenario.SaveField:
		v, problem := c.fieldValue(t.Field, step, ans)
		if problem != "" {
			return problem
		}
		ch.Set = append(ch.Set, crm.FieldValue{Field: t.Name, Value: v})
	case scenario.SaveAttribute:
		ch.Attributes = append(ch.Attributes, crm.FieldValue{Field: t.Name, Value: attributeValue(ans)})
	case scenario.SaveConsent:
		ch.Consent = ch.Consent || truthy(ans.text)
	case scenario.SaveVar:
		vars := make(map[string]any, len(c.res.State.Vars)+1)
		maps.Copy(vars, c.res.State.Vars)
		vars[t.Name] = ans.val
		c.res.State.Vars = vars
	}
	return ""
}

// fieldValue converts an answer to a core column's type.
func (c *call) fieldValue(f crm.Field, step *scenario.Step, ans answer) (any, string) {
	tx := c.e.cfg.Texts
	switch f.Type {
	case crm.TypeInt:
		if _, isNum := ans.val.(float64); !isNum {
			return nil, tx.BadNumber
		}
		// The column's range, whatever the step's validate says: a value
		// the CRM cannot store is re-asked, never sent to the database.
		if ans.num < float64(f.Min) || ans.num > float64(f.Max) {
			return nil, fmt.Sprintf(tx.NumberRange, strconv.FormatInt(f.Min, 10), strconv.FormatInt(f.Max, 10))
		}
		return int(ans.num), ""
	case crm.TypeDate:
		if ans.date.IsZero() {
			return nil, tx.BadDate
		}
		return ans.date, ""
	case crm.TypeBool:
		return truthy(ans.text), ""
	case crm.TypeEnum:
		if !f.Allows(ans.text) {
			return nil, tx.BadChoice
		}
		return ans.text, ""
	}
	if f.MaxLen > 0 && utf8.RuneCountInString(ans.text) > f.MaxLen {
		// The column's cap (crm.MaxTextLen), when the step's own max_len
		// allows more or is not set.
		return nil, fmt.Sprintf(tx.TooLong, CountWord(f.MaxLen, tx.CharForms))
	}
	switch f.Format {
	case "phone":
		return normalizedOr(ans.text, NormalizePhone, tx.BadPhone)
	case "email":
		return normalizedOr(ans.text, NormalizeEmail, tx.BadEmail)
	}
	return ans.text, ""
}

func normalizedOr(s string, norm func(string) (string, bool), problem string) (any, string) {
	if v, ok := norm(s); ok {
		return v, ""
	}
	return nil, problem
}

// attributeValue is how an answer is kept in the attributes JSON.
func attributeValue(ans answer) any {
	switch {
	case ans.list != nil:
		return ans.list
	case !ans.date.IsZero():
		return ans.date.Format("2006-01-02")
	}
	return ans.val
}

// reask answers a rejected answer with the step's error (or problem) and the
// step's buttons again.
func (c *call) reask(step *scenario.Step, problem string) {
	c.res.State.Retries++
	c.hop(HopReask, step, 0, "")
	text := problem
	// The step's own error text explains a wrong answer; a sticker or photo
	// is no answer at all and gets the built-in explanation.
	if step.ErrorText != nil && c.t.Update.Kind != messenger.KindUnsupported {
		text = c.render(step.ErrorText, answer{text: c.t.Update.Text, val: c.t.Update.Text})
	}
	if c.res.State.Retries >= c.e.cfg.RetryHintAfter {
		text = strings.TrimSpace(text + "\n\n" + c.e.cfg.Texts.RetryHint)
	}
	c.say(text, c.e.keyboard(step, c.res.State.Selected, c.g.SkipWord))
}
