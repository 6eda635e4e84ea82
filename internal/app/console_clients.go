package app

import (
	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/erasure"
)

// consoleClients fills cc.Clients: the CRM's queries and segment compiler,
// the audited saved-segment service the API uses, the audited client
// service (edits, 152-FZ erasure of the CRM data and the Redis state), and
// the console's users as manager suggestions.
func (s *Stores) consoleClients(_ config.Config, sv consoleServices, cc *console.Config) error {
	saver := sv.audited
	editor, err := s.ClientService("console")
	if err != nil {
		return err
	}
	cc.Clients = console.ClientPages{Clients: s.CRM, Segments: s.CRM, Saver: saver, Editor: editor,
		Exports: editor} // the CSV export is audited as client.export
	if users, ok := s.ConsoleAuth.(console.ClientUserDirectory); ok {
		cc.Clients.Users = users
	}
	return nil
}

// ClientService is the audited client service over the stores (edits and
// erasure; actor names the caller when the context names no user: "api",
// "cli", "console").
func (s *Stores) ClientService(actor string) (*admin.ClientService, error) {
	log, err := account.NewService(account.Config{Store: s.CRM, Logger: s.logger})
	if err != nil {
		return nil, err
	}
	return &admin.ClientService{Store: s.CRM, States: s.State, Log: log, Actor: actor, Logger: s.logger}, nil
}

// eraser is the client erasure over the stores (the bots' /forget; the
// console and API reach the same function through ClientService).
func (s *Stores) eraser() erasure.Eraser {
	return erasure.Eraser{CRM: s.CRM, States: s.State}
}
