package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Config configures a Service.
type Config struct {
	// Store keeps users, sessions, failure counters and the audit log.
	// Required.
	Store Store
	// IdleTimeout ends a session this long after its last request.
	// Default 8h.
	IdleTimeout time.Duration
	// MaxFailures failed logins for one name, or from one client address,
	// each within FailureWindow of the previous, throttle further logins
	// of that name or address. Default 5.
	MaxFailures int
	// FailureWindow: a failure this long after the previous one starts
	// the count again. Default 15m.
	FailureWindow time.Duration
	// ThrottleBase is the wait after the MaxFailures-th failure; each
	// further failure doubles it, up to ThrottleMax. Defaults 30s and 15m.
	ThrottleBase, ThrottleMax time.Duration
	// Argon2 are the cost parameters of new password hashes. Default
	// DefaultArgon2.
	Argon2 Argon2Params
	// LinkCodeTTL is how long a link code (StartLink) works. Default 10m.
	LinkCodeTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives login outcomes (names and addresses, never
	// passwords or tokens). Default slog.Default().
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultIdleTimeout   = 8 * time.Hour
	DefaultMaxFailures   = 5
	DefaultFailureWindow = 15 * time.Minute
	DefaultThrottleBase  = 30 * time.Second
	DefaultThrottleMax   = 15 * time.Minute
	DefaultLinkCodeTTL   = 10 * time.Minute
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 10
	// MaxNameLen is the longest user name, in characters.
	MaxNameLen = 64
	// touchEvery: a session's LastSeenAt is written at most this often.
	touchEvery = time.Minute
	// DefaultAuditLimit and MaxAuditLimit bound AuditFilter.Limit.
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("account: Config.Store is required")
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.FailureWindow == 0 {
		c.FailureWindow = DefaultFailureWindow
	}
	if c.ThrottleBase == 0 {
		c.ThrottleBase = DefaultThrottleBase
	}
	if c.ThrottleMax == 0 {
		c.ThrottleMax = DefaultThrottleMax
	}
	if c.LinkCodeTTL == 0 {
		c.LinkCodeTTL = DefaultLinkCodeTTL
	}
	if c.Argon2 == (Argon2Params{}) {
		c.Argon2 = DefaultArgon2
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	var errs []error
	if c.IdleTimeout < 0 || c.FailureWindow < 0 || c.ThrottleBase < 0 || c.ThrottleMax < c.ThrottleBase || c.LinkCodeTTL < 0 {
		errs = append(errs, errors.New("account: durations must be positive and ThrottleMax >= ThrottleBase"))
	}
	if c.MaxFailures < 1 {
		errs = append(errs, fmt.Errorf("account: MaxFailures must be at least 1, got %d", c.MaxFailures))
	}
	if c.Argon2.Memory < 8*uint32(c.Argon2.Threads) || c.Argon2.Time < 1 || c.Argon2.Threads < 1 {
		errs = append(errs, errors.New("account: Argon2 needs Time >= 1, Threads >= 1, Memory >= 8*Threads KiB"))
	}
	return errors.Join(errs...)
}

// Service manages console accounts: users, password logins with
// throttling, sessions and the audit log. It is safe for concurrent use.
type Service struct {
	cfg   Config
	store Store
	log   *slog.Logger

	dummyOnce sync.Once
	dummyHash string
	// slots admits loginSlots password checks at once.
	slots chan struct{}
}

// loginSlots is how many logins are checked at once per process. The
// throttle check, the hash and the failure count run inside a slot, so a
// burst of concurrent guesses gets at most loginSlots-1 tries past
// MaxFailures, and logins cannot take every core from the bots.
const loginSlots = 2

// NewService returns a Service over cfg.Store.
func NewService(cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: cfg.Store, log: cfg.Logger, slots: make(chan struct{}, loginSlots)}, nil
}

type actorKey struct{}

// WithActor returns ctx naming who acts ("cli", "api" or a user's name):
// the Service's own audit entries (user.add, user.passwd, user.remove)
// carry it. Without it they say "system".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put in ctx, or "system".
func ActorFrom(ctx context.Context) string {
	if a, ok := ActorIn(ctx); ok {
		return a
	}
	return "system"
}

// ActorIn returns the actor WithActor put in ctx; ok is false when none.
func ActorIn(ctx context.Context) (actor string, ok bool) {
	a, ok := ctx.Value(actorKey{}).(string)
	return a, ok && a != ""
}

// NormalizeName is how a typed user name is stored and looked up: without
// surrounding spaces, in lower case, so "Anna" logs in as "anna" and the
// two cannot be different users.
func NormalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// ValidateName checks a user name: 1-64 characters, letters, digits, '.',
// '_' and '-'.
func ValidateName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > MaxNameLen {
		return fmt.Errorf("user name must be 1 to %d characters", MaxNameLen)
	}
	for _, r := range name {
		if !(r == '.' || r == '_' || r == '-' || isLetterOrDigit(r)) {
			return fmt.Errorf("user name may hold only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func isLetterOrDigit(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r > 127 && (strings.ContainsRune("ёЁ", r) || r >= 'А' && r <= 'я')
}

// ValidatePassword checks a new password: at least MinPasswordLen
// characters.
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	}
	return nil
}

// AddUser creates a user with role and password and records ActionUserAdd.
func (s *Service) AddUser(ctx context.Context, name string, role Role, password string) (User, error) {
	name = NormalizeName(name)
	if err := ValidateName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password, s.cfg.Argon2)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u, err := s.store.CreateUser(ctx, User{Name: name, Role: role, CreatedAt: now, PasswordChangedAt: now}, hash)
	if err != nil {
		return User{}, err
	}
	return u, s.record(ctx, ActionUserAdd, "user "+name, "role "+string(role))
}

