package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// fileEnv is the environment the file tests expand ${VAR} from.
func fileEnv(name string) string {
	return map[string]string{
		"SHOP_TOKEN": "111:shop-secret", "SHOP_SECRET": "whsec", "CLUB_TOKEN": "vk-club-secret",
		"OTHER_TOKEN": "222:other-secret", "CLUB_CB_SECRET": "cbsec",
	}[name]
}

const goodFile = `bots:
  - name: shop
    platform: telegram
    token: ${SHOP_TOKEN}
    api_url: http://127.0.0.1:1
    webhook_url: https://bots.example.com/tg/shop
    webhook_secret: ${SHOP_SECRET}
    rps: 25
    scenarios_dir: scenarios/shop
    default_scenario: catalog
  - name: other
    platform: telegram
    token: ${OTHER_TOKEN}
    paid_broadcast: true
    scenarios_dir: scenarios/other
  - name: club
    platform: vk
    token: ${CLUB_TOKEN}
    group_id: 123
    callback_path: /vk/club
    callback_secret: ${CLUB_CB_SECRET}
    confirmation_code: abc123
    rps: 10
    scenarios_dir: /srv/club
`

func TestParseFileGood(t *testing.T) {
	t.Parallel()
	var checked []string
	check := func(dir string) (string, error) {
		checked = append(checked, dir)
		return "/base/" + dir, nil
	}
	f, err := ParseFile("bots.yaml", []byte(goodFile), fileEnv, check)
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if len(f.Bots) != 3 {
		t.Fatalf("%d bots; want 3", len(f.Bots))
	}
	shop, other, club := f.Bots[0], f.Bots[1], f.Bots[2]
	if shop.Name != "shop" || shop.Platform != messenger.Telegram || shop.Telegram.Token != "111:shop-secret" ||
		shop.Telegram.APIURL != "http://127.0.0.1:1" || shop.Telegram.WebhookSecret != "whsec" ||
		shop.Telegram.RequestsPerSecond != 25 || shop.ScenariosDir != "/base/scenarios/shop" || shop.DefaultScenario != "catalog" {
		t.Errorf("shop = %+v", shop)
	}
	if other.Telegram.APIURL != "https://api.telegram.org" || other.Telegram.RequestsPerSecond != DefaultTelegramRPS ||
		!other.Telegram.PaidBroadcast || other.Telegram.WebhookURL != "" {
		t.Errorf("other (defaults) = %+v", other)
	}
	if club.Platform != messenger.VK || club.VK.GroupID != 123 || club.VK.CallbackPath != "/vk/club" ||
		club.VK.CallbackSecret != "cbsec" || club.VK.ConfirmationCode != "abc123" || club.VK.RequestsPerSecond != 10 ||
		club.VK.APIURL != "https://api.vk.com/method/" {
		t.Errorf("club = %+v", club)
	}
	if strings.Join(checked, ",") != "scenarios/shop,scenarios/other,/srv/club" {
		t.Errorf("checked dirs %v", checked)
	}
}

