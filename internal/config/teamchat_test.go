package config

import (
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

func TestTeamChatSettings(t *testing.T) {
	t.Parallel()
	tests := []envCase{
		{"off by default", nil, func(c Config) bool { return !c.TeamChat.Enabled() && c.TeamChat.Bot == "" }, ""},
		{"supergroup", map[string]string{"MANAGERS_TELEGRAM_CHAT_ID": " -1001234567890 "},
			func(c Config) bool { return c.TeamChat.ChatID == -1001234567890 && c.TeamChat.Enabled() }, ""},
		{"basic group with a bot", map[string]string{"MANAGERS_TELEGRAM_CHAT_ID": "-4567", "MANAGERS_TELEGRAM_BOT": "shop"},
			func(c Config) bool { return c.TeamChat.ChatID == -4567 && c.TeamChat.Bot == "shop" }, ""},
		{"user id", map[string]string{"MANAGERS_TELEGRAM_CHAT_ID": "42"}, nil, "MANAGERS_TELEGRAM_CHAT_ID must be a group's id"},
		{"not a number", map[string]string{"MANAGERS_TELEGRAM_CHAT_ID": "@managers"}, nil, `MANAGERS_TELEGRAM_CHAT_ID="@managers": not a Telegram chat id`},
		{"bot without chat", map[string]string{"MANAGERS_TELEGRAM_BOT": "shop"}, nil, "set MANAGERS_TELEGRAM_CHAT_ID too"},
		{"bad bot name", map[string]string{"MANAGERS_TELEGRAM_CHAT_ID": "-1", "MANAGERS_TELEGRAM_BOT": "Shop Bot"}, nil, "is not a bot name"},
	}
	runEnvCases(t, tests)
}

func TestTeamChatBot(t *testing.T) {
	t.Parallel()
	tg := func(name string) Bot { return Bot{Name: name, Platform: messenger.Telegram} }
	vk := Bot{Name: "vkshop", Platform: messenger.VK}
	tests := []struct {
		name    string
		env     bool // TELEGRAM_TOKEN set
		files   []Bot
		team    TeamChat
		wantBot string
		wantOK  bool
		wantErr string
	}{
		{"off", true, nil, TeamChat{}, "", false, ""},
		{"the env bot", true, []Bot{tg("shop")}, TeamChat{ChatID: -1}, "", true, ""},
		{"the first telegram file bot", false, []Bot{vk, tg("shop"), tg("b2b")}, TeamChat{ChatID: -1}, "shop", true, ""},
		{"named file bot", true, []Bot{tg("shop"), tg("b2b")}, TeamChat{ChatID: -1, Bot: "b2b"}, "b2b", true, ""},
		{"named env bot", true, []Bot{tg("shop")}, TeamChat{ChatID: -1, Bot: EnvBotName}, "", true, ""},
		{"named env bot missing", false, []Bot{tg("shop")}, TeamChat{ChatID: -1, Bot: EnvBotName}, "", false, "TELEGRAM_TOKEN, which is not set"},
		{"named bot is VK", true, []Bot{vk, tg("shop")}, TeamChat{ChatID: -1, Bot: "vkshop"}, "", false, "(Telegram bots: shop, default)"},
		{"no telegram bot", false, []Bot{vk}, TeamChat{ChatID: -1}, "", false, "no Telegram bot runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			if tt.env {
				c.Telegram.Token = "1:x"
			}
			c.FileBots, c.TeamChat = tt.files, tt.team
			bot, ok, err := c.TeamChatBot()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if verr := c.ValidateBots(); verr == nil || !strings.Contains(verr.Error(), tt.wantErr) {
					t.Fatalf("ValidateBots = %v, want %q", verr, tt.wantErr)
				}
				return
			}
			if err != nil || bot != tt.wantBot || ok != tt.wantOK {
				t.Fatalf("TeamChatBot = %q, %v, %v; want %q, %v", bot, ok, err, tt.wantBot, tt.wantOK)
			}
		})
	}
}
