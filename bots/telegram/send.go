package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// Send implements messenger.Sender.
//
// Texts go out as plain text (no parse mode, so nothing needs escaping),
// split into chunks of at most MaxTextLen at line breaks or spaces; the
// keyboard rides on the last chunk and Sent.MessageID is the last chunk's.
// Inline keyboards send Button.Value as callback_data (at most 64 bytes,
// else ErrBadRequest); reply keyboards are resized and one-time, with
// request_contact buttons. RemoveKeyboard rides on the first chunk; with an
// inline keyboard and a single chunk the message is sent with the removal
// and the inline keyboard is then attached by editMessageReplyMarkup (one
// message cannot carry both markups).
//
// ImageURL sends a photo (sendPhoto, by URL: Telegram fetches it) with the
// text as its caption and the keyboard; a text over MaxCaptionLen goes as
// the photo without caption followed by the text's chunks, the keyboard on
// the last one. The photo counts as the first chunk for retries (below). A
// message with an image is always new (EditMessageID is ignored).
//
// ReplyToID threads the message under that earlier one of the chat (the
// first part carries reply_to_message_id, with allow_sending_without_reply
// so a deleted message is no error).
//
// EditMessageID edits that message's text and inline keyboard; when the
// edit is refused with 400 (too old, deleted), or the message needs a reply
// keyboard, a removal or more than one chunk, a new message is sent instead.
// An edit that changes nothing counts as done.
//
// Retries: when ctx carries an idempotency key (messenger.WithIdempotencyKey;
// replies carry update id / index), the Bot remembers how far the send of a
// new message got: a Send that fails on chunk k returns the error (naming
// the chunk), and a later Send with the same key, chat, text and keyboard
// sends only chunks k… (the keyboard still on the last one), or, when every
// chunk went out but attaching the inline keyboard failed, only attaches it;
// one that already succeeded returns the same Sent without calling the API.
// The same key with other content is a new message. The record is per
// process, in memory, bounded (10,000 sends, each kept for an hour): a retry
// from another process, after a restart or later than that repeats the
// chunks already delivered, and so does a retry without a key. A chunk whose
// answer was lost (a timeout after Telegram took it) counts as not
// delivered and is sent again: Telegram has no idempotency token to avoid it.
// Sends with one key are expected one at a time (the pipeline handles one
// chat's updates in order).
func (b *Bot) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	chat, err := chatID(msg.Chat)
	if err != nil {
		return messenger.Sent{}, err
	}
	if strings.TrimSpace(msg.Text) == "" && msg.ImageURL == "" {
		return messenger.Sent{}, fmt.Errorf("telegram: send to %s: empty text: %w", msg.Chat, messenger.ErrBadRequest)
	}
	out := outgoing{chat: chat, text: msg.Text, photo: msg.ImageURL, remove: msg.RemoveKeyboard}
	if msg.ReplyToID != "" {
		if out.replyTo, err = strconv.Atoi(msg.ReplyToID); err != nil || out.replyTo <= 0 {
			return messenger.Sent{}, fmt.Errorf("telegram: send to %s: reply to message id %q is not a positive integer: %w",
				msg.Chat, msg.ReplyToID, messenger.ErrBadRequest)
		}
	}
	if err := out.setKeyboard(msg.Keyboard); err != nil {
		return messenger.Sent{}, err
	}
	if msg.EditMessageID != "" && out.photo == "" {
		if sent, done, err := b.edit(ctx, out, msg.EditMessageID); done {
			return sent, err
		}
	}
	key, _ := messenger.IdempotencyKey(ctx)
	return b.sendNew(ctx, out, b.resume(key, out))
}

// chatID reads a Telegram chat id from a chat key.
func chatID(key messenger.ChatKey) (int64, error) {
	if key.Platform != messenger.Telegram {
		return 0, fmt.Errorf("telegram: chat %s is not a Telegram chat: %w", key, messenger.ErrBadRequest)
	}
	id, err := strconv.ParseInt(key.ID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("telegram: chat id %q is not an integer: %w", key.ID, messenger.ErrBadRequest)
	}
	return id, nil
}

// outgoing is a message ready for the wire.
type outgoing struct {
	chat   int64
	text   string
	photo  string // a picture's URL; "" for none
	inline *tgbotapi.InlineKeyboardMarkup
	reply  *tgbotapi.ReplyKeyboardMarkup
	remove bool
	// replyTo is the message the first part replies to (0: none).
	replyTo int
}

func (o *outgoing) setKeyboard(kb *messenger.Keyboard) error {
	if kb == nil {
		return nil
	}
	if kb.Kind == messenger.Reply {
		o.reply = replyMarkup(kb)
		return nil
	}
	var err error
	o.inline, err = inlineMarkup(kb)
	return err
}

