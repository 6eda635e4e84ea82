// Package config reads chathub's typed configuration from environment
// variables (flags of each subcommand override some of them) and validates it
// at start.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/relay"
)

// Config is the process configuration. Every field documents its environment
// variable and default.
type Config struct {
	// DatabaseURL (DATABASE_URL): postgres://… for PostgreSQL; anything else is
	// a SQLite file path ("sqlite://path" and "file:path" accepted). Default:
	// "" → the embedded SQLite file chathub.db in the working directory.
	DatabaseURL string
	// RedisURL (REDIS_URL): redis://… or rediss://…, or a Redis Cluster's
	// redis+cluster://host1:port1,host2:port2,… (rediss+cluster:// for TLS;
	// see internal/store/redis cluster.go). Default: "" → an in-process
	// Redis (miniredis); conversation state is then lost on exit.
	RedisURL string
	// RedisPrefix (REDIS_PREFIX) starts every Redis key. Default "chathub".
	RedisPrefix string
	// ScenariosDir (SCENARIOS_DIR) holds the scenario files. Default "scenarios".
	ScenariosDir string
	// DefaultScenario (DEFAULT_SCENARIO) starts on /start without a matching
	// deep link and on a new client's first message. Default: the scenario
	// whose triggers include the "start" command.
	DefaultScenario string
	// StateTTL (STATE_TTL, Go duration) is how long an idle conversation's
	// state is kept. Default 720h (30 days).
	StateTTL time.Duration
	// LogLevel (LOG_LEVEL: debug, info, warn, error). Default info.
	LogLevel slog.Level
	// LogFormat (LOG_FORMAT: text or json). Default text.
	LogFormat string

	// HTTPAddr (HTTP_ADDR) is where `chathub run` serves /healthz, /readyz,
	// /metrics, webhooks, the API under /api and the web console at /
	// (`chathub console`: the console and the API). Default ":8080".
	HTTPAddr string
	// ConsoleHTTPS (CONSOLE_HTTPS: true/false) says browsers reach the web
	// console over HTTPS (directly or through a TLS-terminating proxy): its
	// session cookie is then __Host-chathub_session with Secure. Default
	// false (plain chathub_session, for http://localhost).
	ConsoleHTTPS bool
	// Telegram configures the Telegram bot; empty Token disables it.
	Telegram Telegram
	// VK configures the VK community bot; empty Token disables it.
	VK VK
	// Workers (WORKERS) is how many inbound updates are handled at once (one
	// chat's one at a time). Default 64 per CPU.
	Workers int
	// ShutdownTimeout (SHUTDOWN_TIMEOUT) bounds the graceful drain. Default 15s.
	ShutdownTimeout time.Duration
	// HandleTimeout (HANDLE_TIMEOUT) bounds one attempt at an update; a
	// chat's turn is held at most this long plus 5s. A process that died
	// mid-update is recognised sooner (its restart on the same host at once,
	// others when its liveness expires, see internal/store/redis owner.go).
	// Default 30s, at least 1s.
	HandleTimeout time.Duration
	// PollLease (POLL_LEASE) is how long a process's lease on a bot's long
	// polling lasts without renewal: exactly one process polls each bot,
	// the others stand by and take over within about this long after the
	// poller died (at once when it stops). Default 5s, 1s..1m.
	PollLease time.Duration
	// QueuePartitions (QUEUE_PARTITIONS) is how many Redis streams a
	// polled bot's updates are spread over, by chat; each is handled by
	// one process at a time, balanced over the live processes. Every
	// process of a deployment must use the same value. Default 16, 1..1024.
	QueuePartitions int
	// AdminToken (ADMIN_TOKEN) is the bearer token of the managers' HTTP API
	// under /api; at least MinAdminTokenLength characters, no spaces. A
	// secret: never logged or printed. Default: "" → the API is disabled.
	AdminToken string
	// Broadcast configures the broadcaster (see Broadcast).
	Broadcast Broadcast
	// Handoff configures the live hand-off to managers (see Handoff).
	Handoff Handoff
	// ConfigFile (CONFIG_FILE; `chathub run --config` wins) is a YAML file
	// of several bots, each with its own scenarios (docs/CONFIG.md). Empty:
	// only the bots of the environment variables.
	ConfigFile string
	// FileBots are ConfigFile's bots, once LoadFile read it.
	FileBots []Bot
	// TeamChat is the managers' Telegram and VK chats (see TeamChat).
	TeamChat TeamChat
}

