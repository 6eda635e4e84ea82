package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// newTeamChat builds the managers' team chat of MANAGERS_TELEGRAM_CHAT_ID
// over the hand-off store and service, posting through sender (the
// process's bots, routed by chat key); nil (and no error) when no team
// chat is configured. The posting bot is cfg.TeamChatBot's, which Bots
// also told to read the chat.
func newTeamChat(cfg config.Config, store handoff.TeamChatStore, svc handoff.TeamService, sender messenger.Sender, logger *slog.Logger) (*handoff.TeamChat, error) {
	bot, ok, err := cfg.TeamChatBot()
	if err != nil || !ok {
		return nil, err
	}
	tc, err := handoff.NewTeamChat(handoff.TeamChatConfig{
		Store: store, Service: svc, Sender: sender, Logger: logger,
		Chat: messenger.ChatKey{Platform: messenger.Telegram, Bot: bot, ID: strconv.FormatInt(cfg.TeamChat.ChatID, 10)},
	})
	if err != nil {
		return nil, fmt.Errorf("managers' team chat: %w", err)
	}
	return tc, nil
}

// newTeamChatRouter hands the team chat's updates (upd.Team) to tc and
// every other update to h, so a group's message never reaches the dialog
// (it would become a client). A Team update without a team chat (tc nil)
// or of another chat than tc's is dropped with a warning.
func newTeamChatRouter(h dispatch.Handler, tc *handoff.TeamChat, logger *slog.Logger) dispatch.Handler {
	return dispatch.HandlerFunc(func(ctx context.Context, upd *messenger.Update) error {
		if !upd.Team {
			return h.Handle(ctx, upd)
		}
		if tc == nil || upd.Chat != tc.Chat() {
			logger.Warn("team chat update of another chat ignored", "chat", upd.Chat.String(), "update_id", upd.ID)
			return nil
		}
		return tc.HandleUpdate(ctx, upd)
	})
}
