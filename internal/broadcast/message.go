package broadcast

import (
	"net/url"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// Opt-out texts every broadcast carries.
const (
	// UnsubscribeCaption is the caption of the unsubscribe button; the
	// button sends dialog.UnsubscribeValue, which the dialog router handles
	// as /stop.
	UnsubscribeCaption = "Отписаться"
	// UnsubscribeHint ends the text where a button is not possible.
	UnsubscribeHint = "/stop — отписаться"
)

// MaxButtons is how many buttons a campaign may have («Отписаться», always
// added, not counted).
const MaxButtons = 5

// Button limits common to both platforms.
const (
	maxButtons      = MaxButtons
	maxCaptionRunes = 40
	// maxValueBytes is Telegram's callback_data limit.
	maxValueBytes = 64
)

// buildMessage is the message text goes out as to chat: the campaign's
// picture (Telegram and VK show it; elsewhere its link ends the text), the
// campaign's buttons, one per row, then «Отписаться».
func buildMessage(c *Campaign, chat messenger.ChatKey, text string) messenger.OutMessage {
	msg := messenger.OutMessage{Chat: chat, Text: text}
	if chat.Platform != messenger.Telegram && chat.Platform != messenger.VK {
		if c.ImageURL != "" {
			msg.Text += "\n\n" + c.ImageURL
		}
		msg.Text += "\n\n" + UnsubscribeHint
	} else {
		msg.ImageURL = c.ImageURL
	}
	kb := &messenger.Keyboard{Kind: messenger.Inline}
	for _, b := range c.Buttons {
		btn := messenger.Button{Text: b.Text, URL: b.URL}
		if b.Scenario != "" {
			btn.Value = dialog.ScenarioValue(b.Scenario)
		}
		kb.Rows = append(kb.Rows, []messenger.Button{btn})
	}
	kb.Rows = append(kb.Rows, []messenger.Button{{Text: UnsubscribeCaption, Value: dialog.UnsubscribeValue}})
	msg.Keyboard = kb
	return msg
}

// validateButtons checks buttons against both platforms' limits.
func validateButtons(bs []Button, scenarios ScenarioCatalog) error {
	if len(bs) > maxButtons {
		return invalid("buttons", "%d buttons, at most %d", len(bs), maxButtons)
	}
	for i, b := range bs {
		field := "buttons[" + itoa(i) + "]"
		if n := utf8.RuneCountInString(b.Text); n == 0 || n > maxCaptionRunes {
			return invalid(field, "caption has %d characters, want 1..%d", n, maxCaptionRunes)
		}
		switch {
		case (b.URL == "") == (b.Scenario == ""):
			return invalid(field, "set exactly one of url and scenario")
		case b.URL != "" && !httpURL(b.URL):
			return invalid(field, "url must be an absolute http(s) link")
		case b.Scenario != "" && len(dialog.ScenarioValue(b.Scenario)) > maxValueBytes:
			return invalid(field, "scenario id is too long")
		case b.Scenario != "" && scenarios != nil && !scenarios.HasScenario(b.Scenario):
			return invalid(field, "unknown scenario %q", b.Scenario)
		}
	}
	return nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
