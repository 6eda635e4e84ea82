package dialog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// acceptMulti handles a multi-select step: a button toggles an option (and
// the answer stays pending), the done button or a typed list finishes it.
func (c *call) acceptMulti(step *scenario.Step) (answer, *scenario.Option, string, bool) {
	upd := c.t.Update
	selected := c.res.State.Selected
	switch {
	case upd.Kind == messenger.KindButton && upd.Value == valueDone:
	case upd.Kind == messenger.KindButton:
		opt := optionByValue(step, upd.Value)
		if opt == nil {
			return answer{}, nil, c.e.cfg.Texts.BadChoice, false
		}
		c.toggle(step, opt.Value)
		return answer{}, nil, "", true
	case strings.EqualFold(strings.TrimSpace(upd.Text), step.DoneText):
	default:
		list, ok := parseSelection(step, upd.Text)
		if !ok {
			return answer{}, nil, c.e.cfg.Texts.BadChoice, false
		}
		selected = list
	}
	if p := c.countProblem(step, len(selected)); p != "" {
		return answer{}, nil, p, false
	}
	return answer{text: strings.Join(selected, ", "), val: selected, list: selected}, nil, "", false
}

// countProblem checks the number of chosen options (default: at least one).
func (c *call) countProblem(step *scenario.Step, n int) string {
	tx := c.e.cfg.Texts
	lo, hi := 1, len(step.Options)
	if v := step.Validate.Min; v != nil {
		lo = int(*v)
	}
	if v := step.Validate.Max; v != nil {
		hi = int(*v)
	}
	switch {
	case n < lo:
		return fmt.Sprintf(tx.TooFewChoices, CountWord(lo, tx.ChoiceForms), step.DoneText)
	case n > hi:
		return fmt.Sprintf(tx.TooManyChoices, CountWord(hi, tx.ChoiceForms))
	}
	return ""
}

// toggle flips one option and replies with the updated selection.
func (c *call) toggle(step *scenario.Step, value string) {
	sel := slices.Clone(c.res.State.Selected)
	if i := slices.Index(sel, value); i >= 0 {
		sel = slices.Delete(sel, i, i+1)
	} else {
		sel = append(sel, value)
	}
	c.res.State.Selected = sel
	text := c.e.cfg.Texts.Selected + c.captions(step, sel)
	if len(sel) == 0 {
		text = c.render(step.Say, answer{})
	}
	msg := messenger.OutMessage{Chat: c.t.Chat, Text: text, Keyboard: c.e.keyboard(step, sel, c.g.SkipWord)}
	if c.t.Update.MessageID != "" {
		msg.EditMessageID = c.t.Update.MessageID
	}
	c.res.Replies = append(c.res.Replies, msg)
}

func (c *call) captions(step *scenario.Step, values []string) string {
	names := make([]string, 0, len(values))
	for _, v := range values {
		if o := optionByValue(step, v); o != nil {
			names = append(names, o.Text)
		}
	}
	return strings.Join(names, ", ")
}

// parseSelection reads a typed list: "1, 3", "1 3" or "Фитнес; Путешествия".
func parseSelection(step *scenario.Step, raw string) ([]string, bool) {
	parts := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' || r == '\n' })
	if len(parts) == 1 && matchOption(step, parts[0]) == nil {
		parts = strings.Fields(parts[0])
	}
	var out []string
	for _, p := range parts {
		opt := matchOption(step, p)
		if opt == nil {
			return nil, false
		}
		if !slices.Contains(out, opt.Value) {
			out = append(out, opt.Value)
		}
	}
	return out, len(out) > 0
}
