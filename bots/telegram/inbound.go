package telegram

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// sideCallTimeout bounds answering a callback query and marking an option.
const sideCallTimeout = 5 * time.Second

// maxSideCalls bounds each kind of side calls of button presses (callback
// answers; option marks, see markQueue) a Bot has in flight at once. A
// batch's side calls go out together, not one by one: with a round trip of
// 10 ms to Telegram, one at a time would hold polling to about a hundred
// presses a second.
const maxSideCalls = 32

// batch is a set of received updates ready for the sink.
type batch struct {
	updates []*messenger.Update
	// side are the callback answers prepare started.
	side *sideCalls
}

// sideCalls are the callback answers of one batch, at most maxSideCalls
// at a time over the whole Bot. The marks of the presses go out apart
// (markQueue), once each press is handled, so that marks, which are
// cosmetic, never hold up the answers (and with them the polling loop)
// when edits slow down.
type sideCalls struct {
	answers chan struct{} // the Bot's
	wg      sync.WaitGroup
}

// start runs fn in a goroutine of its own once one of the Bot's answer
// slots is free: while maxSideCalls are in flight it waits (in the caller,
// no goroutine is made). It skips fn when ctx ends first.
func (s *sideCalls) start(ctx context.Context, fn func()) {
	select {
	case s.answers <- struct{}{}:
	case <-ctx.Done():
		return
	}
	s.wg.Go(func() {
		defer func() { <-s.answers }()
		fn()
	})
}

// wait waits for the side calls started so far.
func (s *sideCalls) wait() { s.wg.Wait() }

// prepare translates raw updates (logging the ignored ones at debug) and
// starts answering the callback queries among them, all at once (see
// maxSideCalls), so the client's button stops spinning while the press is
// handled; bt.side.wait waits for the answers. A press carries the mark to
// show once it is handled (Update.PressMark, see BeginPress): its
// message's keyboard with the pressed option marked.
func (b *Bot) prepare(ctx context.Context, raw []tgbotapi.Update) batch {
	bt := batch{side: &sideCalls{answers: b.answerSlots}}
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
			bt.side.start(ctx, func() { b.answer(ctx, q.ID) })
			out.PressMark = b.pressMark(q)
		}
	}
	return bt
}

// pressMark is the keyboard of a pressed message with the pressed option
// marked, encoded; nil when there is nothing to mark.
func (b *Bot) pressMark(q *tgbotapi.CallbackQuery) json.RawMessage {
	markup, changed := markChosen(q.Message.ReplyMarkup, q.Data)
	if !changed {
		return nil
	}
	kb, err := json.Marshal(markup)
	if err != nil {
		b.log.Debug("encoding the chosen option's mark failed", "err", err)
		return nil
	}
	if len(kb) > maxPressMark {
		b.log.Debug("the pressed message's keyboard is too big to carry its mark; the chosen option is not marked", "bytes", len(kb))
		return nil
	}
	return kb
}

// maxPressMark bounds the mark an update carries (Update.PressMark, the
// pressed message's keyboard): it travels through the relay's queue and
// waits in the mark queue, so their memory stays bounded by count. A
// keyboard of the scenarios' size is well under 1 KB.
const maxPressMark = 8 << 10

// answer acknowledges a callback query; failures (say, a query already
// answered before a redelivery) only get a debug line.
func (b *Bot) answer(ctx context.Context, queryID string) {
	ctx, cancel := context.WithTimeout(ctx, sideCallTimeout)
	defer cancel()
	if err := b.answerCallback(ctx, queryID); err != nil {
		b.log.Debug("answering callback query failed", "err", err)
	}
}

// deliver hands the batch to the sink and returns when it is handled and
// its callback answers are done. The presses are marked where they are
// handled (BeginPress).
func (b *Bot) deliver(ctx context.Context, sink messenger.Sink, bt batch) error {
	err := sink.Deliver(ctx, bt.updates)
	bt.side.wait()
	return err
}
