package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestReadyzReportsEachBot: /readyz lists every bot's intake with its state
// and fails (503) once one has stopped for good: a refused token (Telegram
// 401, VK error 5) or another consumer of the bot's updates (Telegram 409).
// A platform that does not answer is reported as unreachable while the
// intake retries, and the process stays ready (a restart would not help).
// /healthz, the liveness probe, answers 200 throughout.
func TestReadyzReportsEachBot(t *testing.T) {
	t.Parallel()
	closedURL := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/bot%s/%s"
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, cfg *config.Config)
		platform string
		state    string
		stopped  bool
	}{
		{"telegram ok", func(t *testing.T, cfg *config.Config) {
			fake := telegramtest.New(t)
			cfg.Telegram.Token, cfg.Telegram.APIURL = fake.Token(), fake.URL()
		}, "telegram", "ok", false},
		{"telegram token refused", func(t *testing.T, cfg *config.Config) {
			fake := telegramtest.New(t)
			cfg.Telegram.Token, cfg.Telegram.APIURL = "123456:wrong-token-wrong-token-wrong-token", fake.URL()
		}, "telegram", "unauthorized", true},
		{"telegram conflict", func(t *testing.T, cfg *config.Config) {
			fake := telegramtest.New(t)
			fake.FailNext("getUpdates", http.StatusConflict, 0)
			cfg.Telegram.Token, cfg.Telegram.APIURL = fake.Token(), fake.URL()
		}, "telegram", "conflict", true},
		{"telegram unreachable", func(t *testing.T, cfg *config.Config) {
			cfg.Telegram.Token, cfg.Telegram.APIURL = "123456:token-of-an-unreachable-api", closedURL(t)
		}, "telegram", "unreachable", false},
		{"vk token refused", func(t *testing.T, cfg *config.Config) {
			fake := vktest.New(t)
			cfg.VK = config.VK{Token: "wrong-" + fake.Token(), GroupID: fake.GroupID(), APIURL: fake.URL(), RequestsPerSecond: 20}
		}, "vk", "unauthorized", true},
		{"vk ok", func(t *testing.T, cfg *config.Config) {
			fake := vktest.New(t)
			cfg.VK = config.VK{Token: fake.Token(), GroupID: fake.GroupID(), APIURL: fake.URL(), RequestsPerSecond: 20}
		}, "vk", "ok", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := outageConfig(t)
			tt.setup(t, &cfg)
			addr := startBotsRuntime(t, cfg)
			var last readyzBody
			eventually(t, "/readyz reports the bot as "+tt.state, func() bool {
				last = getReadyz(t, addr)
				return len(last.Bots) == 1 && last.Bots[0].State == tt.state && last.Bots[0].Stopped == tt.stopped
			})
			b := last.Bots[0]
			if b.Platform != tt.platform || b.Bot != config.EnvBotName || b.Intake != "polling" {
				t.Errorf("bot entry = %+v", b)
			}
			wantStatus := http.StatusOK
			if tt.stopped {
				wantStatus = http.StatusServiceUnavailable
				if b.Error == "" {
					t.Errorf("stopped bot without its error: %+v", b)
				}
			}
			if last.status != wantStatus || last.Ready != (wantStatus == http.StatusOK) {
				t.Errorf("/readyz = %d ready=%v, want %d", last.status, last.Ready, wantStatus)
			}
			if token := cfg.Telegram.Token + cfg.VK.Token; strings.Contains(last.raw, token) {
				t.Errorf("/readyz shows the token: %s", last.raw)
			}
			if last.Checks["postgres"] != "ok" || last.Checks["redis"] != "ok" {
				t.Errorf("store checks = %v", last.Checks)
			}
			stopped := "0"
			if tt.stopped {
				stopped = "1"
			}
			metrics := getBody(t, "http://"+addr+"/metrics")
			for _, want := range []string{
				`chathub_bot_intake_stopped{bot="default",platform="` + tt.platform + `"} ` + stopped,
				`chathub_dependency_up{dependency="PostgreSQL"} 1`, `chathub_dependency_up{dependency="Redis"} 1`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz = %d, want 200 (liveness)", resp.StatusCode)
			}
		})
	}
}

// startBotsRuntime runs `chathub run` with the bots cfg configures (built as
// the command builds them) and returns its HTTP address.
func startBotsRuntime(t *testing.T, cfg config.Config) string {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = stores.Close() })
	bots, err := Bots(cfg, stores, logger)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(cfg, stores, bots, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Stop(ctx)
	})
	return rt.Addr()
}

// readyzBody is /readyz's answer.
type readyzBody struct {
	status int
	raw    string
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
	Bots   []admin.BotStatus `json:"bots"`
}

func getReadyz(t *testing.T, addr string) readyzBody {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	var body readyzBody
	if err := json.NewDecoder(io.TeeReader(resp.Body, &sb)).Decode(&body); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	body.status, body.raw = resp.StatusCode, sb.String()
	return body
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
