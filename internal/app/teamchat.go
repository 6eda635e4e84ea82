package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// newTeamChats builds the managers' team chats over the hand-off store and
// service, posting through sender (the process's bots, routed by chat
// key), their members linked to console logins by managers (nil: none):
// the Telegram group of MANAGERS_TELEGRAM_CHAT_ID and the VK conversation
// of MANAGERS_VK_PEER_ID, either, both or none (nil, no error). Each posts
// through its platform's bot (cfg.TeamChatBot, cfg.TeamChatVKBot), which
// Bots also told to read the chat.
func newTeamChats(cfg config.Config, store handoff.TeamChatStore, svc handoff.TeamService, sender messenger.Sender,
	managers handoff.Managers, logger *slog.Logger) (handoff.TeamChats, error) {
	var out handoff.TeamChats
	add := func(chat messenger.ChatKey) error {
		tc, err := handoff.NewTeamChat(handoff.TeamChatConfig{
			Store: store, Service: svc, Sender: sender, Logger: logger, Managers: managers, Chat: chat,
		})
		if err != nil {
			return fmt.Errorf("managers' team chat: %w", err)
		}
		out = append(out, tc)
		return nil
	}
	bot, ok, err := cfg.TeamChatBot()
	if err != nil {
		return nil, err
	}
	if ok {
		chat := messenger.ChatKey{Platform: messenger.Telegram, Bot: bot, ID: strconv.FormatInt(cfg.TeamChat.ChatID, 10)}
		if err := add(chat); err != nil {
			return nil, err
		}
	}
	bot, ok, err = cfg.TeamChatVKBot()
	if err != nil {
		return nil, err
	}
	if ok {
		chat := messenger.ChatKey{Platform: messenger.VK, Bot: bot, ID: strconv.FormatInt(cfg.TeamChat.VKPeerID, 10)}
		if err := add(chat); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newTeamChatRouter hands the team chats' updates (upd.Team) to the team
// chat of their chat and every other update to h, so a group's message
// never reaches the dialog (it would become a client). A Team update of no
// team chat of tcs is dropped with a warning.
func newTeamChatRouter(h dispatch.Handler, tcs handoff.TeamChats, logger *slog.Logger) dispatch.Handler {
	return dispatch.HandlerFunc(func(ctx context.Context, upd *messenger.Update) error {
		if !upd.Team {
			return h.Handle(ctx, upd)
		}
		tc := tcs.Find(upd.Chat)
		if tc == nil {
			logger.Warn("team chat update of another chat ignored", "chat", upd.Chat.String(), "update_id", upd.ID)
			return nil
		}
		return tc.HandleUpdate(ctx, upd)
	})
}

// teamChatAccounts are the team chat's links to console logins: the
// console's account Service (nil managers when there is none), and svc
// audited like the console's actions under the linked login.
func teamChatAccounts(stores *Stores, svc handoff.TeamService, logger *slog.Logger) (handoff.TeamService, handoff.Managers) {
	acc, ok := stores.ConsoleAuth.(*account.Service)
	if !ok || acc == nil {
		return svc, nil
	}
	return &auditedTeamService{TeamService: svc, Log: acc, Logger: logger}, acc
}

// auditedTeamService writes the team chat's take, reply and return to the
// audit log (handoff.take, handoff.reply, handoff.return, "via team chat")
// when the context names the actor: a manager linked to a console login
// (handoff.TeamChat puts it there). An unlinked member's actions are not
// audited: they have no console user to record them under.
type auditedTeamService struct {
	handoff.TeamService
	Log    admin.AuditLog
	Logger *slog.Logger
}

func (a *auditedTeamService) record(ctx context.Context, action string, id int64, details string) {
	if actor, ok := account.ActorIn(ctx); ok {
		recordHandoff(ctx, a.Log, a.Logger, actor, action, id, details+", via team chat")
	}
}

// Take implements handoff.TeamService and records handoff.take.
func (a *auditedTeamService) Take(ctx context.Context, id int64, manager string) (handoff.Request, error) {
	r, err := a.TeamService.Take(ctx, id, manager)
	if err == nil {
		a.record(ctx, account.ActionHandoffTake, id, "client "+strconv.FormatInt(r.ClientID, 10))
	}
	return r, err
}

// Reply implements handoff.TeamService and records handoff.reply.
func (a *auditedTeamService) Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error) {
	m, err := a.TeamService.Reply(ctx, id, manager, text, wait)
	if err == nil {
		a.record(ctx, account.ActionHandoffReply, id, replyDetails(m))
	}
	return m, err
}

// Return implements handoff.TeamService and records handoff.return.
func (a *auditedTeamService) Return(ctx context.Context, id int64, by, scenario string) error {
	err := a.TeamService.Return(ctx, id, by, scenario)
	if err == nil {
		a.record(ctx, account.ActionHandoffReturn, id, returnDetails(scenario))
	}
	return err
}
