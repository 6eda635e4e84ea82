package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	tests := []envCase{
		{"defaults", nil, func(c Config) bool {
			return c.ScenariosDir == "scenarios" && c.StateTTL == 720*time.Hour && c.RedisPrefix == "chathub" && c.DatabaseURL == ""
		}, ""},
		{"values", map[string]string{"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://r", "STATE_TTL": "1h", "LOG_LEVEL": "debug", "LOG_FORMAT": "json"},
			func(c Config) bool {
				return c.DatabaseURL == "postgres://x" && c.RedisURL == "redis://r" && c.StateTTL == time.Hour && c.LogLevel == slog.LevelDebug && c.LogFormat == "json"
			}, ""},
		{"bad ttl", map[string]string{"STATE_TTL": "month"}, nil, "STATE_TTL"},
		{"short ttl", map[string]string{"STATE_TTL": "1s"}, nil, "at least 1m"},
		{"bad level", map[string]string{"LOG_LEVEL": "loud"}, nil, "LOG_LEVEL"},
		{"bad format", map[string]string{"LOG_FORMAT": "xml"}, nil, "LOG_FORMAT"},
		{"bad prefix", map[string]string{"REDIS_PREFIX": "a{b}"}, nil, "REDIS_PREFIX"},
		{"vk rps default", nil, func(c Config) bool { return c.VK.RequestsPerSecond == 20 }, ""},
		{"vk rps", map[string]string{"VK_RPS": "15"}, func(c Config) bool { return c.VK.RequestsPerSecond == 15 }, ""},
		{"vk rps zero", map[string]string{"VK_RPS": "0"}, nil, "VK_RPS must be 1..1000"},
		{"vk rps not a number", map[string]string{"VK_RPS": "fast"}, nil, "VK_RPS"},
		{"admin token unset", nil, func(c Config) bool { return c.AdminToken == "" }, ""},
		{"admin token", map[string]string{"ADMIN_TOKEN": " 0123456789abcdef "}, func(c Config) bool { return c.AdminToken == "0123456789abcdef" }, ""},
		{"admin token short", map[string]string{"ADMIN_TOKEN": "short-secret"}, nil, "ADMIN_TOKEN must be at least 16 characters (got 12)"},
		{"admin token space", map[string]string{"ADMIN_TOKEN": "0123456789 abcdef"}, nil, "ADMIN_TOKEN must not contain spaces"},
		{"console https", map[string]string{"CONSOLE_HTTPS": "true"}, func(c Config) bool { return c.ConsoleHTTPS }, ""},
		{"console https default", map[string]string{}, func(c Config) bool { return !c.ConsoleHTTPS }, ""},
		{"console https bad", map[string]string{"CONSOLE_HTTPS": "yes please"}, nil, `CONSOLE_HTTPS="yes please": use true or false`},
	}
	runEnvCases(t, tests)
}

func TestAdminTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"s3cr3t", "s3cr3t-with-a-tab\there"} {
		_, err := FromEnv(func(k string) string { return map[string]string{"ADMIN_TOKEN": tok}[k] })
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ADMIN_TOKEN %q: err = %v, want an error that does not quote the token", tok, err)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"postgres://u:secret@h:5432/db": "postgres://u:***@h:5432/db",
		"redis://:pw@h:6379/0":          "redis://:***@h:6379/0",
		"redis://h:6379":                "redis://h:6379",
		"chathub.db":                    "chathub.db",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateBots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"none", nil, "no bot configured: set TELEGRAM_TOKEN"},
		{"telegram polling", map[string]string{"TELEGRAM_TOKEN": "1:a"}, ""},
		{"telegram webhook without secret", map[string]string{"TELEGRAM_TOKEN": "1:a", "TELEGRAM_WEBHOOK_URL": "https://x/tg"}, "TELEGRAM_WEBHOOK_SECRET"},
		{"vk without group", map[string]string{"VK_TOKEN": "t"}, "VK_GROUP_ID"},
		{"vk long poll", map[string]string{"VK_TOKEN": "t", "VK_GROUP_ID": "42"}, ""},
		{"vk callback without secrets", map[string]string{"VK_TOKEN": "t", "VK_GROUP_ID": "42", "VK_CALLBACK_PATH": "/vk"}, "VK_CONFIRMATION_CODE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			err = c.ValidateBots()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ValidateBots() = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{"VK_GROUP_ID": "abc"}[k] }); err == nil {
		t.Fatal("bad VK_GROUP_ID accepted")
	}
}

// envCase is one FromEnv table row: the environment and either a check of
// the Config or a substring of the expected error.
type envCase struct {
	name    string
	env     map[string]string
	check   func(Config) bool
	wantErr string
}

// runEnvCases runs FromEnv table rows as parallel subtests.
func runEnvCases(t *testing.T, tests []envCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("FromEnv = %+v, %v", c, err)
			}
		})
	}
}

// TestFromEnvReportsEveryProblem: values that do not parse and values out of
// range are reported together, one per line, not one at a time.
func TestFromEnvReportsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // lines, in order
	}{
		{"parse and range", map[string]string{"WORKERS": "x", "STATE_TTL": "1s", "LOG_FORMAT": "xml"}, []string{
			`WORKERS="x": not a non-negative whole number`,
			"STATE_TTL must be at least 1m, got 1s",
			`LOG_FORMAT must be text or json, got "xml"`,
		}},
		{"broadcast and admin", map[string]string{"BROADCAST_LEASE": "soon", "TELEGRAM_RPS": "31", "ADMIN_TOKEN": "short", "LOG_LEVEL": "loud"}, []string{
			`BROADCAST_LEASE="soon": not a duration like 720h or 15s`,
			`LOG_LEVEL="loud": use debug, info, warn or error`,
			"ADMIN_TOKEN must be at least 16 characters (got 5); generate one with `openssl rand -hex 32`",
			"TELEGRAM_RPS must be 1..30 messages per second",
		}},
		{"a bad value is not also out of range", map[string]string{"STATE_TTL": "month", "HANDLE_TIMEOUT": "0s"}, []string{
			`STATE_TTL="month": not a duration like 720h or 15s`,
			"HANDLE_TIMEOUT must be at least 1s, got 0s",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
				}
			}
		})
	}
}