// Users returns every user, by name.
func (s *Service) Users(ctx context.Context) ([]User, error) { return s.store.ListUsers(ctx) }

// HasUsers reports whether any user exists.
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	us, err := s.store.ListUsers(ctx)
	return len(us) > 0, err
}

// SetPassword replaces name's password, ends all of its sessions and
// records ActionUserPasswd.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	name = NormalizeName(name)
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(password, s.cfg.Argon2)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, name, hash, s.now()); err != nil {
		return err
	}
	return s.record(ctx, ActionUserPasswd, "user "+name, "sessions ended")
}

// SetRole changes name's role and records ActionUserRole; demoting the last
// admin is refused (ErrLastAdmin). The user's sessions carry on with the
// new role from their next request.
func (s *Service) SetRole(ctx context.Context, name string, role Role) error {
	name = NormalizeName(name)
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := s.store.SetRole(ctx, name, role); err != nil {
		return err
	}
	return s.record(ctx, ActionUserRole, "user "+name, "role "+string(role))
}

// RemoveUser deletes name and its sessions and records ActionUserRemove; the
// last admin cannot be removed (ErrLastAdmin).
func (s *Service) RemoveUser(ctx context.Context, name string) error {
	name = NormalizeName(name)
	if err := s.store.DeleteUser(ctx, name); err != nil {
		return err
	}
	return s.record(ctx, ActionUserRemove, "user "+name, "")
}

// Authenticate checks name's password from clientIP. Throttled names or
// addresses get a *ThrottledError before any check; a wrong name or
// password gets ErrBadCredentials. Both outcomes are audited ("login",
// "login.failed") with the client address, never the password; a login
// whose audit entry cannot be written is refused with that error.
func (s *Service) Authenticate(ctx context.Context, name, password, clientIP string) (User, error) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return User{}, ctx.Err()
	}
	name = NormalizeName(name)
	if len(clientIP) > maxAddrLen { // from a header, maybe: bound what is stored
		clientIP = clientIP[:maxAddrLen]
	}
	now := s.now()
	keys := []string{"name:" + name, "addr:" + addressKey(clientIP)}
	if err := s.throttled(ctx, keys, now); err != nil {
		return User{}, err
	}
	u, hash, err := s.store.UserByName(ctx, name)
	if errors.Is(err, ErrNoUser) {
		hash = s.dummy() // the same work as for a real name
	} else if err != nil {
		return User{}, err
	}
	ok, cerr := checkPassword(password, hash)
	if cerr != nil {
		s.log.ErrorContext(ctx, "stored password hash unreadable", "user", name)
	}
	actor := auditName(name)
	if err != nil || !ok {
		for _, k := range keys {
			if ferr := s.store.AddLoginFailure(ctx, k, now, now.Add(-s.cfg.FailureWindow)); ferr != nil {
				return User{}, ferr
			}
		}
		s.log.InfoContext(ctx, "login failed", "user", actor, "client", clientIP)
		return User{}, errors.Join(ErrBadCredentials, s.recordAs(ctx, actor, ActionLoginFailed, "", "client "+clientIP))
	}
	if err := s.store.ClearLoginFailures(ctx, keys[0]); err != nil {
		return User{}, err
	}
	s.log.InfoContext(ctx, "login", "user", u.Name, "client", clientIP)
	if err := s.recordAs(ctx, u.Name, ActionLogin, "", "client "+clientIP); err != nil {
		return User{}, err // a login that cannot be audited is refused
	}
	return u, nil
}

// maxAddrLen bounds a client address as stored (an IPv6 address with a
// zone fits).
const maxAddrLen = 64

