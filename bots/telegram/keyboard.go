package telegram

import (
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// maxCallbackData is Telegram's limit on callback_data, in bytes.
const maxCallbackData = 64

// ChosenMark prefixes the caption of a selected button (Button.Selected) and
// of the option a client pressed on a message the engine did not edit.
const ChosenMark = "✓ "

// caption is a button's caption, with ChosenMark when it is selected.
func caption(b messenger.Button) string {
	if b.Selected && !strings.HasPrefix(b.Text, strings.TrimSpace(ChosenMark)) {
		return ChosenMark + b.Text
	}
	return b.Text
}

// inlineMarkup renders an inline keyboard: URL buttons open the link, the
// others send Button.Value (or, without one, the caption) as callback_data.
func inlineMarkup(kb *messenger.Keyboard) (*tgbotapi.InlineKeyboardMarkup, error) {
	rows := make([][]tgbotapi.InlineKeyboardButton, 0, len(kb.Rows))
	for _, row := range kb.Rows {
		out := make([]tgbotapi.InlineKeyboardButton, 0, len(row))
		for _, b := range row {
			btn, err := inlineButton(b)
			if err != nil {
				return nil, err
			}
			out = append(out, btn)
		}
		if len(out) > 0 {
			rows = append(rows, out)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}, nil
}

func inlineButton(b messenger.Button) (tgbotapi.InlineKeyboardButton, error) {
	text := caption(b)
	switch {
	case b.RequestContact:
		return tgbotapi.InlineKeyboardButton{}, fmt.Errorf("telegram: button %q: a contact request needs a reply keyboard: %w", b.Text, messenger.ErrBadRequest)
	case b.URL != "":
		return tgbotapi.NewInlineKeyboardButtonURL(text, b.URL), nil
	}
	data := b.Value
	if data == "" {
		data = b.Text
	}
	if data == "" || len(data) > maxCallbackData {
		return tgbotapi.InlineKeyboardButton{}, fmt.Errorf("telegram: button %q: value must be 1-%d bytes, is %d: %w",
			b.Text, maxCallbackData, len(data), messenger.ErrBadRequest)
	}
	return tgbotapi.NewInlineKeyboardButtonData(text, data), nil
}

// replyMarkup renders a reply keyboard (resized, hidden after one use);
// buttons send their caption as text, RequestContact ones share the phone.
func replyMarkup(kb *messenger.Keyboard) *tgbotapi.ReplyKeyboardMarkup {
	rows := make([][]tgbotapi.KeyboardButton, 0, len(kb.Rows))
	for _, row := range kb.Rows {
		out := make([]tgbotapi.KeyboardButton, 0, len(row))
		for _, b := range row {
			out = append(out, tgbotapi.KeyboardButton{Text: caption(b), RequestContact: b.RequestContact})
		}
		if len(out) > 0 {
			rows = append(rows, out)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return &tgbotapi.ReplyKeyboardMarkup{Keyboard: rows, ResizeKeyboard: true, OneTimeKeyboard: true}
}

// markChosen returns a copy of markup with ChosenMark before the caption of
// the button that sends data; changed is false when there is nothing to
// mark (no such button, or it is marked already). Other buttons keep their
// captions, so the selections of a multi-select stay visible.
func markChosen(markup *tgbotapi.InlineKeyboardMarkup, data string) (out *tgbotapi.InlineKeyboardMarkup, changed bool) {
	if markup == nil {
		return nil, false
	}
	rows := make([][]tgbotapi.InlineKeyboardButton, len(markup.InlineKeyboard))
	for i, row := range markup.InlineKeyboard {
		rows[i] = append([]tgbotapi.InlineKeyboardButton(nil), row...)
		for j, b := range rows[i] {
			if !changed && b.CallbackData != nil && *b.CallbackData == data && !strings.HasPrefix(b.Text, ChosenMark) {
				rows[i][j].Text = ChosenMark + b.Text
				changed = true
			}
		}
	}
	return &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}, changed
}

// pressedCaption is the caption of the button that sends data, without
// ChosenMark; "" when the keyboard is unknown.
func pressedCaption(markup *tgbotapi.InlineKeyboardMarkup, data string) string {
	if markup == nil {
		return ""
	}
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil && *b.CallbackData == data {
				return strings.TrimPrefix(b.Text, ChosenMark)
			}
		}
	}
	return ""
}