// MinAdminTokenLength is the shortest ADMIN_TOKEN accepted.
const MinAdminTokenLength = 16

// Telegram is the Telegram bot's configuration.
type Telegram struct {
	// Token (TELEGRAM_TOKEN) from @BotFather; empty disables Telegram.
	Token string
	// APIURL (TELEGRAM_API_URL). Default "https://api.telegram.org".
	APIURL string
	// WebhookURL (TELEGRAM_WEBHOOK_URL) is the public HTTPS URL Telegram posts
	// updates to; empty means long polling. Its path is served on HTTP_ADDR.
	WebhookURL string
	// WebhookSecret (TELEGRAM_WEBHOOK_SECRET) is required in webhook mode.
	WebhookSecret string
	// RequestsPerSecond (TELEGRAM_RPS) is the bot's broadcast budget in
	// messages per second, shared in Redis by every process. Default 30,
	// Telegram's limit for a bot; at most 30.
	RequestsPerSecond int
	// PaidBroadcast (TELEGRAM_PAID_BROADCAST, true/false) opts in to paid
	// broadcasts: broadcast messages carry allow_paid_broadcast (Telegram
	// charges Stars for them) and the budget becomes 1000 messages per
	// second. Default false.
	PaidBroadcast bool
}

// VK is the VK community bot's configuration.
type VK struct {
	// Token (VK_TOKEN) is the community access token; empty disables VK.
	Token string
	// GroupID (VK_GROUP_ID) is the community id; required with a token.
	GroupID int
	// APIURL (VK_API_URL). Default "https://api.vk.com/method/".
	APIURL string
	// CallbackPath (VK_CALLBACK_PATH) switches to the Callback API served at
	// that path on HTTP_ADDR; empty means Bots Long Poll.
	CallbackPath string
	// CallbackSecret (VK_CALLBACK_SECRET) and ConfirmationCode
	// (VK_CONFIRMATION_CODE) are required in Callback API mode.
	CallbackSecret   string
	ConfirmationCode string
	// RequestsPerSecond (VK_RPS) is the community's API budget, shared in
	// Redis by every process (replies and broadcasts). Default 20, VK's limit
	// for a community token; lower it to leave room for other users of the
	// token.
	RequestsPerSecond int
}

// Default returns the defaults.
func Default() Config {
	return Config{
		HTTPAddr:        ":8080",
		ShutdownTimeout: 15 * time.Second,
		HandleTimeout:   30 * time.Second,
		PollLease:       relay.DefaultLeaseTTL,
		QueuePartitions: relay.DefaultPartitions,
		Telegram:        Telegram{APIURL: "https://api.telegram.org", RequestsPerSecond: DefaultTelegramRPS},
		VK:              VK{APIURL: "https://api.vk.com/method/", RequestsPerSecond: 20},
		RedisPrefix:     "chathub",
		ScenariosDir:    "scenarios",
		StateTTL:        30 * 24 * time.Hour,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		Broadcast: Broadcast{Workers: DefaultBroadcastWorkers, Lease: DefaultBroadcastLease, FrequencyCap: DefaultFrequencyCap,
			QuietHours: DefaultQuietHours, DefaultTimezone: DefaultTimezone},
		Handoff: defaultHandoff(),
	}
}

