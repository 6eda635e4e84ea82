package console

import (
	"context"
	"net/url"
	"strconv"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/messenger"
)

// tourPlaygroundClients is the link from the playground to its clients
// under Клиенты — the next step of a newcomer's tour (issue 11: "chats in
// the playground, sees the card appear under Клиенты") — or "" when the
// user may not open Клиенты or the section is not configured.
func (c *Console) tourPlaygroundClients(ctx context.Context) string {
	if !c.cfg.Clients.configured() || !userFrom(ctx).Role.AtLeast(account.RoleManager) {
		return ""
	}
	return "/clients?" + url.Values{"segment": {"platform == " + strconv.Quote(string(messenger.Playground))}}.Encode()
}
