package account_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/account/accounttest"
)

// BenchmarkAuthenticate measures one successful login with the production
// argon2id parameters (DefaultArgon2) over the in-memory store: the cost
// is the hash.
func BenchmarkAuthenticate(b *testing.B) {
	svc, err := account.NewService(account.Config{Store: accounttest.NewMemStore(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, "anna", "correct horse battery", "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}