// FromEnv reads the configuration from the environment (getenv is os.Getenv
// when nil) over the defaults and validates it.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Default()
	var errs []error
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	str("DATABASE_URL", &c.DatabaseURL)
	str("REDIS_URL", &c.RedisURL)
	str("REDIS_PREFIX", &c.RedisPrefix)
	str("SCENARIOS_DIR", &c.ScenariosDir)
	str("DEFAULT_SCENARIO", &c.DefaultScenario)
	str("LOG_FORMAT", &c.LogFormat)
	str("HTTP_ADDR", &c.HTTPAddr)
	str("TELEGRAM_TOKEN", &c.Telegram.Token)
	str("TELEGRAM_API_URL", &c.Telegram.APIURL)
	str("TELEGRAM_WEBHOOK_URL", &c.Telegram.WebhookURL)
	str("TELEGRAM_WEBHOOK_SECRET", &c.Telegram.WebhookSecret)
	str("VK_TOKEN", &c.VK.Token)
	str("VK_API_URL", &c.VK.APIURL)
	str("VK_CALLBACK_PATH", &c.VK.CallbackPath)
	str("VK_CALLBACK_SECRET", &c.VK.CallbackSecret)
	str("VK_CONFIRMATION_CODE", &c.VK.ConfirmationCode)
	str("ADMIN_TOKEN", &c.AdminToken)
	str("CONFIG_FILE", &c.ConfigFile)
	errs = append(errs, intVar(getenv, "VK_GROUP_ID", &c.VK.GroupID), intVar(getenv, "WORKERS", &c.Workers),
		durationVar(getenv, "SHUTDOWN_TIMEOUT", &c.ShutdownTimeout), durationVar(getenv, "HANDLE_TIMEOUT", &c.HandleTimeout))
	errs = append(errs, durationVar(getenv, "POLL_LEASE", &c.PollLease), intVar(getenv, "QUEUE_PARTITIONS", &c.QueuePartitions))
	errs = append(errs, durationVar(getenv, "STATE_TTL", &c.StateTTL), intVar(getenv, "VK_RPS", &c.VK.RequestsPerSecond))
	errs = append(errs, readBroadcast(getenv, &c)...)
	errs = append(errs, readHandoff(getenv, &c)...)
	errs = append(errs, readTeamChat(getenv, &c)...)
	errs = append(errs, boolVar(getenv, "CONSOLE_HTTPS", &c.ConsoleHTTPS))
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: use debug, info, warn or error", v))
		}
	}
	// A variable that did not parse keeps its default, so Validate reports
	// only the others: every problem is listed at once, one per line.
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

func intVar(getenv func(string) string, name string, dst *int) error {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%s=%q: not a non-negative whole number", name, v)
	}
	*dst = n
	return nil
}

func durationVar(getenv func(string) string, name string, dst *time.Duration) error {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%s=%q: not a duration like 720h or 15s", name, v)
	}
	*dst = d
	return nil
}

// Bots reports which bots the environment variables configure.
func (c *Config) Bots() (telegram, vk bool) { return c.Telegram.Token != "", c.VK.Token != "" }

// LoadFile reads ConfigFile (if set) into FileBots, expanding ${VAR} with
// getenv (os.Getenv when nil).
func (c *Config) LoadFile(getenv func(string) string) error {
	if c.ConfigFile == "" {
		return nil
	}
	f, err := LoadFile(c.ConfigFile, getenv)
	if err != nil {
		return err
	}
	c.FileBots = f.Bots
	return nil
}

// ValidateBots checks the bot settings `chathub run` needs, naming what to
// set. The bots of the environment variables may run next to a config
// file's (as the bot named EnvBotName), but no two bots may share a token or
// a webhook path.
func (c *Config) ValidateBots() error {
	tg, vk := c.Bots()
	if !tg && !vk && len(c.FileBots) == 0 {
		return errors.New("no bot configured: set TELEGRAM_TOKEN (a token from @BotFather) " +
			"and/or VK_TOKEN with VK_GROUP_ID (a community token and its id), " +
			"or CONFIG_FILE (chathub run --config FILE) to a file of several bots (docs/CONFIG.md)")
	}
	_, _, teamErr := c.TeamChatBot()
	_, _, vkTeamErr := c.TeamChatVKBot()
	return errors.Join(append(c.crossCheckEnvBots(), c.ValidateEnvBots(), teamErr, vkTeamErr)...)
}

