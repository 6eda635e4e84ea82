package console

import (
	"time"

	"github.com/chathub/chathub/internal/account"
)

// siteUsers is Пользователи of the browser tests' site: the accounts of
// consoletest.NewAuth (one per role) and a user named <script>, over the
// hand-written fake service.
func siteUsers() UserPages {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	accounts := newFakeAccounts(
		account.User{ID: 1, Name: "admin", Role: account.RoleAdmin, CreatedAt: at},
		account.User{ID: 2, Name: "manager", Role: account.RoleManager, CreatedAt: at},
		account.User{ID: 3, Name: "operator", Role: account.RoleOperator, CreatedAt: at},
		account.User{ID: 4, Name: "<script>", Role: account.RoleOperator, CreatedAt: at},
	)
	gen := &generated{}
	return UserPages{Accounts: accounts, GeneratePassword: gen.next}
}
