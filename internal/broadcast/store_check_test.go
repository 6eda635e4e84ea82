package broadcast_test

import (
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/store/postgres"
)

// The CRM store implements every port the broadcaster declares.
var (
	_ broadcast.CampaignStore = (*postgres.Store)(nil)
	_ broadcast.Ledger        = (*postgres.Store)(nil)
	_ broadcast.LedgerAdmin   = (*postgres.Store)(nil)
	_ broadcast.Segments      = (*postgres.Store)(nil)
	_ broadcast.ClientLoader  = (*postgres.Store)(nil)
)