// ValidateEnvBots checks the settings of the bots of the environment
// variables that do not depend on a config file, so that `chathub run` can
// report them together with the other configuration errors.
func (c *Config) ValidateEnvBots() error {
	tg, vk := c.Bots()
	var errs []error
	if tg && c.Telegram.WebhookURL != "" && c.Telegram.WebhookSecret == "" {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_URL is set: set TELEGRAM_WEBHOOK_SECRET too (1-256 of A-Z a-z 0-9 _ -)"))
	}
	if vk && c.VK.GroupID == 0 {
		errs = append(errs, errors.New("VK_TOKEN is set: set VK_GROUP_ID to the community id"))
	}
	if vk && c.VK.CallbackPath != "" && (c.VK.CallbackSecret == "" || c.VK.ConfirmationCode == "") {
		errs = append(errs, errors.New("VK_CALLBACK_PATH is set: set VK_CALLBACK_SECRET and VK_CONFIRMATION_CODE from the community's Callback API settings"))
	}
	return errors.Join(errs...)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.StateTTL < time.Minute {
		errs = append(errs, fmt.Errorf("STATE_TTL must be at least 1m, got %s", c.StateTTL))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, got %q", c.LogFormat))
	}
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, "{} ") {
		errs = append(errs, fmt.Errorf("REDIS_PREFIX must be non-empty without braces or spaces, got %q", c.RedisPrefix))
	}
	if c.HandleTimeout < time.Second {
		errs = append(errs, fmt.Errorf("HANDLE_TIMEOUT must be at least 1s, got %s", c.HandleTimeout))
	}
	if c.PollLease < time.Second || c.PollLease > time.Minute {
		errs = append(errs, fmt.Errorf("POLL_LEASE must be 1s..1m, got %s", c.PollLease))
	}
	if c.QueuePartitions < 1 || c.QueuePartitions > relay.MaxPartitions {
		errs = append(errs, fmt.Errorf("QUEUE_PARTITIONS must be 1..%d, got %d", relay.MaxPartitions, c.QueuePartitions))
	}
	if c.ShutdownTimeout < time.Second {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT must be at least 1s, got %s", c.ShutdownTimeout))
	}
	if c.ScenariosDir == "" {
		errs = append(errs, errors.New("SCENARIOS_DIR must not be empty"))
	}
	if c.VK.RequestsPerSecond < 1 || c.VK.RequestsPerSecond > 1000 {
		errs = append(errs, fmt.Errorf("VK_RPS must be 1..1000 requests per second, got %d", c.VK.RequestsPerSecond))
	}
	if err := validateAdminToken(c.AdminToken); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateBroadcast(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateHandoff(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateTeamChat(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateAdminToken checks ADMIN_TOKEN without ever quoting it.
func validateAdminToken(tok string) error {
	switch {
	case tok == "":
		return nil
	case len([]rune(tok)) < MinAdminTokenLength:
		return fmt.Errorf("ADMIN_TOKEN must be at least %d characters (got %d); generate one with `openssl rand -hex 32`",
			MinAdminTokenLength, len([]rune(tok)))
	case strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return errors.New("ADMIN_TOKEN must not contain spaces or control characters")
	}
	return nil
}

// Redact hides the password of a URL-like connection string for logs and errors.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, hasPass := strings.Cut(userinfo, ":")
	if !hasPass {
		return url
	}
	return scheme + "://" + user + ":***@" + host
}

// crossCheckEnvBots reports a file bot that shares a token, a VK community
// or a webhook path with a bot of the environment variables.
func (c *Config) crossCheckEnvBots() []error {
	var errs []error
	for _, b := range c.FileBots {
		switch b.Platform {
		case "telegram":
			if c.Telegram.Token != "" && b.Telegram.Token == c.Telegram.Token {
				errs = append(errs, fmt.Errorf("%s: bot %s has the same token as TELEGRAM_TOKEN: each bot needs its own", c.ConfigFile, b.Name))
			}
			if c.Telegram.Token != "" && c.Telegram.WebhookURL != "" && b.Telegram.WebhookURL != "" &&
				WebhookPath(c.Telegram.WebhookURL) == WebhookPath(b.Telegram.WebhookURL) {
				errs = append(errs, fmt.Errorf("%s: bot %s serves the webhook path of TELEGRAM_WEBHOOK_URL", c.ConfigFile, b.Name))
			}
		case "vk":
			if c.VK.Token != "" && (b.VK.Token == c.VK.Token || b.VK.GroupID == c.VK.GroupID) {
				errs = append(errs, fmt.Errorf("%s: bot %s is the VK community of VK_TOKEN / VK_GROUP_ID already", c.ConfigFile, b.Name))
			}
		}
		if p := b.webhookPath(); p != "" {
			if c.Telegram.Token != "" && c.Telegram.WebhookURL != "" && b.Platform == "vk" && WebhookPath(c.Telegram.WebhookURL) == p ||
				c.VK.Token != "" && c.VK.CallbackPath == p {
				errs = append(errs, fmt.Errorf("%s: bot %s serves path %s like a bot of the environment variables", c.ConfigFile, b.Name, p))
			}
		}
	}
	return errs
}

// webhookPath is the path the bot is served at on HTTP_ADDR ("" when polling).
func (b Bot) webhookPath() string {
	switch {
	case b.Platform == "telegram" && b.Telegram.WebhookURL != "":
		return WebhookPath(b.Telegram.WebhookURL)
	case b.Platform == "vk":
		return b.VK.CallbackPath
	}
	return ""
}