// plan assigns markups to chunks; attach is an inline keyboard to add to the
// last message after it is sent (see Send).
func (o outgoing) plan(n int) (markups []any, attach *tgbotapi.InlineKeyboardMarkup) {
	markups = make([]any, n)
	last := n - 1
	removal := tgbotapi.NewRemoveKeyboard(false)
	switch {
	case o.reply != nil: // a new reply keyboard replaces the old one anyway
		markups[last] = o.reply
	case o.inline != nil && o.remove && n > 1:
		markups[0], markups[last] = removal, o.inline
	case o.inline != nil && o.remove:
		markups[0], attach = removal, o.inline
	case o.inline != nil:
		markups[last] = o.inline
	case o.remove:
		markups[0] = removal
	}
	return markups, attach
}

// sendNew sends o's parts (a photo, text chunks) after those r says were
// delivered, then attaches a pending inline keyboard, recording progress in r.
func (b *Bot) sendNew(ctx context.Context, o outgoing, r resumption) (messenger.Sent, error) {
	if r.p.done {
		b.log.Debug("message already sent; not sending it again", "chat_id", o.chat)
		return r.p.sent, nil
	}
	parts := o.parts()
	markups, attach := o.plan(len(parts))
	if r.p.delivered > 0 {
		b.log.Debug("resuming a split message", "chat_id", o.chat, "delivered", r.p.delivered, "chunks", len(parts))
	}
	last := r.p.lastID
	for i := r.p.delivered; i < len(parts); i++ {
		replyTo := 0 // only the first part replies
		if i == 0 {
			replyTo = o.replyTo
		}
		m, err := b.sendPart(ctx, o.chat, parts[i], markups[i], replyTo)
		if err != nil {
			return messenger.Sent{}, chunkError(i, len(parts), err)
		}
		last = m.MessageID
		r.delivered(i, last)
	}
	out := sent(last)
	if attach != nil {
		var err error
		if out, err = b.attach(ctx, o.chat, last, parts[len(parts)-1], attach); err != nil {
			return messenger.Sent{}, err
		}
	}
	r.finish(out)
	return out, nil
}

// chunkError names the failed chunk of a split message.
func chunkError(i, n int, err error) error {
	if n == 1 {
		return err
	}
	return fmt.Errorf("telegram: chunk %d of %d (%d delivered): %w", i+1, n, i, err)
}

func sent(messageID int) messenger.Sent {
	return messenger.Sent{MessageID: strconv.Itoa(messageID)}
}

// sendChunk sends one text message; replyTo > 0 makes it a reply to that
// message (sent as a plain message when that one is gone:
// allow_sending_without_reply).
func (b *Bot) sendChunk(ctx context.Context, chat int64, text string, markup any, replyTo int) (tgbotapi.Message, error) {
	if isPaidBroadcast(ctx) {
		return b.sendPaidChunk(ctx, chat, text, markup)
	}
	// Only the id of the sent message is used (sendMessage decodes just
	// that, not the whole Message).
	id, err := b.sendMessage(ctx, chat, text, markup, replyTo)
	return tgbotapi.Message{MessageID: id}, err
}

// attach adds an inline keyboard to a message just sent with a reply-keyboard
// removal; if Telegram refuses, the message (p) is sent again with the
// keyboard so the client can still answer.
func (b *Bot) attach(ctx context.Context, chat int64, id int, p part, kb *tgbotapi.InlineKeyboardMarkup) (messenger.Sent, error) {
	err := b.editReplyMarkup(ctx, chat, id, kb)
	switch {
	case err == nil, notModified(err): // not modified: a retry after an answer was lost
		return sent(id), nil
	case !errors.Is(err, messenger.ErrBadRequest):
		return messenger.Sent{}, err
	}
	b.log.Warn("attaching inline keyboard failed; sending the text again with it", "chat_id", chat, "err", err)
	m, err := b.sendPart(ctx, chat, p, kb, 0)
	if err != nil {
		return messenger.Sent{}, err
	}
	return sent(m.MessageID), nil
}

// edit tries editMessageText; done is false when a new message must be sent.
func (b *Bot) edit(ctx context.Context, o outgoing, rawID string) (s messenger.Sent, done bool, err error) {
	id, convErr := strconv.Atoi(rawID)
	if o.reply != nil || o.remove || textLen(o.text) > MaxTextLen || convErr != nil || id <= 0 {
		return messenger.Sent{}, false, nil
	}
	// The edit is noted before it is sent, and a mark of the message in
	// flight is waited for: no press's mark lands over it (markQueue).
	k := msgKey{chat: o.chat, msg: id}
	b.marks.noteEdit(k, b.clock())
	b.markq.settle(ctx, k)
	err = b.editMessageText(ctx, o.chat, id, o.text, o.inline)
	if err == nil || notModified(err) {
		return sent(id), true, nil
	}
	if errors.Is(err, messenger.ErrBadRequest) {
		b.log.Debug("edit refused; sending a new message", "chat_id", o.chat, "err", err)
		return messenger.Sent{}, false, nil
	}
	return messenger.Sent{}, true, err
}

// notModified reports Telegram's refusal of an edit that changes nothing.
func notModified(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == 400 && strings.Contains(e.Description, "message is not modified")
}