func TestParseFileErrors(t *testing.T) {
	t.Parallel()
	bot := func(extra string) string {
		return "bots:\n  - name: shop\n    platform: telegram\n    token: ${SHOP_TOKEN}\n    scenarios_dir: s\n" + extra
	}
	tests := []struct {
		name, src string
		want      []string // every error, in order
	}{
		{"empty", "", []string{"f.yaml:1:1: the file is empty"}},
		{"bad yaml", "bots: b\n c: d\n", []string{"f.yaml:2:1: invalid YAML: mapping values are not allowed"}},
		{"not a mapping", "- a\n", []string{"f.yaml:1:1: the file must be a mapping"}},
		{"no bots", "bot: []\n", []string{`f.yaml:1:1: unknown top-level key "bot" (did you mean "bots"?)`, `f.yaml:1:1: missing "bots"`}},
		{"empty bots", "bots: []\n", []string{`f.yaml:1:7: "bots" must be a non-empty list`}},
		{"bot not a mapping", "bots:\n  - shop\n", []string{"f.yaml:2:5: a bot must be a mapping"}},
		{"unknown key", bot("    tokne: x\n"), []string{`f.yaml:6:5: unknown bot key "tokne" (did you mean "token"?)`}},
		{"unknown key no hint", bot("    colour: red\n"), []string{`f.yaml:6:5: unknown bot key "colour"`}},
		{"key twice", bot("    name: again\n"), []string{`f.yaml:6:5: "name" is set twice in this bot (first at line 2)`}},
		{"bad name", strings.Replace(bot(""), "name: shop", "name: Shop!", 1), []string{`f.yaml:2:11: bot name "Shop!"`}},
		{"reserved name", strings.Replace(bot(""), "name: shop", "name: default", 1), []string{`f.yaml:2:11: bot name "default" is reserved`}},
		{"no name", "bots:\n  - platform: telegram\n    token: x\n    scenarios_dir: s\n", []string{"f.yaml:2:5: bot without a name"}},
		{"platform typo", strings.Replace(bot(""), "platform: telegram", "platform: telgram", 1), []string{`f.yaml:3:15: unknown platform "telgram" (did you mean "telegram"?)`}},
		{"missing platform", "bots:\n  - name: a\n    token: x\n    scenarios_dir: s\n", []string{"f.yaml:2:5: bot a: missing platform"}},
		{"vk key on telegram", bot("    group_id: 5\n"), []string{`f.yaml:6:5: "group_id" is a vk setting; this bot's platform is telegram`}},
		{"unset var", strings.Replace(bot(""), "SHOP_TOKEN", "NOPE_TOKEN", 1), []string{
			"f.yaml:4:12: token: environment variable NOPE_TOKEN is not set"}},
		{"empty token", strings.Replace(bot(""), "${SHOP_TOKEN}", `""`, 1), []string{"f.yaml:2:5: bot shop: missing token"}},
		{"bad var", strings.Replace(bot(""), "${SHOP_TOKEN}", "${1x}", 1), []string{
			"f.yaml:4:12: token: ${1x} is not a variable name"}},
		{"unterminated var", strings.Replace(bot(""), "${SHOP_TOKEN}", "${SHOP", 1), []string{
			"f.yaml:4:12: token: unterminated ${"}},
		{"missing scenarios dir", "bots:\n  - name: a\n    platform: telegram\n    token: t\n", []string{"f.yaml:2:5: bot a: missing scenarios_dir"}},
		{"webhook without secret", bot("    webhook_url: https://x.example/tg\n"), []string{"f.yaml:6:18: bot shop has a webhook_url: set webhook_secret too"}},
		{"bad webhook url", bot("    webhook_url: ftp://x\n    webhook_secret: s\n"), []string{"f.yaml:6:18: webhook_url must be an http(s) URL"}},
		{"rps too high", bot("    rps: 31\n"), []string{"f.yaml:6:10: rps must be 1..30"}},
		{"rps not a number", bot("    rps: fast\n"), []string{`f.yaml:6:10: rps must be a whole number, got "fast"`}},
		{"paid not bool", bot("    paid_broadcast: maybe\n"), []string{"f.yaml:6:21: paid_broadcast must be true or false"}},
		{"value not scalar", bot("    api_url: [a]\n"), []string{`f.yaml:6:14: "api_url" must be a single value`}},
		{"vk without group", "bots:\n  - name: c\n    platform: vk\n    token: t\n    scenarios_dir: s\n", []string{"f.yaml:2:5: bot c: group_id must be the community id"}},
		{"vk callback without secrets", "bots:\n  - name: c\n    platform: vk\n    token: t\n    group_id: 1\n    callback_path: /vk\n    scenarios_dir: s\n",
			[]string{"f.yaml:6:20: bot c has a callback_path: set callback_secret and confirmation_code"}},
		{"duplicate name", bot("  - name: shop\n    platform: telegram\n    token: ${OTHER_TOKEN}\n    scenarios_dir: s\n"),
			[]string{`f.yaml:6:11: duplicate bot name "shop" (first at line 2)`}},
		{"duplicate token", bot("  - name: shop2\n    platform: telegram\n    token: ${SHOP_TOKEN}\n    scenarios_dir: s\n"),
			[]string{"f.yaml:8:12: bot shop2 has the same token as bot shop"}},
		{"duplicate group", "bots:\n  - {name: a, platform: vk, token: t1, group_id: 7, scenarios_dir: s}\n  - {name: b, platform: vk, token: t2, group_id: 7, scenarios_dir: s}\n",
			[]string{"f.yaml:3:50: bot b is the same VK community (group_id 7) as bot a"}},
		{"one webhook path", "bots:\n" +
			"  - {name: a, platform: telegram, token: t1, webhook_url: 'https://x.example/hook', webhook_secret: s, scenarios_dir: s}\n" +
			"  - {name: b, platform: vk, token: t2, group_id: 7, callback_path: /hook, callback_secret: s, confirmation_code: c, scenarios_dir: s}\n",
			[]string{"f.yaml:3:68: bot b serves path /hook like bot a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFile("f.yaml", []byte(tc.src), fileEnv, nil)
			var list FileErrors
			if !errors.As(err, &list) {
				t.Fatalf("ParseFile error = %v; want FileErrors", err)
			}
			if len(list) != len(tc.want) {
				t.Fatalf("errors:\n%v\nwant %d:\n%s", err, len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(list[i].Error(), w) {
					t.Errorf("error %d = %q; want prefix %q", i, list[i].Error(), w)
				}
			}
			for _, secret := range []string{"111:shop-secret", "shop-secret", "whsec", "vk-club-secret", "cbsec"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a secret: %v", err)
				}
			}
		})
	}
}

