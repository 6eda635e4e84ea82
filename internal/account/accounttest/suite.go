package accounttest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// Clock is a settable clock for account.Config.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// CheapArgon2 keeps tests fast; production uses account.DefaultArgon2.
var CheapArgon2 = account.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// Env is a Service over a store with a fake clock and a captured log.
type Env struct {
	Svc   *account.Service
	Store account.Store
	Clock *Clock
	Log   *bytes.Buffer
}

// NewEnv builds a Service over st with defaults but a fake clock and cheap
// hashing.
func NewEnv(t testing.TB, st account.Store) *Env {
	t.Helper()
	e := &Env{Store: st, Clock: NewClock(), Log: &bytes.Buffer{}}
	svc, err := account.NewService(account.Config{Store: st, Now: e.Clock.Now, Argon2: CheapArgon2,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.Log}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.Svc = svc
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Run runs the conformance suite: the Service's behaviour over the stores
// open returns (a fresh, empty store per call).
func Run(t *testing.T, open func(t *testing.T) account.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *Env)
	}{
		{"AddUserRules", testAddUser},
		{"Authenticate", testAuthenticate},
		{"ThrottleByName", testThrottleByName},
		{"ThrottleByAddress", testThrottleByAddress},
		{"ThrottleWindowResets", testThrottleWindow},
		{"SessionIdleExpiry", testSessionIdle},
		{"Logout", testLogout},
		{"PasswordChangeEndsSessions", testSetPassword},
		{"RemoveUser", testRemoveUser},
		{"SetRole", testSetRole},
		{"AuditPages", testAuditPages},
		{"LinkCode", testLinkCode},
		{"LinkCodeExpires", testLinkCodeExpires},
		{"LinkCodeReplaced", testLinkCodeReplaced},
		{"LinkOneAccountOneUser", testLinkOneAccountOneUser},
		{"LinkPlatforms", testLinkPlatforms},
		{"Unlink", testUnlink},
		{"LinkRefusals", testLinkRefusals},
		{"LinkThrottle", testLinkThrottle},
		{"LinkCodeRace", testLinkCodeRace},
		{"RemoveUserDropsLinks", testRemoveUserDropsLinks},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, NewEnv(t, open(t)))
		})
	}
}

const pw = "correct horse battery"

func mustAdd(t *testing.T, e *Env, name string, role account.Role) account.User {
	t.Helper()
	u, err := e.Svc.AddUser(account.WithActor(context.Background(), "cli"), name, role, pw)
	if err != nil {
		t.Fatalf("AddUser(%s): %v", name, err)
	}
	return u
}

func testAddUser(t *testing.T, e *Env) {
	ctx := context.Background()
	if has, err := e.Svc.HasUsers(ctx); err != nil || has {
		t.Fatalf("HasUsers on an empty store = %v, %v", has, err)
	}
	for _, tc := range []struct {
		name, password string
		role           account.Role
		wantErr        bool
	}{
		{"anna", pw, account.RoleAdmin, false},
		{"Пётр.Иванов-2_x", pw, account.RoleOperator, false}, // stored as пётр.иванов-2_x
		{"", pw, account.RoleAdmin, true},
		{strings.Repeat("a", 65), pw, account.RoleAdmin, true},
		{strings.Repeat("a", 64), pw, account.RoleManager, false},
		{"bad name", pw, account.RoleAdmin, true},
		{"<script>", pw, account.RoleAdmin, true},
		{"short", "123456789", account.RoleAdmin, true},
		{"norole", pw, account.Role("root"), true},
	} {
		_, err := e.Svc.AddUser(ctx, tc.name, tc.role, tc.password)
		if (err != nil) != tc.wantErr {
			t.Errorf("AddUser(%q, %q) = %v; want error %v", tc.name, tc.role, err, tc.wantErr)
		}
	}
	for _, again := range []string{"anna", " Anna "} {
		if _, err := e.Svc.AddUser(ctx, again, account.RoleOperator, pw); !errors.Is(err, account.ErrUserExists) {
			t.Errorf("AddUser(%q) again = %v; want ErrUserExists", again, err)
		}
	}
	us, err := e.Svc.Users(ctx)
	if err != nil || len(us) != 3 || us[0].Name != "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || us[1].Name != "anna" ||
		us[2].Name != "пётр.иванов-2_x" {
		t.Fatalf("Users = %+v, %v; want 3 by name, in lower case", us, err)
	}
	if us[1].Role != account.RoleAdmin || us[1].ID == 0 || !us[1].CreatedAt.Equal(e.Clock.Now()) {
		t.Errorf("anna = %+v; want admin with an id, created now", us[1])
	}
	if has, err := e.Svc.HasUsers(ctx); err != nil || !has {
		t.Errorf("HasUsers = %v, %v; want true", has, err)
	}
	entries, err := e.Svc.Audit(ctx, account.AuditFilter{Action: "user.add"})
	if err != nil || len(entries) != 3 {
		t.Fatalf("user.add entries = %+v, %v; want 3", entries, err)
	}
	assertNoPassword(t, e, pw)
}

