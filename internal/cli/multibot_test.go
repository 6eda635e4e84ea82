package cli

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
	"github.com/chathub/chathub/internal/store/postgres"
)

// helloScenario is a one-step scenario answering /start with greeting; every
// bot's directory holds one with the same id and its own text.
func helloScenario(greeting string) string {
	return "id: hello\ntitle: Привет\ntriggers: { commands: [start] }\nstart: hi\nsteps:\n  hi: { say: \"" + greeting + "\", end: true }\n"
}

// TestRunConfigFileSeveralBots runs `chathub run --config` with two
// Telegram bots (two fake Bot APIs) and one VK community, each on its own
// scenarios: one user id talking to both Telegram bots gets each bot's
// scenario and two client cards, and a broadcast to bot == "shop" goes out
// only through shop's Bot API.
func TestRunConfigFileSeveralBots(t *testing.T) {
	t.Parallel()
	shopAPI, clubAPI, vkAPI := telegramtest.New(t), telegramtest.New(t), vktest.New(t)
	dir := t.TempDir()
	for name, greeting := range map[string]string{"shop": "Магазин: добро пожаловать", "club": "Клуб: привет", "vkclub": "ВК-клуб: здравствуйте"} {
		if err := os.MkdirAll(filepath.Join(dir, "scenarios", name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "scenarios", name, "hello.yaml"), []byte(helloScenario(greeting)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "bots.yaml")
	conf := `bots:
  - name: shop
    platform: telegram
    token: ${SHOP_TOKEN}
    api_url: ` + shopAPI.URL() + `
    scenarios_dir: scenarios/shop
  - name: club
    platform: telegram
    token: ${CLUB_TOKEN}
    api_url: ` + clubAPI.URL() + `
    scenarios_dir: scenarios/club
  - name: vkclub
    platform: vk
    token: ${VK_CLUB_TOKEN}
    group_id: 777
    api_url: ` + vkAPI.URL() + `
    scenarios_dir: scenarios/vkclub
`
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	dbURL := filepath.Join(dir, "crm.db")
	env := map[string]string{
		"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:" + freePort(t), "LOG_LEVEL": "error",
		"SHOP_TOKEN": shopAPI.Token(), "CLUB_TOKEN": clubAPI.Token(), "VK_CLUB_TOKEN": vkAPI.Token(),
		"BROADCAST_LEASE": "10s",
	}
	if code, out, errOut := runMain(t, env, "", "validate", "--config", file); code != 0 ||
		!strings.Contains(out, "bot shop (telegram)") || !strings.Contains(out, "3 scenario(s) valid") {
		t.Fatalf("validate --config: exit %d\n%s%s", code, out, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr logtest.Buffer
	go func() {
		done <- Main(ctx, &Env{Args: []string{"run", "--config", file}, Stdin: strings.NewReader(""), Stdout: io.Discard,
			Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
	}()
	const user = 77
	shopAPI.SendText(user, "/start")
	clubAPI.SendText(user, "/start")
	// Bots Long Poll starts at the server's current ts: talk once it polls.
	for deadline := time.Now().Add(15 * time.Second); vkAPI.Calls("groups.getLongPollServer") == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	vkAPI.Start(int(user), "")
	for name, want := range map[string]string{"shop": "Магазин", "club": "Клуб"} {
		api := map[string]*telegramtest.Server{"shop": shopAPI, "club": clubAPI}[name]
		msgs := api.WaitMessages(user, 1, 15*time.Second)
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, want) {
			t.Fatalf("%s bot answered %+v; want its own scenario (%q)", name, msgs, want)
		}
	}
	for deadline := time.Now().Add(15 * time.Second); len(vkAPI.Messages(int(user))) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if msgs := vkAPI.Messages(int(user)); len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, "ВК-клуб") {
		t.Fatalf("vk bot answered %+v; want the vkclub scenario\n%s", msgs, stderr.String())
	}

	// One series per bot (the reply leaves before the update is counted: poll).
	for _, series := range []string{`{bot="shop",platform="telegram"} 1`, `{bot="club",platform="telegram"} 1`, `{bot="vkclub",platform="vk"} 1`} {
		var body []byte
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			resp, err := http.Get("http://" + env["HTTP_ADDR"] + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "chathub_bot_updates_total"+series) {
				break
			}
		}
		if !strings.Contains(string(body), "chathub_bot_updates_total"+series) {
			t.Errorf("/metrics has no chathub_bot_updates_total%s", series)
		}
	}

	// Three cards for one user id: one per bot. They consent to mailings.
	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	uid := "77"
	for _, k := range []messenger.ChatKey{
		{Platform: messenger.Telegram, Bot: "shop", ID: uid}, {Platform: messenger.Telegram, Bot: "club", ID: uid},
		{Platform: messenger.VK, Bot: "vkclub", ID: uid},
	} {
		c, err := db.GetClient(ctx, k)
		if err != nil || c == nil {
			t.Fatalf("client %s: %v, %v; want a card of its own", k, c, err)
		}
		if _, err := db.ApplyChanges(ctx, k, &crm.Changes{Now: time.Now(), Consent: true}); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := db.GetClient(ctx, messenger.ChatKey{Platform: messenger.Telegram, ID: uid}); c != nil {
		t.Errorf("a card of the unnamed bot appeared: %+v", c)
	}
	code, out, errOut := runMain(t, env, "", "clients", "--bot", "shop", "--format", "csv")
	rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || len(rows) != 2 || rows[0][botColumn] != "bot" || rows[1][botColumn] != "shop" {
		t.Errorf("clients --bot shop: exit %d\n%s%s", code, out, errOut)
	}

	// Scenario buttons may name the file's bots' scenarios (CONFIG_FILE).
	env["CONFIG_FILE"] = file
	if code, out, errOut := runMain(t, env, "", "broadcast", "create", "--name", "Нет", "--segment", "subscribed",
		"--text", "x", "--button-scenario", "Анкета|nope"); code != 1 || !strings.Contains(out+errOut, "nope") {
		t.Errorf("a button naming no bot's scenario: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runMain(t, env, "", "broadcast", "create", "--name", "Магазин", "--segment", `bot == "shop"`,
		"--text", "Скидки в магазине", "--button-scenario", "Привет|hello", "--ignore-cap", "--ignore-quiet-hours"); code != 0 {
		t.Fatalf("broadcast create: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runMain(t, env, "", "broadcast", "start", "1"); code != 0 {
		t.Fatalf("broadcast start: exit %d\n%s%s", code, out, errOut)
	}
	if msgs := shopAPI.WaitMessages(user, 2, 20*time.Second); len(msgs) != 2 || msgs[1].Text != "Скидки в магазине" {
		t.Fatalf("shop bot messages %+v; want the broadcast", msgs)
	}
	time.Sleep(500 * time.Millisecond) // what else the workers would send
	if msgs := clubAPI.Messages(user); len(msgs) != 1 {
		t.Errorf("club bot sent %d messages; want only its reply (the broadcast was for shop)", len(msgs))
	}
	if msgs := vkAPI.Messages(int(user)); len(msgs) != 1 {
		t.Errorf("vk bot sent %d messages; want only its reply", len(msgs))
	}

	// Each bot hot-reloads its own directory: shop's new text, club's old one.
	if err := os.WriteFile(filepath.Join(dir, "scenarios", "shop", "hello.yaml"), []byte(helloScenario("Магазин: новая версия")), 0o644); err != nil {
		t.Fatal(err)
	}
	var reloaded bool
	for deadline := time.Now().Add(15 * time.Second); !reloaded && time.Now().Before(deadline); {
		n := len(shopAPI.Messages(user))
		shopAPI.SendText(user, "/start")
		msgs := shopAPI.WaitMessages(user, n+1, 10*time.Second)
		reloaded = msgs[len(msgs)-1].Text == "Магазин: новая версия"
		if !reloaded {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !reloaded {
		t.Error("the shop bot did not pick up its changed scenario")
	}
	clubAPI.SendText(user, "/start")
	if msgs := clubAPI.WaitMessages(user, 2, 15*time.Second); msgs[1].Text != "Клуб: привет" {
		t.Errorf("club bot after shop's reload answered %q; want its own scenario", msgs[1].Text)
	}

	stopRun(t, cancel, done, stderr.String)
	for _, secret := range []string{shopAPI.Token(), clubAPI.Token(), vkAPI.Token()} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("a token reached the logs")
		}
	}
}

// TestRunConfigFileErrors: a broken config file stops `chathub run` before
// anything opens, with every problem at its position.
func TestRunConfigFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "bots.yaml")
	src := "bots:\n  - name: shop\n    platform: telegram\n    token: ${SHOP_TOKEN}\n    scenarios_dir: nowhere\n    tokne: x\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CONFIG_FILE": file}
	code, _, errOut := runMain(t, env, "", "run")
	for _, want := range []string{
		file + ":4:12: token: environment variable SHOP_TOKEN is not set",
		file + ":5:20: scenarios_dir " + filepath.Join(dir, "nowhere") + " does not exist",
		file + `:6:5: unknown bot key "tokne" (did you mean "token"?)`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in:\n%s", want, errOut)
		}
	}
	if code != 2 {
		t.Errorf("exit %d; want 2", code)
	}
	if code, _, errOut := runMain(t, env, "", "validate", "--config", file); code != 1 || !strings.Contains(errOut, "did you mean") {
		t.Errorf("validate --config: exit %d: %s", code, errOut)
	}
}
