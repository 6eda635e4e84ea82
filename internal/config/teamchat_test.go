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
		{"vk conversation", map[string]string{"MANAGERS_VK_PEER_ID": " 2000000003 "},
			func(c Config) bool {
				return c.TeamChat.VKPeerID == 2000000003 && c.TeamChat.Enabled() && c.TeamChat.ChatID == 0
			}, ""},
		{"vk conversation with a bot", map[string]string{"MANAGERS_VK_PEER_ID": "2000000001", "MANAGERS_VK_BOT": "vkshop"},
			func(c Config) bool { return c.TeamChat.VKPeerID == 2000000001 && c.TeamChat.VKBot == "vkshop" }, ""},
		{"both chats", map[string]string{"MANAGERS_TELEGRAM_CHAT_ID": "-4567", "MANAGERS_VK_PEER_ID": "2000000001"},
			func(c Config) bool { return c.TeamChat.ChatID == -4567 && c.TeamChat.VKPeerID == 2000000001 }, ""},
		{"vk conversation number", map[string]string{"MANAGERS_VK_PEER_ID": "3"}, nil,
			"MANAGERS_VK_PEER_ID must be a conversation's peer_id, 2000000000 + the conversation's number (got 3, not a conversation; for conversation 3 that is 2000000003)"},
		{"vk user id", map[string]string{"MANAGERS_VK_PEER_ID": "123456789"}, nil, "got 123456789, not a conversation)"},
		{"vk community id", map[string]string{"MANAGERS_VK_PEER_ID": "-777"}, nil, "got -777, not a conversation)"},
		{"vk base alone", map[string]string{"MANAGERS_VK_PEER_ID": "2000000000"}, nil, "got 2000000000, not a conversation)"},
		{"vk too large", map[string]string{"MANAGERS_VK_PEER_ID": "3000000000"}, nil, "got 3000000000, not a conversation)"},
		{"vk not a number", map[string]string{"MANAGERS_VK_PEER_ID": "managers"}, nil,
			`MANAGERS_VK_PEER_ID="managers": not a VK peer_id (a conversation's peer_id is 2000000000 + its number, such as 2000000001)`},
		{"vk bot without conversation", map[string]string{"MANAGERS_VK_BOT": "vkshop"}, nil, "MANAGERS_VK_BOT is set: set MANAGERS_VK_PEER_ID too"},
		{"vk bad bot name", map[string]string{"MANAGERS_VK_PEER_ID": "2000000001", "MANAGERS_VK_BOT": "VK Shop"}, nil,
			`MANAGERS_VK_BOT="VK Shop" is not a bot name`},
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

func TestTeamChatVKBot(t *testing.T) {
	t.Parallel()
	vk := func(name string) Bot { return Bot{Name: name, Platform: messenger.VK} }
	tg := Bot{Name: "tgshop", Platform: messenger.Telegram}
	tests := []struct {
		name    string
		env     bool // VK_TOKEN set
		files   []Bot
		team    TeamChat
		wantBot string
		wantOK  bool
		wantErr string
	}{
		{"off", true, nil, TeamChat{}, "", false, ""},
		{"telegram only", true, nil, TeamChat{ChatID: -1}, "", false, ""},
		{"the env bot", true, []Bot{vk("shop")}, TeamChat{VKPeerID: 2000000001}, "", true, ""},
		{"the first vk file bot", false, []Bot{tg, vk("shop"), vk("b2b")}, TeamChat{VKPeerID: 2000000001}, "shop", true, ""},
		{"named file bot", true, []Bot{vk("shop"), vk("b2b")}, TeamChat{VKPeerID: 2000000001, VKBot: "b2b"}, "b2b", true, ""},
		{"named env bot", true, []Bot{vk("shop")}, TeamChat{VKPeerID: 2000000001, VKBot: EnvBotName}, "", true, ""},
		{"named env bot missing", false, []Bot{vk("shop")}, TeamChat{VKPeerID: 2000000001, VKBot: EnvBotName}, "", false,
			"MANAGERS_VK_BOT=default names the bot of VK_TOKEN, which is not set"},
		{"named bot is Telegram", true, []Bot{tg, vk("shop")}, TeamChat{VKPeerID: 2000000001, VKBot: "tgshop"}, "", false,
			`MANAGERS_VK_BOT="tgshop" is not a VK bot of this process (VK bots: shop, default)`},
		{"no vk bot", false, []Bot{tg}, TeamChat{VKPeerID: 2000000001}, "", false, "MANAGERS_VK_PEER_ID is set but no VK bot runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.Telegram.Token = "1:x"
			if tt.env {
				c.VK.Token, c.VK.GroupID = "vk1.a.x", 1
			}
			c.FileBots, c.TeamChat = tt.files, tt.team
			bot, ok, err := c.TeamChatVKBot()
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
				t.Fatalf("TeamChatVKBot = %q, %v, %v; want %q, %v", bot, ok, err, tt.wantBot, tt.wantOK)
			}
		})
	}
}