func testAuthenticate(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleManager)
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"anna", pw, nil},
		{"anna", pw + "x", account.ErrBadCredentials},
		{"anna", "", account.ErrBadCredentials},
		{"boris", pw, account.ErrBadCredentials},
		{"ANNA", pw + "!", account.ErrBadCredentials},
		{" Anna", pw, nil}, // names are case-insensitive, spaces around ignored
	} {
		u, err := e.Svc.Authenticate(ctx, tc.name, tc.password, "10.0.0.1")
		if !errors.Is(err, tc.want) || (err == nil && u.Name != "anna") {
			t.Errorf("Authenticate(%q, %q) = %+v, %v; want %v", tc.name, tc.password, u, err, tc.want)
		}
	}
	ok, err := e.Svc.Audit(ctx, account.AuditFilter{Action: "login"})
	if err != nil || len(ok) != 2 || ok[0].Actor != "anna" || ok[0].Details != "client 10.0.0.1" || !ok[0].At.Equal(e.Clock.Now()) {
		t.Errorf("login entries = %+v, %v; want anna's from 10.0.0.1", ok, err)
	}
	failed, err := e.Svc.Audit(ctx, account.AuditFilter{Action: "login.failed"})
	if err != nil || len(failed) != 4 || failed[0].Actor != "anna" || failed[1].Actor != "boris" {
		t.Errorf("login.failed entries = %+v, %v; want 4, newest first", failed, err)
	}
	assertNoPassword(t, e, pw)
}

// assertNoPassword fails when the password shows in the audit log or the
// service's log.
func assertNoPassword(t *testing.T, e *Env, password string) {
	t.Helper()
	all, err := e.Svc.Audit(context.Background(), account.AuditFilter{Limit: account.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if strings.Contains(a.Actor+a.Action+a.Object+a.Details, password) {
			t.Errorf("audit entry %+v holds the password", a)
		}
	}
	if strings.Contains(e.Log.String(), password) {
		t.Errorf("the log holds the password:\n%s", e.Log)
	}
}

func wantThrottled(t *testing.T, err error, retry time.Duration) {
	t.Helper()
	var te *account.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != retry {
		t.Fatalf("err = %v; want *ThrottledError with RetryAfter %s", err, retry)
	}
}

func testThrottleByName(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleAdmin)
	for i := range account.DefaultMaxFailures {
		if _, err := e.Svc.Authenticate(ctx, "anna", "wrong password", "10.0.0."+string(rune('1'+i))); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		e.Clock.Advance(time.Second)
	}
	// Even the right password waits: 30s from the last failure, 1s ago.
	_, err := e.Svc.Authenticate(ctx, "anna", pw, "10.9.9.9")
	wantThrottled(t, err, 29*time.Second)
	e.Clock.Advance(29 * time.Second)
	if _, err := e.Svc.Authenticate(ctx, "anna", "wrong again", "10.9.9.9"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("after the wait: %v; want ErrBadCredentials", err)
	}
	_, err = e.Svc.Authenticate(ctx, "anna", pw, "10.9.9.9")
	wantThrottled(t, err, time.Minute) // doubled
	e.Clock.Advance(time.Minute)
	if _, err := e.Svc.Authenticate(ctx, "anna", pw, "10.9.9.9"); err != nil {
		t.Fatalf("right password after the wait: %v", err)
	}
	// The success cleared the name's count: one failure is not throttled.
	if _, err := e.Svc.Authenticate(ctx, "anna", "wrong", "10.8.8.8"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("a failure after a success: %v", err)
	}
	if _, err := e.Svc.Authenticate(ctx, "anna", pw, "10.8.8.8"); err != nil {
		t.Fatalf("login after one failure: %v", err)
	}
}

