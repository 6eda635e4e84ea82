package postgres

import (
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/account/accounttest"
)

// TestAccounts runs the account conformance suite on every backend.
func TestAccounts(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			accounttest.Run(t, func(t *testing.T) account.Store { return b.open(t) })
		})
	}
}
