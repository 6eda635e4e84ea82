package account_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/account/accounttest"
)

// TestServiceOnMemStore runs the conformance suite on the in-memory store.
func TestServiceOnMemStore(t *testing.T) {
	t.Parallel()
	accounttest.Run(t, func(*testing.T) account.Store { return accounttest.NewMemStore() })
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	st := accounttest.NewMemStore()
	for _, tc := range []struct {
		name    string
		cfg     account.Config
		wantErr bool
	}{
		{"defaults", account.Config{Store: st}, false},
		{"no store", account.Config{}, true},
		{"negative idle", account.Config{Store: st, IdleTimeout: -time.Second}, true},
		{"max below base", account.Config{Store: st, ThrottleBase: time.Hour, ThrottleMax: time.Minute}, true},
		{"negative failures", account.Config{Store: st, MaxFailures: -1}, true},
		{"zero threads", account.Config{Store: st, Argon2: account.Argon2Params{Memory: 64, Time: 1}}, true},
	} {
		if _, err := account.NewService(tc.cfg); (err != nil) != tc.wantErr {
			t.Errorf("%s: NewService = %v; want error %v", tc.name, err, tc.wantErr)
		}
	}
}

// TestStoredSecrets: the store sees an argon2id PHC hash, never the
// password, and a token's SHA-256, never the token.
func TestStoredSecrets(t *testing.T) {
	t.Parallel()
	st := accounttest.NewMemStore()
	e := accounttest.NewEnv(t, st)
	ctx := context.Background()
	u, err := e.Svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	_, hash, _ := st.UserByName(ctx, "anna")
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(hash) {
		t.Errorf("stored hash %q is not an argon2id PHC string", hash)
	}
	tok, err := e.Svc.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SessionByHash(ctx, []byte(tok)); !errors.Is(err, account.ErrNoSession) {
		t.Error("the session is stored under the plain token")
	}
	sum := sha256.Sum256([]byte(tok))
	if _, _, err := st.SessionByHash(ctx, sum[:]); err != nil {
		t.Errorf("no session under the token's SHA-256: %v", err)
	}
}

