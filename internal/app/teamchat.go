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

// newTeamChats builds the managers' team chats over the hand-off store and
// service, posting through sender (the process's bots, routed by chat
// key): the Telegram group of MANAGERS_TELEGRAM_CHAT_ID and the VK
// conversation of MANAGERS_VK_PEER_ID, either, both or none (nil, no
// error). Each posts through its platform's bot (cfg.TeamChatBot,
// cfg.TeamChatVKBot), which Bots also told to read the chat.
func newTeamChats(cfg config.Config, store handoff.TeamChatStore, svc handoff.TeamService, sender messenger.Sender, logger *slog.Logger) (handoff.TeamChats, error) {
	var out handoff.TeamChats
	add := func(chat messenger.ChatKey) error {
		tc, err := handoff.NewTeamChat(handoff.TeamChatConfig{Store: store, Service: svc, Sender: sender, Logger: logger, Chat: chat})
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
