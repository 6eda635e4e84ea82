package telegram

import (
	"context"
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// MaxCaptionLen is Telegram's limit on a photo caption, in UTF-16 code units
// (counted like MaxTextLen).
const MaxCaptionLen = 1024

// part is one message of a Send: a photo (by URL, Telegram fetches it) with
// text as its caption, or a text message.
type part struct {
	photo string
	text  string
}

// parts cuts o into the messages that carry it: its text chunks (see
// splitText) or, with a photo, the photo with the text as caption when the
// text fits in MaxCaptionLen, else the photo without caption followed by the
// text chunks.
func (o outgoing) parts() []part {
	if o.photo == "" {
		chunks := splitText(o.text, MaxTextLen)
		out := make([]part, len(chunks))
		for i, c := range chunks {
			out[i] = part{text: c}
		}
		return out
	}
	caption := o.text
	if strings.TrimSpace(caption) == "" {
		caption = ""
	}
	if textLen(caption) <= MaxCaptionLen {
		return []part{{photo: o.photo, text: caption}}
	}
	out := []part{{photo: o.photo}}
	for _, c := range splitText(o.text, MaxTextLen) {
		out = append(out, part{text: c})
	}
	return out
}

// sendPart sends one part with its markup (nil for none), as a reply to
// message replyTo when it is > 0.
func (b *Bot) sendPart(ctx context.Context, chat int64, p part, markup any, replyTo int) (tgbotapi.Message, error) {
	if p.photo != "" {
		return b.sendPhoto(ctx, chat, p.photo, p.text, markup, replyTo)
	}
	return b.sendChunk(ctx, chat, p.text, markup, replyTo)
}

// sendPhoto calls sendPhoto with the picture's URL (Telegram downloads it)
// and caption as plain text (no parse mode). The parameters are the ones
// the library's PhotoConfig sends for a tgbotapi.FileURL, built here
// because PhotoConfig has no allow_paid_broadcast (v5.5.1), which paid
// broadcasts (see PaidBroadcaster) set as for sendMessage. A picture
// Telegram cannot fetch or use is a 400 (messenger.ErrBadRequest).
func (b *Bot) sendPhoto(ctx context.Context, chat int64, photo, caption string, markup any, replyTo int) (tgbotapi.Message, error) {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", chat)
	p["photo"] = photo
	p.AddNonEmpty("caption", caption)
	if replyTo > 0 {
		p.AddNonZero("reply_to_message_id", replyTo)
		p.AddBool("allow_sending_without_reply", true)
	}
	if markup != nil {
		if err := p.AddInterface("reply_markup", markup); err != nil {
			return tgbotapi.Message{}, fmt.Errorf("telegram: sendPhoto: encode reply_markup: %w", err)
		}
	}
	if isPaidBroadcast(ctx) {
		p.AddBool("allow_paid_broadcast", true)
	}
	var m struct {
		MessageID int `json:"message_id"`
	}
	err := b.callParams(ctx, "sendPhoto", p, &m)
	return tgbotapi.Message{MessageID: m.MessageID}, err
}
