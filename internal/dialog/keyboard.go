package dialog

import (
	"slices"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// keyboard returns the buttons a step shows: its options (inline), a contact
// button (reply keyboard), the done button of a multi-select and the skip
// button. Keyboards without a selection are built once per step and shared.
func (e *Engine) keyboard(step *scenario.Step, selected []string, skipWord string) *messenger.Keyboard {
	if selected == nil {
		if kb, ok := e.keyboards.Load(step); ok {
			return kb.(*messenger.Keyboard)
		}
	}
	kb := e.buildKeyboard(step, selected, skipWord)
	if selected == nil {
		e.keyboards.Store(step, kb)
	}
	return kb
}

func (e *Engine) buildKeyboard(step *scenario.Step, selected []string, skipWord string) *messenger.Keyboard {
	var rows [][]messenger.Button
	kind := messenger.Inline
	switch step.Input {
	case scenario.InputChoice:
		rows = optionRows(step, selected)
		if step.Multiple {
			rows = append(rows, []messenger.Button{{Text: step.DoneText, Value: valueDone}})
		}
	case scenario.InputContact:
		kind = messenger.Reply
		rows = [][]messenger.Button{{{Text: e.cfg.Texts.ContactButton, RequestContact: true}}}
	}
	if step.Skip {
		skip := messenger.Button{Text: skipWord, Value: valueSkip}
		if kind == messenger.Reply {
			skip.Value = "" // reply buttons carry no value: they send their caption as text
		}
		rows = append(rows, []messenger.Button{skip})
	}
	if len(rows) == 0 {
		return nil
	}
	return &messenger.Keyboard{Kind: kind, Rows: rows}
}

// optionRows lays options out in rows: short captions share a row.
func optionRows(step *scenario.Step, selected []string) [][]messenger.Button {
	longest := 0
	for _, o := range step.Options {
		longest = max(longest, utf8.RuneCountInString(o.Text))
	}
	perRow := 1
	switch {
	case longest <= 3:
		perRow = 6
	case longest <= 12:
		perRow = 3
	case longest <= 20:
		perRow = 2
	}
	var rows [][]messenger.Button
	for i, o := range step.Options {
		if i%perRow == 0 {
			rows = append(rows, make([]messenger.Button, 0, perRow))
		}
		b := messenger.Button{Text: o.Text, Value: o.Value}
		if slices.Contains(selected, o.Value) {
			b.Selected = true
			b.Text = "✓ " + o.Text
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], b)
	}
	return rows
}
