package telegram

import (
	"context"
	"slices"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// sideCallTimeout bounds answering a callback query and marking an option.
const sideCallTimeout = 5 * time.Second

// maxSideCalls bounds each kind of side calls of button presses (callback
// answers; option marks) a Bot has in flight at once. A batch's side calls go out
// together, not one by one: with a round trip of 10 ms to Telegram, one at
// a time would hold polling to about a hundred presses a second.
const maxSideCalls = 32

// batch is a set of received updates ready for the sink.
type batch struct {
	updates []*messenger.Update
	presses []press
	// side are the batch's side calls in flight: the callback answers
	// prepare started, then the marks.
	side *sideCalls
}

// sideCalls are the side calls of one batch: callback answers and option
// marks, each kind at most maxSideCalls at a time over the whole Bot. The
// kinds have slots of their own so that marks, which are cosmetic, never
// hold up the answers (and with them the polling loop) when edits slow
// down.
type sideCalls struct {
	answers, marks chan struct{} // the Bot's
	wg             sync.WaitGroup
}

// start runs fn in a goroutine of its own once one of slots is free: while
// maxSideCalls are in flight it waits (in the caller, no goroutine is
// made). It skips fn when ctx ends first.
func (s *sideCalls) start(ctx context.Context, slots chan struct{}, fn func()) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	s.wg.Go(func() {
		defer func() { <-slots }()
		fn()
	})
}

// wait waits for the side calls started so far.
func (s *sideCalls) wait() { s.wg.Wait() }

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
// starts answering the callback queries among them, all at once (see
// maxSideCalls), so the client's button stops spinning while the press is
// handled; bt.side.wait waits for the answers.
func (b *Bot) prepare(ctx context.Context, raw []tgbotapi.Update) batch {
	bt := batch{side: &sideCalls{answers: b.answerSlots, marks: b.markSlots}}
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
			bt.side.start(ctx, bt.side.answers, func() { b.answer(ctx, q.ID) })
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
// chosen option on every pressed message the engine did not edit; it
// returns when the batch's side calls are done.
func (b *Bot) deliver(ctx context.Context, sink messenger.Sink, bt batch) error {
	keys := bt.pressKeys()
	b.marks.begin(keys)
	err := sink.Deliver(ctx, bt.updates)
	edited := b.marks.end(keys)
	if err == nil {
		b.markAll(ctx, bt, edited)
	}
	bt.side.wait()
	return err
}

// markAll starts marking the chosen option on the pressed messages the
// engine did not edit (edited[i] for bt.presses[i]): the chats at once
// (see maxSideCalls), each chat's marks in the order of its presses, so
// the last press of a message is the one its keyboard shows.
func (b *Bot) markAll(ctx context.Context, bt batch, edited []bool) {
	type mark struct {
		key    msgKey
		markup *tgbotapi.InlineKeyboardMarkup
	}
	var chats []int64
	byChat := map[int64][]mark{}
	for i, p := range bt.presses {
		if edited[i] {
			continue
		}
		markup, changed := markChosen(p.markup, p.data)
		if !changed {
			continue
		}
		if _, ok := byChat[p.key.chat]; !ok {
			chats = append(chats, p.key.chat)
		}
		// Only a message's last mark shows: an earlier one is dropped.
		marks := slices.DeleteFunc(byChat[p.key.chat], func(m mark) bool { return m.key == p.key })
		byChat[p.key.chat] = append(marks, mark{p.key, markup})
	}
	for _, c := range chats {
		marks := byChat[c]
		bt.side.start(ctx, bt.side.marks, func() {
			for _, m := range marks {
				b.mark(ctx, m.key, m.markup)
			}
		})
	}
}

// mark sets a pressed message's keyboard to markup, its chosen option
// marked; failures only get a debug line.
func (b *Bot) mark(ctx context.Context, key msgKey, markup *tgbotapi.InlineKeyboardMarkup) {
	ctx, cancel := context.WithTimeout(ctx, sideCallTimeout)
	defer cancel()
	if err := b.editReplyMarkup(ctx, key.chat, key.msg, markup); err != nil && !notModified(err) {
		b.log.Debug("marking the chosen option failed", "chat_id", key.chat, "err", err)
	}
}
