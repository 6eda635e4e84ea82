package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/remind"
)

// reminderChatWait bounds how long a reminder waits for its chat's turn:
// a chat another turn holds is busy with its client, and the reminder is
// tried again later (it is most likely answered by then).
const reminderChatWait = 5 * time.Second

// reminderSender implements remind.Sender over the chat gate: it holds the
// chat's turn (the lock the inbound pipeline takes, so a reminder never
// interleaves with an answer) under the reminder's own update id, so that a
// reminder carried out by a process that died before finishing it is a
// duplicate, and hands the reminder to the dialog handler of its chat's bot.
type reminderSender struct {
	gate dispatch.Gate
	// bots returns the handler of a bot; nil when no such bot runs here.
	bots func(bot string) *dialog.Handler
	// ttl bounds how long the chat's turn is held.
	ttl time.Duration
}

// Remind implements remind.Sender.
func (s reminderSender) Remind(ctx context.Context, r dialog.Reminder) (dialog.RemindOutcome, error) {
	h := s.bots(r.Chat.Bot)
	if h == nil {
		return 0, fmt.Errorf("reminder of %s: no %s bot %s runs in this process", r.Chat, r.Chat.Platform, displayName(r.Chat.Bot))
	}
	leave, dup, err := s.gate.Enter(dispatch.WithWaitLimit(ctx, reminderChatWait), r.Chat, r.UpdateID(), s.ttl)
	if err != nil {
		return 0, fmt.Errorf("reminder of %s: wait for the chat's turn: %w", r.Chat, err)
	}
	if dup {
		return dialog.RemindRepeated, nil
	}
	out, err := h.Remind(ctx, r)
	if lerr := leave(context.WithoutCancel(ctx), err == nil); lerr != nil {
		err = errors.Join(err, fmt.Errorf("reminder of %s: release the chat: %w", r.Chat, lerr))
	}
	return out, err
}

// reminderPacer spaces reminders by each bot's broadcast budget (the
// Telegram bot's, shared in Redis with its campaigns); a bot without one
// (VK paces every request in its adapter) sends at once.
type reminderPacer map[senderKey]broadcast.Limiter

// Wait implements remind.Pacer.
func (p reminderPacer) Wait(ctx context.Context, chat messenger.ChatKey) error {
	if l := p[senderKey{chat.Platform, chat.Bot}]; l != nil {
		return l.Wait(ctx, 1)
	}
	return nil
}

// newReminderWorker builds the process's reminder Worker over the shared
// queue (Redis), the CRM and the bots' handlers of router: the quiet hours
// are the campaigns' (QUIET_HOURS in the client's timezone, else
// DEFAULT_TIMEZONE), and Telegram reminders draw on the bot's broadcast
// budget.
func newReminderWorker(cfg config.Config, stores *Stores, router botRouter, bots []Bot, logger *slog.Logger) (*remind.Worker, error) {
	svc, err := BroadcastService(cfg, stores.CRM, stores.Catalog(), logger)
	if err != nil {
		return nil, err
	}
	pacer := reminderPacer{}
	for _, b := range bots {
		if b.Broadcast != nil && b.Broadcast.Limiter != nil {
			pacer[senderKey{b.Platform, b.Name}] = b.Broadcast.Limiter
		}
	}
	sender := reminderSender{gate: stores.State, ttl: cfg.HandleTimeout + 5*time.Second,
		bots: func(bot string) *dialog.Handler { return router[bot] }}
	w, err := remind.NewWorker(remind.Config{
		Queue: stores.State, Clients: stores.CRM, Sender: sender, Quiet: svc.Policy(), Pacer: pacer,
		Lease: max(remind.DefaultLease, 2*sender.ttl+reminderChatWait), Outage: stores.Health.Outage,
		Logger: logger.With("component", "remind"), Now: stores.clock(),
	})
	if err != nil {
		return nil, fmt.Errorf("reminder worker: %w", err)
	}
	return w, nil
}
