// Package config reads chathub's typed configuration from environment
// variables (flags of each subcommand override some of them) and validates it
// at start.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Config is the process configuration. Every field documents its environment
// variable and default.
type Config struct {
	// DatabaseURL (DATABASE_URL): postgres://… for PostgreSQL; anything else is
	// a SQLite file path ("sqlite://path" and "file:path" accepted). Default:
	// "" → the embedded SQLite file chathub.db in the working directory.
	DatabaseURL string
	// RedisURL (REDIS_URL): redis://… or rediss://…. Default: "" → an
	// in-process Redis (miniredis); conversation state is then lost on exit.
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
}

// Default returns the defaults.
func Default() Config {
	return Config{
		RedisPrefix:  "chathub",
		ScenariosDir: "scenarios",
		StateTTL:     30 * 24 * time.Hour,
		LogLevel:     slog.LevelInfo,
		LogFormat:    "text",
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
	if v := getenv("STATE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("STATE_TTL=%q: not a duration like 720h", v))
		}
		c.StateTTL = d
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: use debug, info, warn or error", v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
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
	if c.ScenariosDir == "" {
		errs = append(errs, errors.New("SCENARIOS_DIR must not be empty"))
	}
	return errors.Join(errs...)
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
