package telegram

import (
	"context"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// PaidBroadcaster sends through a Bot with allow_paid_broadcast set on every
// sendMessage and sendPhoto: Telegram then lets the bot send up to 1000 messages per
// second and charges Stars for those above the free limit. Broadcasts opt
// in (TELEGRAM_PAID_BROADCAST); replies never go through it.
type PaidBroadcaster struct{ bot *Bot }

var _ messenger.Sender = PaidBroadcaster{}

// PaidBroadcaster returns a Sender like b whose messages are paid broadcasts.
func (b *Bot) PaidBroadcaster() PaidBroadcaster { return PaidBroadcaster{bot: b} }

// Send implements messenger.Sender: Bot.Send with allow_paid_broadcast.
func (p PaidBroadcaster) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	return p.bot.Send(context.WithValue(ctx, paidBroadcastKey{}, true), msg)
}

// paidBroadcastKey marks a context whose sends are paid broadcasts.
type paidBroadcastKey struct{}

func isPaidBroadcast(ctx context.Context) bool {
	v, _ := ctx.Value(paidBroadcastKey{}).(bool)
	return v
}

// sendPaidChunk is sendChunk with allow_paid_broadcast: the library's
// MessageConfig has no such field (v5.5.1) and its Chattable cannot be
// implemented outside it, so the parameters are built as MessageConfig
// builds them (plain text, no parse mode) plus that one.
func (b *Bot) sendPaidChunk(ctx context.Context, chat int64, text string, markup any) (tgbotapi.Message, error) {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", chat)
	p.AddNonEmpty("text", text)
	if markup != nil {
		if err := p.AddInterface("reply_markup", markup); err != nil {
			return tgbotapi.Message{}, fmt.Errorf("telegram: sendMessage: encode reply_markup: %w", err)
		}
	}
	p.AddBool("allow_paid_broadcast", true)
	var m tgbotapi.Message
	err := b.callParams(ctx, "sendMessage", p, &m)
	return m, err
}