// addressKey is the throttling key of a client address: an IPv6 address
// counts as its /64 (one subscriber's network, which hands out addresses
// freely), an IPv4 address as itself, anything unparsable as written.
func addressKey(clientIP string) string {
	a, err := netip.ParseAddr(clientIP)
	if err != nil {
		return clientIP
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// auditName is a typed login name as the audit shows it: as typed when it
// could be a name, else "?" (it may be a password typed in the wrong box).
func auditName(name string) string {
	if ValidateName(name) != nil {
		return "?"
	}
	return name
}

// throttled returns a *ThrottledError when any of keys failed MaxFailures
// times and its wait has not passed.
func (s *Service) throttled(ctx context.Context, keys []string, now time.Time) error {
	fs, err := s.store.LoginFailures(ctx, keys)
	if err != nil {
		return err
	}
	var wait time.Duration
	for _, f := range fs {
		if f.Count < s.cfg.MaxFailures || now.Sub(f.Last) > s.cfg.FailureWindow {
			continue
		}
		if left := f.Last.Add(s.backoff(f.Count)).Sub(now); left > wait {
			wait = left
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// backoff is the wait after count failures (count >= MaxFailures):
// ThrottleBase doubled for each failure past MaxFailures, at most
// ThrottleMax.
func (s *Service) backoff(count int) time.Duration {
	d := s.cfg.ThrottleBase
	for i := s.cfg.MaxFailures; i < count && d < s.cfg.ThrottleMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.ThrottleMax)
}

// dummy is a hash of a random password, checked for unknown names.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		h, err := hashPassword(s.GeneratePassword(), s.cfg.Argon2)
		if err != nil {
			panic(err)
		}
		s.dummyHash = h
	})
	return s.dummyHash
}

// StartSession starts a session for u and returns its token (32 random
// bytes, base64url); only the token's SHA-256 is stored. Sessions idle
// past IdleTimeout are pruned on the way.
func (s *Service) StartSession(ctx context.Context, u User) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	if err := s.store.DeleteIdleSessions(ctx, now.Add(-s.cfg.IdleTimeout)); err != nil {
		return "", err
	}
	if err := s.store.CreateSession(ctx, tokenHash(token), Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now}); err != nil {
		return "", err
	}
	return token, nil
}

// Session returns the user of the session token; ErrNoSession when it is
// unknown, ended or idle past IdleTimeout. It refreshes the session's
// LastSeenAt at most once a minute: a request of the user counts as
// activity.
func (s *Service) Session(ctx context.Context, token string) (User, error) {
	return s.session(ctx, token, true)
}

// PeekSession is Session for a request that is no sign of activity (a
// page polling in the background): it checks the session the same way
// but leaves LastSeenAt alone, so an open tab that only polls does not
// keep the session alive past IdleTimeout.
func (s *Service) PeekSession(ctx context.Context, token string) (User, error) {
	return s.session(ctx, token, false)
}

func (s *Service) session(ctx context.Context, token string, touch bool) (User, error) {
	if token == "" {
		return User{}, ErrNoSession
	}
	h := tokenHash(token)
	sess, u, err := s.store.SessionByHash(ctx, h)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	if now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout {
		if err := s.store.DeleteSession(ctx, h); err != nil {
			return User{}, err
		}
		return User{}, ErrNoSession
	}
	if touch && now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// EndSession ends the session token (a logout) and records "logout"; an
// unknown token is not an error.
func (s *Service) EndSession(ctx context.Context, token string) error {
	h := tokenHash(token)
	_, u, err := s.store.SessionByHash(ctx, h)
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.store.DeleteSession(ctx, h); err != nil {
		return err
	}
	return s.recordAs(ctx, u.Name, ActionLogout, "", "")
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Record appends e to the audit log; a zero At is now.
func (s *Service) Record(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if e.Actor == "" || e.Action == "" {
		return errors.New("account: an audit entry needs an actor and an action")
	}
	if _, err := s.store.AppendAudit(ctx, e); err != nil {
		return err
	}
	return nil
}

// Audit returns the entries f selects, newest first; page on with
// f.Before set to the last ID returned.
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultAuditLimit
	}
	f.Limit = min(f.Limit, MaxAuditLimit)
	return s.store.AuditEntries(ctx, f)
}

func (s *Service) record(ctx context.Context, action, object, details string) error {
	return s.recordAs(ctx, ActorFrom(ctx), action, object, details)
}

func (s *Service) recordAs(ctx context.Context, actor, action, object, details string) error {
	return s.Record(ctx, AuditEntry{Actor: actor, Action: action, Object: object, Details: details})
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