func testThrottleByAddress(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleAdmin)
	for i := range account.DefaultMaxFailures {
		_, _ = e.Svc.Authenticate(ctx, "guess"+string(rune('a'+i)), "wrong password", "203.0.113.5")
	}
	_, err := e.Svc.Authenticate(ctx, "anna", pw, "203.0.113.5")
	wantThrottled(t, err, 30*time.Second)
	_, err = e.Svc.Authenticate(ctx, "anna", pw, "::ffff:203.0.113.5") // the same IPv4 address
	wantThrottled(t, err, 30*time.Second)
	if _, err := e.Svc.Authenticate(ctx, "anna", pw, "198.51.100.1"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// IPv6 counts by /64: a client hopping addresses in its network is one.
	for i := range account.DefaultMaxFailures {
		_, _ = e.Svc.Authenticate(ctx, "v6guess"+string(rune('a'+i)), "wrong password", "2001:db8:1:2::"+string(rune('1'+i)))
	}
	_, err = e.Svc.Authenticate(ctx, "anna", pw, "2001:db8:1:2:ffff::9")
	wantThrottled(t, err, 30*time.Second)
	if _, err := e.Svc.Authenticate(ctx, "anna", pw, "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	// The wait grows with each failure past the limit and stops at 15m.
	for range 10 {
		e.Clock.Advance(account.DefaultThrottleMax)
		_, _ = e.Svc.Authenticate(ctx, "x", "wrong password", "203.0.113.5")
	}
	_, err = e.Svc.Authenticate(ctx, "anna", pw, "203.0.113.5")
	wantThrottled(t, err, account.DefaultThrottleMax)
}

func testThrottleWindow(t *testing.T, e *Env) {
	ctx := context.Background()
	mustAdd(t, e, "anna", account.RoleAdmin)
	for range account.DefaultMaxFailures - 1 {
		_, _ = e.Svc.Authenticate(ctx, "anna", "wrong password", "10.0.0.1")
	}
	e.Clock.Advance(account.DefaultFailureWindow + time.Second) // the count restarts
	for range account.DefaultMaxFailures - 1 {
		_, _ = e.Svc.Authenticate(ctx, "anna", "wrong password", "10.0.0.1")
	}
	if _, err := e.Svc.Authenticate(ctx, "anna", pw, "10.0.0.1"); err != nil {
		t.Fatalf("4+4 failures across the window: %v; want a login", err)
	}
}

func testSessionIdle(t *testing.T, e *Env) {
	ctx := context.Background()
	u := mustAdd(t, e, "anna", account.RoleOperator)
	tok, err := e.Svc.StartSession(ctx, u)
	if err != nil || len(tok) != 43 {
		t.Fatalf("StartSession = %q, %v; want 43 base64url characters", tok, err)
	}
	if got, err := e.Svc.Session(ctx, tok); err != nil || got.Name != "anna" || got.Role != account.RoleOperator {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	e.Clock.Advance(5 * time.Hour)
	if _, err := e.Svc.Session(ctx, tok); err != nil { // refreshes LastSeenAt
		t.Fatalf("after 5h: %v", err)
	}
	e.Clock.Advance(5 * time.Hour)
	if _, err := e.Svc.Session(ctx, tok); err != nil {
		t.Fatalf("10h after the start but 5h after the last request: %v", err)
	}
	e.Clock.Advance(account.DefaultIdleTimeout + time.Second)
	if _, err := e.Svc.Session(ctx, tok); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("idle past the timeout: %v; want ErrNoSession", err)
	}
	for _, bad := range []string{"", "nonsense", tok + "x"} {
		if _, err := e.Svc.Session(ctx, bad); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("Session(%q) = %v; want ErrNoSession", bad, err)
		}
	}
}

