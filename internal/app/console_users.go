package app

import (
	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleUsers fills cc.Users with internal/account's Service — the one
// `chathub user` uses — when it is the console's Auth (Open makes it so):
// accounts, generated passwords, and the last sign-ins from its audit log;
// and Профиль's messenger links over the same Service, offering the
// platforms with a managers' team chat.
func (s *Stores) consoleUsers(cfg config.Config, _ consoleServices, cc *console.Config) error {
	svc, ok := s.ConsoleAuth.(*account.Service)
	if !ok {
		return nil
	}
	cc.Users = console.UserPages{Accounts: svc, GeneratePassword: svc.GeneratePassword, SignIns: svc}
	cc.Profile = console.ProfilePages{Links: svc, Platforms: teamChatPlatforms(cfg)}
	return nil
}

// teamChatPlatforms are the platforms with a managers' team chat, where a
// console user can send a link code.
func teamChatPlatforms(cfg config.Config) []string {
	var out []string
	if cfg.TeamChat.ChatID != 0 {
		out = append(out, account.PlatformTelegram)
	}
	if cfg.TeamChat.VKPeerID != 0 {
		out = append(out, account.PlatformVK)
	}
	return out
}