func TestParseFileReportsEveryProblem(t *testing.T) {
	t.Parallel()
	src := "bots:\n  - name: a\n    platform: tg\n    tokn: x\n  - name: b\n    platform: vk\n    token: t\n    scenarios_dir: s\n"
	_, err := ParseFile("f.yaml", []byte(src), fileEnv, nil)
	var list FileErrors
	if !errors.As(err, &list) || len(list) < 4 {
		t.Fatalf("ParseFile = %v; want at least 4 problems (platform, key, token, scenarios_dir, group_id)", err)
	}
}

func TestLoadFileChecksScenarioDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scenarios", "shop"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bots.yaml")
	src := "bots:\n  - {name: shop, platform: telegram, token: t1, scenarios_dir: scenarios/shop}\n" +
		"  - {name: club, platform: vk, token: t2, group_id: 1, scenarios_dir: scenarios/club}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path, fileEnv)
	want := path + ":3:71: scenarios_dir " + filepath.Join(dir, "scenarios", "club") + " does not exist"
	if err == nil || err.Error() != want {
		t.Fatalf("LoadFile = %v; want %q", err, want)
	}
	if err := os.MkdirAll(filepath.Join(dir, "scenarios", "club"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path, fileEnv)
	if err != nil || f.Bots[0].ScenariosDir != filepath.Join(dir, "scenarios", "shop") {
		t.Fatalf("LoadFile = %+v, %v; want scenarios_dir resolved against the file's directory", f, err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml"), fileEnv); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}

func TestValidateBotsWithFile(t *testing.T) {
	t.Parallel()
	shop := Bot{Name: "shop", Platform: messenger.Telegram, Telegram: Telegram{Token: "1:a", WebhookURL: "https://x/hook", WebhookSecret: "s"}}
	club := Bot{Name: "club", Platform: messenger.VK, VK: VK{Token: "v", GroupID: 5, CallbackPath: "/vk"}}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"file only", Config{FileBots: []Bot{shop, club}}, ""},
		{"file and env", Config{FileBots: []Bot{shop}, Telegram: Telegram{Token: "2:b"}}, ""},
		{"same token as env", Config{FileBots: []Bot{shop}, Telegram: Telegram{Token: "1:a"}}, "bot shop has the same token as TELEGRAM_TOKEN"},
		{"same community as env", Config{FileBots: []Bot{club}, VK: VK{Token: "w", GroupID: 5}}, "bot club is the VK community of VK_TOKEN"},
		{"same path as env", Config{FileBots: []Bot{shop}, Telegram: Telegram{Token: "3:c", WebhookURL: "https://y/hook", WebhookSecret: "s"}},
			"bot shop serves the webhook path of TELEGRAM_WEBHOOK_URL"},
		{"vk path as env", Config{FileBots: []Bot{club}, VK: VK{Token: "w", GroupID: 6, CallbackPath: "/vk", CallbackSecret: "s", ConfirmationCode: "c"}},
			"bot club serves path /vk like a bot of the environment variables"},
		{"none", Config{}, "or CONFIG_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.ValidateBots()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("ValidateBots = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("ValidateBots = %v; want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "1:a") {
				t.Errorf("error quotes a token: %v", err)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(goodFile))
	f.Add([]byte("bots:\n  - {name: a, platform: vk, token: t, group_id: 1, scenarios_dir: s}\n"))
	f.Add([]byte("bots: &a [*a]\n"))
	f.Add([]byte("bots:\n  - name: ${"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseFile("f.yaml", src, fileEnv, nil)
		if err == nil {
			if len(file.Bots) == 0 {
				t.Fatal("no error and no bots")
			}
			for _, b := range file.Bots {
				if !botName.MatchString(b.Name) || (b.Platform != messenger.Telegram && b.Platform != messenger.VK) {
					t.Fatalf("accepted bot %+v", b)
				}
			}
			return
		}
		var list FileErrors
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %v is not a non-empty FileErrors", err)
		}
		for _, e := range list {
			if e.Line < 1 || e.Col < 1 || !strings.HasPrefix(e.Error(), "f.yaml:") {
				t.Fatalf("bad position in %q", e.Error())
			}
		}
	})
}