func testLogout(t *testing.T, e *Env) {
	ctx := context.Background()
	u := mustAdd(t, e, "anna", account.RoleOperator)
	a, errA := e.Svc.StartSession(ctx, u)
	b, errB := e.Svc.StartSession(ctx, u)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a == b {
		t.Fatal("two sessions got one token")
	}
	if err := e.Svc.EndSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Session(ctx, a); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("ended session: %v; want ErrNoSession", err)
	}
	if _, err := e.Svc.Session(ctx, b); err != nil {
		t.Errorf("the other session: %v", err)
	}
	if err := e.Svc.EndSession(ctx, a); err != nil {
		t.Errorf("ending it again: %v", err)
	}
	out, err := e.Svc.Audit(ctx, account.AuditFilter{Action: "logout"})
	if err != nil || len(out) != 1 || out[0].Actor != "anna" {
		t.Errorf("logout entries = %+v, %v; want one of anna", out, err)
	}
}

func testSetPassword(t *testing.T, e *Env) {
	ctx := account.WithActor(context.Background(), "cli")
	u := mustAdd(t, e, "anna", account.RoleManager)
	other := mustAdd(t, e, "boris", account.RoleManager)
	tok, _ := e.Svc.StartSession(ctx, u)
	otherTok, _ := e.Svc.StartSession(ctx, other)
	e.Clock.Advance(time.Hour)
	const newPW = "a new long passphrase"
	if err := e.Svc.SetPassword(ctx, "anna", "short"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if err := e.Svc.SetPassword(ctx, "nobody", newPW); !errors.Is(err, account.ErrNoUser) {
		t.Fatalf("SetPassword(nobody) = %v; want ErrNoUser", err)
	}
	if err := e.Svc.SetPassword(ctx, "anna", newPW); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Session(ctx, tok); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("anna's session after the change: %v; want ErrNoSession", err)
	}
	if _, err := e.Svc.Session(ctx, otherTok); err != nil {
		t.Errorf("boris's session: %v", err)
	}
	if _, err := e.Svc.Authenticate(ctx, "anna", pw, "10.0.0.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Errorf("the old password: %v", err)
	}
	got, err := e.Svc.Authenticate(ctx, "anna", newPW, "10.0.0.1")
	if err != nil || !got.PasswordChangedAt.Equal(e.Clock.Now()) {
		t.Errorf("the new password: %+v, %v; want PasswordChangedAt now", got, err)
	}
	out, _ := e.Svc.Audit(ctx, account.AuditFilter{Action: "user.passwd"})
	if len(out) != 1 || out[0].Actor != "cli" || out[0].Object != "user anna" {
		t.Errorf("user.passwd entries = %+v", out)
	}
	assertNoPassword(t, e, newPW)
}

