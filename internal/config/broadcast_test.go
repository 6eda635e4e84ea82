package config

import (
	"testing"
	"time"
)

func TestBroadcastSettings(t *testing.T) {
	t.Parallel()
	tests := []envCase{
		{"defaults", nil, func(c Config) bool {
			return c.Telegram.RequestsPerSecond == 30 && !c.Telegram.PaidBroadcast && c.Telegram.BroadcastRPS() == 30 &&
				c.Broadcast.Workers == 8 && c.Broadcast.FrequencyCap == 168*time.Hour &&
				c.Broadcast.QuietHours == "21:00-09:00" && c.Broadcast.DefaultTimezone == "Europe/Moscow" &&
				c.Broadcast.Lease == 2*time.Minute
		}, ""},
		{"lease", map[string]string{"BROADCAST_LEASE": "15s"}, func(c Config) bool { return c.Broadcast.Lease == 15*time.Second }, ""},
		{"lease too short", map[string]string{"BROADCAST_LEASE": "4s"}, nil, "BROADCAST_LEASE must be 5s..1h"},
		{"shortest lease", map[string]string{"BROADCAST_LEASE": "5s"}, func(c Config) bool { return c.Broadcast.Lease == 5*time.Second }, ""},
		{"lease too long", map[string]string{"BROADCAST_LEASE": "2h"}, nil, "BROADCAST_LEASE must be 5s..1h"},
		{"lease not a duration", map[string]string{"BROADCAST_LEASE": "long"}, nil, "BROADCAST_LEASE"},
		{"values", map[string]string{"TELEGRAM_RPS": "20", "BROADCAST_WORKERS": "8", "FREQUENCY_CAP": "24h",
			"QUIET_HOURS": "22:30-08:00", "DEFAULT_TIMEZONE": "Asia/Yekaterinburg"}, func(c Config) bool {
			return c.Telegram.BroadcastRPS() == 20 && c.Broadcast.Workers == 8 && c.Broadcast.FrequencyCap == 24*time.Hour &&
				c.Broadcast.QuietHours == "22:30-08:00" && c.Broadcast.DefaultTimezone == "Asia/Yekaterinburg"
		}, ""},
		{"paid broadcast", map[string]string{"TELEGRAM_PAID_BROADCAST": "true"}, func(c Config) bool {
			return c.Telegram.PaidBroadcast && c.Telegram.BroadcastRPS() == 1000
		}, ""},
		{"paid broadcast off", map[string]string{"TELEGRAM_PAID_BROADCAST": "0"}, func(c Config) bool { return !c.Telegram.PaidBroadcast }, ""},
		{"frequency cap off", map[string]string{"FREQUENCY_CAP": "off"}, func(c Config) bool { return c.Broadcast.FrequencyCap == 0 }, ""},
		{"frequency cap zero", map[string]string{"FREQUENCY_CAP": "0"}, func(c Config) bool { return c.Broadcast.FrequencyCap == 0 }, ""},
		{"quiet hours off", map[string]string{"QUIET_HOURS": "off"}, func(c Config) bool { return c.Broadcast.QuietHours == "off" }, ""},
		{"paid broadcast not a bool", map[string]string{"TELEGRAM_PAID_BROADCAST": "yes please"}, nil, `TELEGRAM_PAID_BROADCAST="yes please": use true or false`},
		{"telegram rps zero", map[string]string{"TELEGRAM_RPS": "0"}, nil, "TELEGRAM_RPS must be 1..30"},
		{"telegram rps over the limit", map[string]string{"TELEGRAM_RPS": "100"}, nil, "set TELEGRAM_PAID_BROADCAST=true"},
		{"telegram rps not a number", map[string]string{"TELEGRAM_RPS": "fast"}, nil, "TELEGRAM_RPS"},
		{"workers zero", map[string]string{"BROADCAST_WORKERS": "0"}, nil, "BROADCAST_WORKERS must be 1..256"},
		{"workers too many", map[string]string{"BROADCAST_WORKERS": "1000"}, nil, "BROADCAST_WORKERS must be 1..256"},
		{"frequency cap negative", map[string]string{"FREQUENCY_CAP": "-1h"}, nil, "FREQUENCY_CAP must be a positive duration"},
		{"frequency cap not a duration", map[string]string{"FREQUENCY_CAP": "week"}, nil, `FREQUENCY_CAP="week"`},
		{"quiet hours bad", map[string]string{"QUIET_HOURS": "9pm-9am"}, nil, "QUIET_HOURS must be HH:MM-HH:MM"},
		{"quiet hours out of range", map[string]string{"QUIET_HOURS": "25:00-09:00"}, nil, "QUIET_HOURS"},
		{"timezone unknown", map[string]string{"DEFAULT_TIMEZONE": "Mars/Olympus"}, nil, `DEFAULT_TIMEZONE must be an IANA timezone name such as Europe/Moscow or Asia/Yekaterinburg, got "Mars/Olympus"`},
		{"timezone local", map[string]string{"DEFAULT_TIMEZONE": "Local"}, nil, "DEFAULT_TIMEZONE"},
	}
	runEnvCases(t, tests)
}

func TestBroadcastLocation(t *testing.T) {
	t.Parallel()
	loc, err := Default().Broadcast.Location()
	if err != nil || loc.String() != "Europe/Moscow" {
		t.Fatalf("Location() = %v, %v", loc, err)
	}
}
