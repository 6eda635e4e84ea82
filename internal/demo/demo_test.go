package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

func TestPersonas(t *testing.T) {
	t.Parallel()
	ps := Personas(time.Now())
	if len(ps) < 8 || len(ps) > 12 {
		t.Fatalf("%d personas, want 8-12", len(ps))
	}
	seen := map[int64]bool{}
	for _, p := range ps {
		if seen[p.UserID] || p.FirstName == "" || p.LastName == "" || p.Username == "" {
			t.Errorf("persona %+v: duplicate id or missing name", p)
		}
		seen[p.UserID] = true
		first := p.Changes[0]
		if !first.Consent || first.Profile == nil || first.Profile.FirstName != p.FirstName {
			t.Errorf("%s: not subscribed or no profile", p.FirstName)
		}
		if p.Key().ID == "" || p.Key().Bot != "" {
			t.Errorf("%s: key %+v", p.FirstName, p.Key())
		}
	}
}

func TestConsoleURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/",
		"[::]:8080":      "http://127.0.0.1:8080/",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/",
		"[::1]:8080":     "http://[::1]:8080/",
	} {
		if got := consoleURL(addr); got != want {
			t.Errorf("consoleURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestHubConfig: the demo replaces the stores, the bots, the address and
// quiet hours, and keeps the rest of the environment's configuration.
func TestHubConfig(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t)
	base := config.Default()
	base.DatabaseURL, base.RedisURL = "postgres://prod", "redis://prod"
	base.VK.Token, base.ConfigFile = "vk-token", "bots.yaml"
	base.ScenariosDir, base.Broadcast.QuietHours = "my-scenarios", "21:00-09:00"
	c := hubConfig(base, "127.0.0.1:0", "/tmp/x/chathub.db", tg)
	if c.DatabaseURL != "/tmp/x/chathub.db" || c.RedisURL != "" || c.HTTPAddr != "127.0.0.1:0" ||
		c.VK.Token != "" || c.ConfigFile != "" || c.Telegram.Token != tg.Token() || c.Telegram.APIURL != tg.URL() ||
		c.Broadcast.QuietHours != "off" || c.ScenariosDir != "my-scenarios" {
		t.Errorf("hub config: %+v", c)
	}
}

// TestShippedScenariosEmbedded: run from a directory without scenarios/
// (here the package's own) and with SCENARIOS_DIR unset, the demo runs the
// shipped scenarios embedded in the binary.
func TestShippedScenariosEmbedded(t *testing.T) {
	d, err := Start(context.Background(), Config{Base: config.Default(), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Start without scenarios/ here: %v", err)
	}
	t.Cleanup(func() { _ = d.Stop(context.Background()) })
	if !strings.HasPrefix(d.Config.ScenariosDir, d.DataDir) {
		t.Errorf("scenarios from %s, want the embedded ones written under %s", d.Config.ScenariosDir, d.DataDir)
	}
	for _, id := range []string{"portrait", "profile", "feedback", "b2b"} {
		if _, ok := d.Stores.Scenarios.Get(id); !ok {
			t.Errorf("scenario %s not loaded", id)
			continue
		}
		// Their tests come along, so Сценарии shows their results.
		if _, err := os.Stat(filepath.Join(d.Config.ScenariosDir, "tests", id+".test.yaml")); err != nil {
			t.Errorf("the tests of %s: %v", id, err)
		}
	}
}
