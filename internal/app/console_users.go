package app

import (
	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
)

// consoleUsers fills cc.Users with internal/account's Service — the one
// `chathub user` uses — when it is the console's Auth (Open makes it so):
// accounts, generated passwords, and the last sign-ins from its audit log.
func (s *Stores) consoleUsers(_ config.Config, _ consoleServices, cc *console.Config) error {
	svc, ok := s.ConsoleAuth.(*account.Service)
	if !ok {
		return nil
	}
	cc.Users = console.UserPages{Accounts: svc, GeneratePassword: svc.GeneratePassword, SignIns: svc}
	return nil
}
