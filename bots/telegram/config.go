package telegram

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/apiclient"
)

// Defaults of Config.
const (
	DefaultAPIURL        = "https://api.telegram.org"
	DefaultPollTimeout   = 25 * time.Second
	DefaultPollLimit     = 100
	DefaultMaxBodyBytes  = 1 << 20
	DefaultRetryDelay    = time.Second
	DefaultMaxRetryDelay = 30 * time.Second
)

// Config configures a Bot. The zero value of every field but Token means
// its default; New applies the defaults and calls validate.
type Config struct {
	// Bot names this bot in the chat keys of its updates (messenger.ChatKey.Bot:
	// a config file's bot name); empty for the bot configured by
	// environment variables.
	Bot string
	// Token is the bot token from @BotFather (required). It never appears in
	// errors or logs.
	Token string
	// APIURL is the Bot API root, default "https://api.telegram.org"; the
	// adapter appends "/bot%s/%s". A value that already holds the two %s
	// verbs (as tgbotapi.NewBotAPIWithAPIEndpoint wants) is used as is.
	APIURL string
	// WebhookURL is the public HTTPS URL Telegram posts updates to (see
	// SetWebhook and WebhookHandler); empty means long polling (Run).
	WebhookURL string
	// WebhookSecret is sent by Telegram in the X-Telegram-Bot-Api-Secret-Token
	// header of every webhook request: 1-256 characters of [A-Za-z0-9_-],
	// required when WebhookURL is set. A Bot without one rejects every
	// webhook request with 401.
	WebhookSecret string
	// PollTimeout is the getUpdates long-poll timeout, default 25s; whole
	// seconds, at least 1s.
	PollTimeout time.Duration
	// PollLimit is the getUpdates batch size, 1-100, default 100.
	PollLimit int
	// HTTPClient makes the API calls; default apiclient.New(): no overall
	// timeout (each call gets its own deadline) and enough idle connections
	// for concurrent sends. In polling mode a Timeout,
	// if set, must exceed PollTimeout.
	HTTPClient *http.Client
	// Logger receives the adapter's logs (the token is redacted from every
	// line); default slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps a webhook request body, default 1 MiB; larger ones
	// get 413.
	MaxBodyBytes int64
	// RetryDelay is the first wait before Run retries a failed getUpdates or
	// delivers a batch the pipeline refused again, default 1s; it doubles per
	// failure up to MaxRetryDelay, default 30s. At least 1ms, and
	// MaxRetryDelay at least RetryDelay.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// ManagersChatID is the managers' team chat (MANAGERS_TELEGRAM_CHAT_ID,
	// a group's negative id), 0 for none. Messages posted there are
	// translated as messenger.Update with Team set (the chat key is the
	// group's, AuthorID and Profile the manager's, ReplyToID the message
	// replied to); messages of other groups are ignored as before.
	ManagersChatID int64
}

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// withDefaults returns c with every unset field at its default.
func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.PollTimeout == 0 {
		c.PollTimeout = DefaultPollTimeout
	}
	if c.PollLimit == 0 {
		c.PollLimit = DefaultPollLimit
	}
	if c.HTTPClient == nil {
		c.HTTPClient = apiclient.New()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.MaxRetryDelay == 0 {
		c.MaxRetryDelay = max(DefaultMaxRetryDelay, c.RetryDelay)
	}
	return c
}

// validate reports every problem of a defaulted configuration; messages
// never contain the token.
func (c Config) validate() error {
	var errs []error
	if strings.TrimSpace(c.Token) == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if _, err := endpoint(c.APIURL); err != nil {
		errs = append(errs, err)
	}
	if c.WebhookURL != "" {
		errs = append(errs, validateWebhook(c.WebhookURL, c.WebhookSecret))
	} else if c.WebhookSecret != "" && !secretRE.MatchString(c.WebhookSecret) {
		errs = append(errs, errors.New("webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -"))
	}
	if c.PollTimeout < time.Second {
		errs = append(errs, fmt.Errorf("poll timeout %s is below 1s", c.PollTimeout))
	}
	if t := c.HTTPClient.Timeout; c.WebhookURL == "" && t != 0 && t <= c.PollTimeout {
		errs = append(errs, fmt.Errorf("HTTP client timeout %s does not exceed the poll timeout %s", t, c.PollTimeout))
	}
	if c.ManagersChatID > 0 {
		errs = append(errs, fmt.Errorf("managers chat id %d is not a group's id (groups have negative ids)", c.ManagersChatID))
	}
	if c.PollLimit < 1 || c.PollLimit > 100 {
		errs = append(errs, fmt.Errorf("poll limit %d is outside 1-100", c.PollLimit))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is negative", c.MaxBodyBytes))
	}
	if c.RetryDelay < time.Millisecond {
		errs = append(errs, fmt.Errorf("retry delay %s is below 1ms", c.RetryDelay))
	}
	if c.MaxRetryDelay < c.RetryDelay {
		errs = append(errs, fmt.Errorf("max retry delay %s is below the retry delay %s", c.MaxRetryDelay, c.RetryDelay))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telegram: invalid config: %w", err)
	}
	return nil
}

func validateWebhook(rawURL, secret string) error {
	var errs []error
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, errors.New("webhook URL must be an absolute https:// URL"))
	}
	if secret == "" {
		errs = append(errs, errors.New("webhook secret is required in webhook mode"))
	} else if !secretRE.MatchString(secret) {
		errs = append(errs, errors.New("webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -"))
	}
	return errors.Join(errs...)
}

// endpoint turns APIURL into the "…/bot%s/%s" format tgbotapi wants.
func endpoint(apiURL string) (string, error) {
	if n := strings.Count(apiURL, "%s"); n == 2 && strings.Count(apiURL, "%") == 2 {
		return apiURL, nil
	} else if strings.Contains(apiURL, "%") {
		return "", errors.New("API URL must be a root URL or hold exactly two %s verbs")
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("API URL must be an absolute http(s) URL")
	}
	return strings.TrimRight(apiURL, "/") + "/bot%s/%s", nil
}