func testRemoveUser(t *testing.T, e *Env) {
	ctx := account.WithActor(context.Background(), "cli")
	mustAdd(t, e, "anna", account.RoleAdmin)
	op := mustAdd(t, e, "olga", account.RoleOperator)
	tok, _ := e.Svc.StartSession(ctx, op)
	if err := e.Svc.RemoveUser(ctx, "anna"); !errors.Is(err, account.ErrLastAdmin) {
		t.Fatalf("removing the only admin: %v; want ErrLastAdmin", err)
	}
	if err := e.Svc.RemoveUser(ctx, "olga"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Session(ctx, tok); !errors.Is(err, account.ErrNoSession) {
		t.Errorf("a removed user's session: %v; want ErrNoSession", err)
	}
	if err := e.Svc.RemoveUser(ctx, "olga"); !errors.Is(err, account.ErrNoUser) {
		t.Errorf("removing twice: %v; want ErrNoUser", err)
	}
	mustAdd(t, e, "boris", account.RoleAdmin)
	if err := e.Svc.RemoveUser(ctx, "anna"); err != nil {
		t.Errorf("removing one of two admins: %v", err)
	}
	if err := e.Svc.RemoveUser(ctx, "boris"); !errors.Is(err, account.ErrLastAdmin) {
		t.Errorf("removing the last one: %v; want ErrLastAdmin", err)
	}
	out, _ := e.Svc.Audit(ctx, account.AuditFilter{Action: "user.remove"})
	if len(out) != 2 || out[0].Object != "user anna" || out[1].Object != "user olga" {
		t.Errorf("user.remove entries = %+v", out)
	}
}

func testAuditPages(t *testing.T, e *Env) {
	ctx := context.Background()
	for i := range 25 {
		actor := "api"
		if i%2 == 1 {
			actor = "cli"
		}
		if err := e.Svc.Record(ctx, account.AuditEntry{Actor: actor, Action: "campaign.start", Object: "campaign " + string(rune('A'+i)),
			Details: "<b>x</b>"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Svc.Record(ctx, account.AuditEntry{Action: "x"}); err == nil {
		t.Error("an entry without an actor was recorded")
	}
	var seen []string
	before := int64(0)
	for {
		page, err := e.Svc.Audit(ctx, account.AuditFilter{Actor: "cli", Before: before, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			if p.Actor != "cli" || (before != 0 && p.ID >= before) || p.Details != "<b>x</b>" {
				t.Fatalf("entry %+v out of place (before %d)", p, before)
			}
			seen = append(seen, p.Object)
			before = p.ID
		}
		if len(page) < 5 {
			break
		}
	}
	if len(seen) != 12 || seen[0] != "campaign X" || seen[11] != "campaign B" {
		t.Errorf("cli entries newest first = %v", seen)
	}
	all, _ := e.Svc.Audit(ctx, account.AuditFilter{})
	if len(all) != 25 {
		t.Errorf("default limit: %d entries; want all 25", len(all))
	}
}

func testSetRole(t *testing.T, e *Env) {
	ctx := account.WithActor(context.Background(), "cli")
	anna := mustAdd(t, e, "anna", account.RoleAdmin)
	mustAdd(t, e, "olga", account.RoleOperator)
	tok, _ := e.Svc.StartSession(ctx, anna)
	for _, tc := range []struct {
		name string
		role account.Role
		want error
	}{
		{"anna", account.RoleManager, account.ErrLastAdmin},
		{"anna", account.RoleAdmin, nil},
		{"nobody", account.RoleManager, account.ErrNoUser},
		{"olga", account.RoleAdmin, nil},
		{"anna", account.RoleManager, nil},
		{"olga", account.RoleOperator, account.ErrLastAdmin},
	} {
		if err := e.Svc.SetRole(ctx, tc.name, tc.role); !errors.Is(err, tc.want) {
			t.Errorf("SetRole(%s, %s) = %v; want %v", tc.name, tc.role, err, tc.want)
		}
	}
	if err := e.Svc.SetRole(ctx, "olga", "root"); err == nil {
		t.Error("SetRole(olga, root) succeeded")
	}
	// A session carries on with the new role.
	if u, err := e.Svc.Session(ctx, tok); err != nil || u.Role != account.RoleManager {
		t.Errorf("anna's session after the demotion = %+v, %v; want a manager", u, err)
	}
	out, _ := e.Svc.Audit(ctx, account.AuditFilter{Action: "user.role"})
	if len(out) != 3 || out[0].Details != "role manager" || out[0].Object != "user anna" || out[0].Actor != "cli" {
		t.Errorf("user.role entries = %+v", out)
	}
}
