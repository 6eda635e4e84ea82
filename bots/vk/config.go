package vk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/apiclient"
)

// Defaults applied by New.
const (
	// DefaultAPIURL is VK's API method base URL.
	DefaultAPIURL = "https://api.vk.com/method/"
	// DefaultWait is the Bots Long Poll wait, in seconds.
	DefaultWait = 25
	// DefaultMaxBodyBytes bounds a Callback API request body (1 MiB).
	DefaultMaxBodyBytes int64 = 1 << 20
	// DefaultRequestsPerSecond is VK's API budget of a community token.
	DefaultRequestsPerSecond = 20
	// MaxBatch is how many API calls one execute request may make, and the
	// default of Config.MaxBatch.
	MaxBatch = 25
	// DefaultImageTimeout bounds the download of a message's picture.
	DefaultImageTimeout = 30 * time.Second
	// DefaultMaxImageBytes bounds a message's picture (10 MiB).
	DefaultMaxImageBytes int64 = 10 << 20
	// maxWait is the longest wait VK accepts.
	maxWait = 90
	// maxRequestsPerSecond bounds RequestsPerSecond (a typo guard).
	maxRequestsPerSecond = 1000
)

// Config configures a Bot. The zero value of every optional field means its
// default.
type Config struct {
	// Bot names this community bot in the chat keys of its updates
	// (messenger.ChatKey.Bot: a config file's bot name); empty for the bot
	// configured by environment variables.
	Bot string
	// Token is the community access token (required). It never appears in
	// errors or logs.
	Token string
	// GroupID is the community id. Required in Callback API mode (events for
	// another community are refused); in Bots Long Poll mode 0 means "ask
	// groups.getById for the token's community".
	GroupID int
	// APIURL is the base URL of API methods; default DefaultAPIURL
	// ("https://api.vk.com/method/"). Tests point it at vktest.
	APIURL string
	// CallbackPath selects the mode: "" (default) is Bots Long Poll (Run);
	// otherwise Callback API mode, and this is the HTTP path the application
	// mounts CallbackHandler at (it must start with "/").
	CallbackPath string
	// CallbackSecret is the "secret" VK puts in every Callback API event;
	// required in Callback API mode.
	CallbackSecret string
	// ConfirmationCode is the string the "confirmation" event is answered
	// with; required in Callback API mode.
	ConfirmationCode string
	// Wait is the Bots Long Poll wait in seconds, 1..90; default DefaultWait (25).
	Wait int
	// HTTPClient makes every request; default apiclient.New(): no timeout
	// (every call is bounded by its context) and enough idle connections for
	// concurrent sends.
	HTTPClient *http.Client
	// ImageClient downloads the pictures of messages (OutMessage.ImageURL)
	// before they are uploaded to VK; default a client with a
	// DefaultImageTimeout timeout.
	ImageClient *http.Client
	// MaxImageBytes bounds a downloaded picture; default DefaultMaxImageBytes
	// (10 MiB).
	MaxImageBytes int64
	// Logger receives the adapter's logs; default discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds a Callback API request body; default
	// DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// TSStore keeps the Bots Long Poll position across restarts; default nil:
	// a new process starts from VK's current position, so events that arrived
	// while no process was polling (or that were polled but not handled) are lost.
	TSStore TSStore
	// Limiter paces every API request the Bot makes (sends, edits,
	// users.get, groups.*): each one, an execute carrying up to MaxBatch
	// replies included, waits for one unit first, and VK's "too many
	// requests" answers (errors 6, 9, 29) pause it. Default: an in-process
	// limiter of RequestsPerSecond requests, evenly spaced, which knows
	// nothing of other processes; `chathub run` passes the shared Redis
	// limiter so that every process of the community (replies and broadcasts)
	// draws on one budget. Long-poll requests go to the long-poll server, are
	// not counted by VK and are not paced.
	Limiter Limiter
	// RequestsPerSecond is the rate of the default in-process limiter, 1..1000;
	// default DefaultRequestsPerSecond (20, VK's limit for a community token).
	// Ignored when Limiter is set.
	RequestsPerSecond int
	// MaxBatch is how many replies that are pending at the same moment may
	// ride in one execute request, 1..MaxBatch; default MaxBatch (25). 1 sends
	// every reply with its own request.
	MaxBatch int
	// ManagersPeerID is the managers' team chat (MANAGERS_VK_PEER_ID): a
	// conversation's peer_id (2000000000 + its number) or 0 for none. Its
	// messages are translated as messenger.Update with Team set (see
	// teamMessage), and Send posts there (the only conversation it posts
	// to). Messages of every other conversation are ignored.
	ManagersPeerID int
}

