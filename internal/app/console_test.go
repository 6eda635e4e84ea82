package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/logtest"
)

// server is what both `chathub run` and `chathub console` start.
type server interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Addr() string
}

// TestConsoleMounted: `chathub run` (the Runtime) and `chathub console`
// (the ConsoleServer) serve the web console at / when an Auth is wired,
// next to the probes and the API; without one they log that the console
// is not available and answer / with 404 as before.
func TestConsoleMounted(t *testing.T) {
	t.Parallel()
	builders := map[string]func(t *testing.T, cfg config.Config, stores *Stores, logger *slog.Logger) server{
		"run": func(t *testing.T, cfg config.Config, stores *Stores, logger *slog.Logger) server {
			idle := func(ctx context.Context, _ messenger.Sink) error { <-ctx.Done(); return nil }
			rt, err := NewRuntime(cfg, stores, []Bot{{Platform: messenger.Telegram, Sender: &recorder{}, Poll: idle}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			return rt
		},
		"console": func(t *testing.T, cfg config.Config, stores *Stores, logger *slog.Logger) server {
			s, err := NewConsoleServer(cfg, stores, logger)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, build := range builders {
		for _, withAuth := range []bool{true, false} {
			t.Run(name+map[bool]string{true: " with auth", false: " without auth"}[withAuth], func(t *testing.T) {
				t.Parallel()
				cfg := embedded.cfg(t)
				cfg.HTTPAddr = "127.0.0.1:0"
				var logs logtest.Buffer
				logger := slog.New(slog.NewTextHandler(&logs, nil))
				stores, err := Open(context.Background(), cfg, logger)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = stores.Close() })
				stores.ConsoleAuth = nil // Open sets the account service; see TestConsoleSignsInWithAccounts
				if withAuth {
					stores.ConsoleAuth = consoletest.NewAuth()
				}
				srv := build(t, cfg, stores, logger)
				if err := srv.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = srv.Stop(context.Background()) })
				base := "http://" + srv.Addr()
				wantLogin := http.StatusNotFound
				if withAuth {
					wantLogin = http.StatusOK
				}
				checks := []struct {
					path   string
					status int
					body   string
				}{
					{"/healthz", http.StatusOK, "ok"},
					{"/readyz", http.StatusOK, `"ready":true`},
					{"/api/segments", http.StatusServiceUnavailable, ""}, // ADMIN_TOKEN unset: the API as before
					{"/login", wantLogin, map[bool]string{true: "Имя пользователя"}[withAuth]},
				}
				for _, c := range checks {
					resp, err := http.Get(base + c.path)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != c.status || !strings.Contains(string(body), c.body) {
						t.Errorf("GET %s = %d, want %d with %q: %.200s", c.path, resp.StatusCode, c.status, c.body, body)
					}
				}
				notAvailable := strings.Contains(logs.String(), "web console not available")
				if notAvailable == withAuth {
					t.Errorf("log says console not available = %v with auth = %v:\n%s", notAvailable, withAuth, logs.String())
				}
			})
		}
	}
}

var _ console.Auth = (*consoletest.Auth)(nil)

// TestConsoleSignsInWithAccounts: `chathub console` as Open wires it signs
// in a user of internal/account (made as `chathub user add` makes one),
// refuses a wrong password, and records both in the audit log.
func TestConsoleSignsInWithAccounts(t *testing.T) {
	t.Parallel()
	cfg := embedded.cfg(t)
	cfg.HTTPAddr = "127.0.0.1:0"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	accounts, ok := stores.ConsoleAuth.(*account.Service)
	if !ok {
		t.Fatalf("Open wired %T as the console's Auth, want *account.Service", stores.ConsoleAuth)
	}
	if _, err := accounts.AddUser(context.Background(), "anna", account.RoleManager, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	srv, err := NewConsoleServer(cfg, stores, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	base := "http://" + srv.Addr()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func(password string) *http.Response {
		t.Helper()
		resp, err := client.PostForm(base+"/login", url.Values{"name": {"anna"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := login("wrong password!"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", resp.StatusCode)
	}
	resp := login("correct horse battery")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 {
		t.Fatalf("login: %d with cookies %v, want 303 and a session cookie", resp.StatusCode, resp.Cookies())
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	page, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "Обзор") || !strings.Contains(string(body), "anna") {
		t.Fatalf("GET / signed in: %d %.300s", page.StatusCode, body)
	}
	entries, err := accounts.Audit(context.Background(), account.AuditFilter{Actor: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "login,login.failed" {
		t.Errorf("audit of anna = %q, want login,login.failed (newest first)", got)
	}
}

// TestConsoleShowsAuditLog: Open's account.Service is also the console's
// audit log: an admin signed in through the console sees the failed and the
// successful sign-in under Журнал.
func TestConsoleShowsAuditLog(t *testing.T) {
	t.Parallel()
	cfg := embedded.cfg(t)
	cfg.HTTPAddr = "127.0.0.1:0"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	accounts := stores.ConsoleAuth.(*account.Service)
	if _, err := accounts.AddUser(context.Background(), "root", account.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	srv, err := NewConsoleServer(cfg, stores, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	base := "http://" + srv.Addr()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var resp *http.Response
	for _, pw := range []string{"wrong password!", "correct horse battery"} {
		if resp, err = client.PostForm(base+"/login", url.Values{"name": {"root"}, "password": {pw}}); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/audit?actor=root", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	page, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	s := string(body)
	if page.StatusCode != http.StatusOK || !strings.Contains(s, "<h1>Журнал</h1>") {
		t.Fatalf("GET /audit as admin: %d %.300s", page.StatusCode, body)
	}
	login, failed := strings.Index(s, ">Вход<"), strings.Index(s, ">Неудачный вход<")
	if login < 0 || failed < 0 || login > failed {
		t.Errorf("Журнал lacks the sign-in above the failed one (at %d and %d)", login, failed)
	}
}