// TestSessionTouchedOncePerMinute: requests within a minute write nothing.
func TestSessionTouchedOncePerMinute(t *testing.T) {
	t.Parallel()
	st := accounttest.NewMemStore()
	e := accounttest.NewEnv(t, st)
	ctx := context.Background()
	u, _ := e.Svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery")
	tok, _ := e.Svc.StartSession(ctx, u)
	for range 10 {
		e.Clock.Advance(5 * time.Second)
		if _, err := e.Svc.Session(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if st.Touches != 0 {
		t.Errorf("%d touches within 50s; want 0", st.Touches)
	}
	e.Clock.Advance(15 * time.Second)
	_, _ = e.Svc.Session(ctx, tok)
	_, _ = e.Svc.Session(ctx, tok)
	if st.Touches != 1 {
		t.Errorf("%d touches after a minute; want 1", st.Touches)
	}
}

// TestPeekSessionDoesNotExtend: PeekSession (a background poll) finds
// the session but never refreshes it, so polls alone end it after
// IdleTimeout; a Session (a user's request) extends it.
func TestPeekSessionDoesNotExtend(t *testing.T) {
	t.Parallel()
	st := accounttest.NewMemStore()
	e := accounttest.NewEnv(t, st)
	ctx := context.Background()
	u, _ := e.Svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery")
	tok, _ := e.Svc.StartSession(ctx, u)
	for range 8 * 60 / 5 { // 8 h of polls every 5 min
		e.Clock.Advance(5 * time.Minute)
		if got, err := e.Svc.PeekSession(ctx, tok); err != nil || got.Name != "anna" {
			t.Fatalf("peek: %v %v", got, err)
		}
	}
	if st.Touches != 0 {
		t.Errorf("%d touches by polls; want 0", st.Touches)
	}
	e.Clock.Advance(time.Minute)
	if _, err := e.Svc.PeekSession(ctx, tok); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("a session only polled for 8 h 1 min: %v, want ErrNoSession", err)
	}
	tok, _ = e.Svc.StartSession(ctx, u)
	e.Clock.Advance(7 * time.Hour)
	if _, err := e.Svc.Session(ctx, tok); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(7 * time.Hour)
	if _, err := e.Svc.PeekSession(ctx, tok); err != nil {
		t.Errorf("a session used 7 h ago: %v", err)
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	e := accounttest.NewEnv(t, accounttest.NewMemStore())
	seen := map[string]bool{}
	for range 50 {
		p := e.Svc.GeneratePassword()
		if len(p) != 20 || strings.ContainsAny(p, "0O1lI") || account.ValidatePassword(p) != nil || seen[p] {
			t.Fatalf("GeneratePassword = %q", p)
		}
		seen[p] = true
	}
}

// TestDefaultArgon2Verifies: a hash made with the production parameters
// verifies, and a wrong password does not.
func TestDefaultArgon2Verifies(t *testing.T) {
	t.Parallel()
	st := accounttest.NewMemStore()
	svc, err := account.NewService(account.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ := st.UserByName(ctx, "anna"); !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q; want the default parameters", hash)
	}
	if _, err := svc.Authenticate(ctx, "anna", "correct horse battery", "::1"); err != nil {
		t.Error(err)
	}
	if _, err := svc.Authenticate(ctx, "anna", "correct horse batterx", "::1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Error(err)
	}
}

// TestConcurrentGuessesThrottled: a burst of concurrent wrong passwords
// gets at most loginSlots-1 tries past MaxFailures; the rest are throttled.
func TestConcurrentGuessesThrottled(t *testing.T) {
	t.Parallel()
	st := &gatedStore{MemStore: accounttest.NewMemStore(), arrived: make(chan struct{})}
	e := accounttest.NewEnv(t, st)
	ctx := context.Background()
	if _, err := e.Svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	const n = 40
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Svc.Authenticate(ctx, "anna", "guess "+strconv.Itoa(i), "203.0.113.9")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	bad, throttled := 0, 0
	for err := range errs {
		var te *account.ThrottledError
		switch {
		case errors.Is(err, account.ErrBadCredentials):
			bad++
		case errors.As(err, &te):
			throttled++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if st.max > 2 {
		t.Errorf("%d logins checked at once; want at most 2", st.max)
	}
	if bad < account.DefaultMaxFailures || bad > account.DefaultMaxFailures+1 || bad+throttled != n {
		t.Errorf("%d checked, %d throttled; want %d or %d checked", bad, throttled, account.DefaultMaxFailures, account.DefaultMaxFailures+1)
	}
}

// gatedStore holds each UserByName until a third login is inside too (or
// 200 ms passed) and records how many were inside at once: without the
// login slots the burst piles in and passes the throttle check together.
type gatedStore struct {
	*accounttest.MemStore
	mu      sync.Mutex
	inside  int
	max     int
	arrived chan struct{}
	once    sync.Once
}

func (g *gatedStore) UserByName(ctx context.Context, name string) (account.User, string, error) {
	g.mu.Lock()
	g.inside++
	g.max = max(g.max, g.inside)
	reached := g.inside >= 3
	g.mu.Unlock()
	if reached {
		g.once.Do(func() { close(g.arrived) })
	}
	select {
	case <-g.arrived:
	case <-time.After(200 * time.Millisecond):
	}
	defer func() {
		g.mu.Lock()
		g.inside--
		g.mu.Unlock()
	}()
	return g.MemStore.UserByName(ctx, name)
}

// failingAudit is a MemStore whose audit log cannot be written.
type failingAudit struct{ *accounttest.MemStore }

var errAuditDown = errors.New("audit log down")

func (failingAudit) AppendAudit(context.Context, account.AuditEntry) (account.AuditEntry, error) {
	return account.AuditEntry{}, errAuditDown
}

// TestLoginRefusedWithoutAudit: a login that cannot be audited is refused,
// and a long client address is stored cut to 64 bytes.
func TestLoginRefusedWithoutAudit(t *testing.T) {
	t.Parallel()
	mem := accounttest.NewMemStore()
	ok := accounttest.NewEnv(t, mem)
	ctx := context.Background()
	if _, err := ok.Svc.AddUser(ctx, "anna", account.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Svc.Authenticate(ctx, "anna", "correct horse battery", strings.Repeat("x", 500)); err != nil {
		t.Fatal(err)
	}
	got, _ := ok.Svc.Audit(ctx, account.AuditFilter{Action: "login"})
	if len(got) != 1 || len(got[0].Details) != len("client ")+64 {
		t.Errorf("login entry %+v; want the address cut to 64", got)
	}
	down := accounttest.NewEnv(t, failingAudit{mem})
	if u, err := down.Svc.Authenticate(ctx, "anna", "correct horse battery", "::1"); !errors.Is(err, errAuditDown) || u.Name != "" {
		t.Errorf("Authenticate with the audit log down = %+v, %v; want refused", u, err)
	}
	if _, err := down.Svc.Authenticate(ctx, "anna", "wrong password!", "::1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("a wrong password with the audit log down: %v; want ErrBadCredentials too", err)
	}
}