// Limiter is the request budget of the community; the shared Redis limiter
// (internal/store/redis.Limiter) implements it.
type Limiter interface {
	// Wait returns when n requests may be made, or an error when they may
	// not (ctx ended, the budget's store failed): then no request is made and
	// the call fails as a transient error.
	Wait(ctx context.Context, n int) error
	// Pause stops every user of the budget for d: VK answered that the
	// community makes too many requests.
	Pause(ctx context.Context, d time.Duration) error
}

// TSStore persists the Bots Long Poll position (ts) of a community, so a
// restarted process resumes with the events the previous one had not handled.
type TSStore interface {
	// LoadTS returns the saved ts, or "" when there is none.
	LoadTS(ctx context.Context, groupID int) (string, error)
	// SaveTS records ts after the events before it were handled.
	SaveTS(ctx context.Context, groupID int, ts string) error
}

// CallbackMode reports whether the configuration selects the Callback API.
func (c Config) CallbackMode() bool { return c.CallbackPath != "" }

// withDefaults returns c with every unset optional field defaulted.
func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if c.Wait == 0 {
		c.Wait = DefaultWait
	}
	if c.HTTPClient == nil {
		c.HTTPClient = apiclient.New()
	}
	if c.ImageClient == nil {
		c.ImageClient = &http.Client{Timeout: DefaultImageTimeout}
	}
	if c.MaxImageBytes == 0 {
		c.MaxImageBytes = DefaultMaxImageBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = MaxBatch
	}
	return c
}

// validate reports every problem of a defaulted configuration at once.
func (c Config) validate() error {
	var errs []error
	if strings.TrimSpace(c.Token) == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if c.GroupID < 0 {
		errs = append(errs, fmt.Errorf("group id %d must be positive", c.GroupID))
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("api url %q must be an absolute http(s) URL", c.APIURL))
	}
	if c.Wait < 1 || c.Wait > maxWait {
		errs = append(errs, fmt.Errorf("long-poll wait %d must be 1..%d seconds", c.Wait, maxWait))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d must not be negative", c.MaxBodyBytes))
	}
	if c.MaxImageBytes < 0 {
		errs = append(errs, fmt.Errorf("max image bytes %d must not be negative", c.MaxImageBytes))
	}
	if c.RequestsPerSecond < 1 || c.RequestsPerSecond > maxRequestsPerSecond {
		errs = append(errs, fmt.Errorf("requests per second %d must be 1..%d", c.RequestsPerSecond, maxRequestsPerSecond))
	}
	if c.ManagersPeerID != 0 && c.ManagersPeerID <= chatPeerBase {
		errs = append(errs, fmt.Errorf("managers peer id %d is not a conversation's (2000000000 + its number)", c.ManagersPeerID))
	}
	if c.MaxBatch < 1 || c.MaxBatch > MaxBatch {
		errs = append(errs, fmt.Errorf("max batch %d must be 1..%d (VK's calls per execute)", c.MaxBatch, MaxBatch))
	}
	if c.CallbackMode() {
		errs = append(errs, c.validateCallback()...)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vk config: %w", err)
	}
	return nil
}

func (c Config) validateCallback() []error {
	var errs []error
	if !strings.HasPrefix(c.CallbackPath, "/") {
		errs = append(errs, fmt.Errorf("callback path %q must start with /", c.CallbackPath))
	}
	if c.CallbackSecret == "" {
		errs = append(errs, errors.New("callback secret is required in callback mode"))
	}
	if c.ConfirmationCode == "" {
		errs = append(errs, errors.New("confirmation code is required in callback mode"))
	}
	if c.GroupID == 0 {
		errs = append(errs, errors.New("group id is required in callback mode"))
	}
	return errs
}
