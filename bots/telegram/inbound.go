package telegram

import (
	"context"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// sideCallTimeout bounds answering a callback query and marking an option.
const sideCallTimeout = 5 * time.Second

// batch is a set of received updates ready for the sink.
type batch struct {
	updates []*messenger.Update
	presses []press
}

// pressKeys are the messages whose buttons the batch presses.
func (bt batch) pressKeys() []msgKey {
	keys := make([]msgKey, len(bt.presses))
	for i, p := range bt.presses {
		keys[i] = p.key
	}
	return keys
}

// press is a button press: its message gets the chosen option marked unless
// the engine edits that message while handling the press.
type press struct {
	key    msgKey
	data   string
	markup *tgbotapi.InlineKeyboardMarkup
}

// prepare translates raw updates (logging the ignored ones at debug) and
// answers the callback queries among them, so the client's button stops
// spinning before the press is handled.
func (b *Bot) prepare(ctx context.Context, raw []tgbotapi.Update) batch {
	var bt batch
	now := b.clock()
	for i := range raw {
		u := &raw[i]
		out, reason := translate(u, now, b.cfg.ManagersChatID, b.botID)
		if m := u.Message; out == nil && m != nil && m.MigrateToChatID != 0 && m.Chat != nil && m.Chat.ID == b.cfg.ManagersChatID {
			b.log.Warn("the managers' team chat became a supergroup with a new id: set MANAGERS_TELEGRAM_CHAT_ID to it",
				"new_chat_id", m.MigrateToChatID)
		}
		if out == nil {
			b.log.Debug("update ignored", "update_id", u.UpdateID, "reason", reason)
			continue
		}
		out.Chat.Bot = b.cfg.Bot
		bt.updates = append(bt.updates, out)
		if q := u.CallbackQuery; out.Kind == messenger.KindButton && q != nil {
			b.answer(ctx, q.ID)
			bt.presses = append(bt.presses, press{
				key: msgKey{chat: q.Message.Chat.ID, msg: q.Message.MessageID}, data: q.Data, markup: q.Message.ReplyMarkup,
			})
		}
	}
	return bt
}

// answer acknowledges a callback query; failures (say, a query already
// answered before a redelivery) only get a debug line.
func (b *Bot) answer(ctx context.Context, queryID string) {
	ctx, cancel := context.WithTimeout(ctx, sideCallTimeout)
	defer cancel()
	if err := b.answerCallback(ctx, queryID); err != nil {
		b.log.Debug("answering callback query failed", "err", err)
	}
}

// deliver hands the batch to the sink and, once it is handled, marks the
// chosen option on every pressed message the engine did not edit.
func (b *Bot) deliver(ctx context.Context, sink messenger.Sink, bt batch) error {
	keys := bt.pressKeys()
	b.marks.begin(keys)
	err := sink.Deliver(ctx, bt.updates)
	edited := b.marks.end(keys)
	if err != nil {
		return err
	}
	for i, p := range bt.presses {
		if !edited[i] {
			b.markChosen(ctx, p)
		}
	}
	return nil
}

// markChosen prefixes ChosenMark to the pressed button's caption.
func (b *Bot) markChosen(ctx context.Context, p press) {
	markup, changed := markChosen(p.markup, p.data)
	if !changed {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sideCallTimeout)
	defer cancel()
	if err := b.editReplyMarkup(ctx, p.key.chat, p.key.msg, markup); err != nil && !notModified(err) {
		b.log.Debug("marking the chosen option failed", "chat_id", p.key.chat, "err", err)
	}
}
