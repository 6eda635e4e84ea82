package postgres

import (
	"context"
	"errors"
	"path/filepath"
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

// TestSessionsSharedAndDurable: a session started by one process is seen
// by another on the same database and outlives the process that started
// it; a logout in one is seen by the other; the token is stored hashed.
func TestSessionsSharedAndDurable(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		name string
		cfg  func(t *testing.T) Config
	}{
		{DialectSQLite, func(t *testing.T) Config { return Config{URL: filepath.Join(t.TempDir(), "a.db")} }},
		{DialectPostgres, func(t *testing.T) Config { return Config{URL: testDatabaseURL(), Schema: newPGSchema(t)} }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := b.cfg(t)
			first, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			a := accounttest.NewEnv(t, first)
			u, err := a.Svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := a.Svc.StartSession(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			var stored int64
			if err := first.db.Raw("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", tok).Scan(&stored).Error; err != nil || stored != 0 {
				t.Errorf("rows holding the plain token: %d, %v", stored, err)
			}
			if err := first.Close(); err != nil { // the first process stops
				t.Fatal(err)
			}
			second := mustOpen(t, cfg)
			third := mustOpen(t, cfg)
			b2, b3 := accounttest.NewEnv(t, second), accounttest.NewEnv(t, third)
			for i, svc := range []*account.Service{b2.Svc, b3.Svc} {
				if got, err := svc.Session(ctx, tok); err != nil || got.Name != "anna" {
					t.Fatalf("process %d after the restart: %+v, %v", i+2, got, err)
				}
			}
			if err := b2.Svc.EndSession(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if _, err := b3.Svc.Session(ctx, tok); !errors.Is(err, account.ErrNoSession) {
				t.Errorf("another process after the logout: %v; want ErrNoSession", err)
			}
		})
	}
}
