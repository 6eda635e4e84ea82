package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/logtest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

// TestRunConfigFileWebhooks: two Telegram bots on webhooks and a VK
// community on the Callback API share one HTTP server, each on its own
// path with its own secret, and each answers from its own scenarios.
func TestRunConfigFileWebhooks(t *testing.T) {
	t.Parallel()
	shopAPI, clubAPI, vkAPI := telegramtest.New(t), telegramtest.New(t), vktest.New(t)
	dir := t.TempDir()
	for name, greeting := range map[string]string{"shop": "Магазин: вебхук", "club": "Клуб: вебхук", "vk": "ВК: колбэк"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "hello.yaml"), []byte(helloScenario(greeting)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := "127.0.0.1:" + freePort(t)
	file := filepath.Join(dir, "bots.yaml")
	conf := `bots:
  - {name: shop, platform: telegram, token: "${SHOP_TOKEN}", api_url: "` + shopAPI.BaseURL() + `",
     webhook_url: "https://bots.example.com/tg/shop", webhook_secret: "${SHOP_SECRET}", scenarios_dir: shop}
  - {name: club, platform: telegram, token: "${CLUB_TOKEN}", api_url: "` + clubAPI.BaseURL() + `",
     webhook_url: "https://bots.example.com/tg/club", webhook_secret: club-secret, scenarios_dir: club}
  - {name: vkclub, platform: vk, token: "${VK_TOKEN_CLUB}", group_id: 777, api_url: "` + vkAPI.URL() + `",
     callback_path: /vk/club, callback_secret: vk-secret, confirmation_code: conf123, scenarios_dir: vk}
`
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CONFIG_FILE": file, "DATABASE_URL": filepath.Join(dir, "crm.db"), "HTTP_ADDR": addr, "LOG_LEVEL": "error",
		"SHOP_TOKEN": shopAPI.Token(), "SHOP_SECRET": "shop-secret", "CLUB_TOKEN": clubAPI.Token(), "VK_TOKEN_CLUB": vkAPI.Token(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr logtest.Buffer
	go func() {
		done <- Main(ctx, &Env{Args: []string{"run"}, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
			Getenv: func(k string) string { return env[k] }})
	}()
	waitHTTP(t, "http://"+addr+"/healthz")

	const user = 42
	post := func(api *telegramtest.Server, path, secret string) int {
		t.Helper()
		id := api.SendText(user, "/start")
		code, err := telegramtest.PostWebhook("http://"+addr+path, secret, api.Update(id))
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	if code := post(shopAPI, "/tg/shop", "club-secret"); code != http.StatusUnauthorized {
		t.Errorf("shop's webhook with club's secret answered %d; want 401", code)
	}
	if code := post(shopAPI, "/tg/shop", "shop-secret"); code != http.StatusOK {
		t.Fatalf("shop's webhook answered %d\n%s", code, stderr.String())
	}
	if code := post(clubAPI, "/tg/club", "club-secret"); code != http.StatusOK {
		t.Fatalf("club's webhook answered %d\n%s", code, stderr.String())
	}
	if msgs := shopAPI.WaitMessages(user, 1, 10*time.Second); msgs[0].Text != "Магазин: вебхук" {
		t.Errorf("shop answered %q", msgs[0].Text)
	}
	if msgs := clubAPI.WaitMessages(user, 1, 10*time.Second); msgs[0].Text != "Клуб: вебхук" {
		t.Errorf("club answered %q", msgs[0].Text)
	}
	if code, body := vkAPI.PostCallback("http://"+addr+"/vk/club", vkAPI.ConfirmationEvent().Body("vk-secret")); code != 200 || body != "conf123" {
		t.Errorf("VK confirmation = %d %q; want the community's code", code, body)
	}
	ev := vkAPI.MessageEvent(vktest.InMessage{FromID: user, Text: "Начать", Payload: `{"command":"start"}`})
	if code, body := vkAPI.PostCallback("http://"+addr+"/vk/club", ev.Body("vk-secret")); code != 200 || body != "ok" {
		t.Fatalf("VK callback = %d %q\n%s", code, body, stderr.String())
	}
	if msgs := vkAPI.WaitMessages(user, 1, 10*time.Second); msgs[0].Text != "ВК: колбэк" {
		t.Errorf("vk answered %q", msgs[0].Text)
	}
	stopRun(t, cancel, done, stderr.String)
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s did not answer", url)
}
