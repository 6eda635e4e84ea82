package dialog

import (
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// transcript appends the turn's conversation to its changes: the client's
// message and each reply of the bot (crm.Changes.Messages), written with
// the rest of the turn's changes. Nothing is kept of a turn that deletes
// the client.
func (h *Handler) transcript(t *Turn, res *Result) {
	if res.Changes.Forget {
		res.Changes.Messages = nil
		return
	}
	m, ok := inboundMessage(t.Update, t.Now)
	n := len(res.Replies)
	if ok {
		n++
	}
	if res.Changes.Messages == nil && n > 0 {
		res.Changes.Messages = make([]crm.Message, 0, n) // one allocation, not one per append
	}
	if ok {
		res.Changes.Messages = append(res.Changes.Messages, m)
	}
	res.Changes.Messages = appendReplies(res.Changes.Messages, res.Replies, t.Now)
}

// inboundMessage is the transcript row of a client's update; false for an
// update that is no message (a block event, a return to the bot, none).
func inboundMessage(upd *messenger.Update, now time.Time) (crm.Message, bool) {
	if upd == nil || isReturn(upd) || isReminder(upd) {
		return crm.Message{}, false
	}
	m := crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, CreatedAt: now,
		PlatformMsgID: upd.PlatformMsgID}
	switch upd.Kind {
	case messenger.KindMessage:
		m.Text = capText(upd.Text)
		m.Media = upd.Media
	case messenger.KindButton:
		m.Button = capText(buttonLabel(upd))
	case messenger.KindContact:
		m.Media = messenger.MediaContact
		if upd.Contact != nil {
			m.Text = upd.Contact.Phone
		}
	case messenger.KindUnsupported:
		m.Media = upd.Media
		if m.Media == "" {
			m.Media = messenger.MediaOther
		}
		m.Text = capText(upd.Text)
	default:
		return crm.Message{}, false
	}
	return m, true
}

// buttonLabel is a pressed button as the transcript shows it:
// "caption (value)", or the value when the caption is unknown.
func buttonLabel(upd *messenger.Update) string {
	if upd.Text == "" || upd.Text == upd.Value {
		return upd.Value
	}
	return upd.Text + " (" + upd.Value + ")"
}

// inboundText is what a client's update says to a manager: the text, the
// pressed button's caption or the shared phone.
func inboundText(upd *messenger.Update) string {
	switch {
	case upd.Kind == messenger.KindButton && upd.Text == "":
		return upd.Value
	case upd.Kind == messenger.KindContact && upd.Contact != nil:
		return upd.Contact.Phone
	}
	return upd.Text
}

// appendReplies appends the bot's replies as outbound transcript rows.
func appendReplies(msgs []crm.Message, replies []messenger.OutMessage, now time.Time) []crm.Message {
	for _, r := range replies {
		msgs = append(msgs, crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot,
			Text: capText(r.Text), CreatedAt: now})
	}
	return msgs
}

// capText cuts s to crm.MaxMessageText bytes at a rune boundary.
func capText(s string) string {
	if len(s) <= crm.MaxMessageText {
		return s
	}
	n := crm.MaxMessageText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
