package vk

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/messenger"
)

// VK keyboard limits.
const (
	maxLabelRunes    = 40
	maxPayloadBytes  = 255
	maxPerRow        = 5
	maxRows          = 10
	maxButtons       = 40
	maxInlineRows    = 6
	maxInlineButtons = 10
)

// removeKeyboard is the keyboard that hides a shown reply keyboard.
const removeKeyboard = `{"one_time":true,"buttons":[]}`

// keyboard is VK's keyboard JSON.
type keyboard struct {
	OneTime bool       `json:"one_time,omitempty"`
	Inline  bool       `json:"inline,omitempty"`
	Buttons [][]button `json:"buttons"`
}

type button struct {
	Action action `json:"action"`
	Color  string `json:"color,omitempty"`
}

type action struct {
	Type    string `json:"type"`
	Label   string `json:"label,omitempty"`
	Payload string `json:"payload,omitempty"`
	Link    string `json:"link,omitempty"`
}

// buttonPayload is the payload of our value buttons: {"v":"<value>"}.
type buttonPayload struct {
	V string `json:"v"`
}

// keyboardJSON renders the message's keyboard for messages.send ("" for
// none). Contact-request buttons have no VK equivalent and are dropped (the
// engine also accepts a typed phone); rows are cut to 5 buttons; an inline
// keyboard too big for VK's inline limits becomes a one-time keyboard; a
// keyboard beyond VK's limits loses its last buttons (with a warning).
func (b *Bot) keyboardJSON(msg messenger.OutMessage) (string, error) {
	if msg.Keyboard == nil {
		if msg.RemoveKeyboard {
			return removeKeyboard, nil
		}
		return "", nil
	}
	kb := keyboard{Inline: msg.Keyboard.Kind == messenger.Inline, Buttons: b.layout(msg)}
	if len(kb.Buttons) == 0 {
		if msg.RemoveKeyboard || msg.Keyboard.Kind == messenger.Reply {
			return removeKeyboard, nil
		}
		return "", nil
	}
	if kb.Inline && (len(kb.Buttons) > maxInlineRows || countButtons(kb.Buttons) > maxInlineButtons) {
		kb.Inline = false
	}
	if !kb.Inline {
		kb.OneTime = true
		kb.Buttons = b.truncate(msg.Chat, kb.Buttons)
	}
	raw, err := json.Marshal(kb)
	if err != nil {
		return "", fmt.Errorf("vk: encode keyboard: %w", err)
	}
	return string(raw), nil
}

// layout converts the rows, dropping contact buttons and cutting rows to 5.
func (b *Bot) layout(msg messenger.OutMessage) [][]button {
	var rows [][]button
	for _, row := range msg.Keyboard.Rows {
		var out []button
		for _, btn := range row {
			if btn.RequestContact {
				continue
			}
			out = append(out, b.button(msg.Chat, btn))
		}
		for len(out) > 0 {
			n := min(len(out), maxPerRow)
			rows = append(rows, out[:n])
			out = out[n:]
		}
	}
	return rows
}

// button converts one button: a URL becomes open_link, anything else a
// text button whose payload carries the value.
func (b *Bot) button(chat messenger.ChatKey, btn messenger.Button) button {
	label := clipLabel(btn.Text, btn.Value)
	if btn.URL != "" {
		return button{Action: action{Type: "open_link", Label: label, Link: btn.URL}}
	}
	out := button{Action: action{Type: "text", Label: label}}
	if btn.Selected {
		out.Color = "positive"
	}
	if btn.Value == "" {
		return out // a plain button: pressing it sends its label
	}
	payload, err := json.Marshal(buttonPayload{V: btn.Value})
	if err != nil || len(payload) > maxPayloadBytes {
		// Without a payload the press arrives as the label text, which the
		// engine matches against the option captions.
		b.log.Warn("button value too long for a VK payload; sending the caption only",
			"chat", chat.String(), "bytes", len(payload))
		return out
	}
	out.Action.Payload = string(payload)
	return out
}

// clipLabel returns text (or fallback when text is empty) cut to VK's 40 characters.
func clipLabel(text, fallback string) string {
	if text == "" {
		text = fallback
	}
	if text == "" {
		text = "…"
	}
	if utf8.RuneCountInString(text) <= maxLabelRunes {
		return text
	}
	r := []rune(text)
	return string(r[:maxLabelRunes-1]) + "…"
}

// truncate keeps a non-inline keyboard within 10 rows and 40 buttons.
func (b *Bot) truncate(chat messenger.ChatKey, rows [][]button) [][]button {
	total := countButtons(rows)
	if len(rows) <= maxRows && total <= maxButtons {
		return rows
	}
	rows = rows[:min(len(rows), maxRows)]
	kept, n := rows[:0:0], 0
	for _, row := range rows {
		row = row[:min(len(row), maxButtons-n)]
		if len(row) == 0 {
			break
		}
		kept, n = append(kept, row), n+len(row)
	}
	b.log.Warn("keyboard exceeds VK limits; extra buttons dropped", "chat", chat.String(),
		"buttons", total, "kept", n)
	return kept
}

func countButtons(rows [][]button) int {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	return n
}
