package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/messenger"
)

// VKChatPeerBase is what VK adds to a conversation's number to make its
// peer_id: conversation 1 of a community is peer 2000000001.
const VKChatPeerBase = 2_000_000_000

// TeamChat configures the managers' team chats (docs/TEAMCHAT.md): a
// Telegram group, a VK conversation, or both. The bot posts each new
// hand-off request there, and managers answer clients by replying to those
// posts.
type TeamChat struct {
	// ChatID (MANAGERS_TELEGRAM_CHAT_ID) is the Telegram group's id:
	// negative, e.g. -1001234567890 for a supergroup. 0 (unset): no
	// Telegram team chat.
	ChatID int64
	// Bot (MANAGERS_TELEGRAM_BOT) names the Telegram bot that posts there
	// when several run: a config file bot's name, or EnvBotName for the bot
	// of TELEGRAM_TOKEN. Default: the bot of TELEGRAM_TOKEN, else the config
	// file's first Telegram bot.
	Bot string
	// VKPeerID (MANAGERS_VK_PEER_ID) is the VK conversation's peer_id as
	// the community sees it: VKChatPeerBase + the conversation's number,
	// e.g. 2000000001. 0 (unset): no VK team chat.
	VKPeerID int64
	// VKBot (MANAGERS_VK_BOT) names the VK community bot that posts there
	// when several run, with the rules of Bot: a config file bot's name or
	// EnvBotName for the bot of VK_TOKEN; default the bot of VK_TOKEN, else
	// the config file's first VK bot.
	VKBot string
}

// Enabled reports whether any team chat is configured.
func (t TeamChat) Enabled() bool { return t.ChatID != 0 || t.VKPeerID != 0 }

// readTeamChat reads MANAGERS_TELEGRAM_CHAT_ID, MANAGERS_TELEGRAM_BOT,
// MANAGERS_VK_PEER_ID and MANAGERS_VK_BOT.
func readTeamChat(getenv func(string) string, c *Config) []error {
	c.TeamChat.Bot = strings.TrimSpace(getenv("MANAGERS_TELEGRAM_BOT"))
	c.TeamChat.VKBot = strings.TrimSpace(getenv("MANAGERS_VK_BOT"))
	var errs []error
	if v := strings.TrimSpace(getenv("MANAGERS_TELEGRAM_CHAT_ID")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("MANAGERS_TELEGRAM_CHAT_ID=%q: not a Telegram chat id (a group's id is a negative number such as -1001234567890)", v))
		} else {
			c.TeamChat.ChatID = id
		}
	}
	if v := strings.TrimSpace(getenv("MANAGERS_VK_PEER_ID")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("MANAGERS_VK_PEER_ID=%q: not a VK peer_id (a conversation's peer_id is %d + its number, such as %d)",
				v, VKChatPeerBase, VKChatPeerBase+1))
		} else {
			c.TeamChat.VKPeerID = id
		}
	}
	return errs
}

// validateTeamChat checks the team chat settings that do not depend on the
// bots.
func (c *Config) validateTeamChat() error {
	t := c.TeamChat
	var errs []error
	if t.ChatID > 0 {
		errs = append(errs, fmt.Errorf("MANAGERS_TELEGRAM_CHAT_ID must be a group's id, a negative number such as -1001234567890 (got %d, a user's id)", t.ChatID))
	}
	if t.Bot != "" && t.ChatID == 0 {
		errs = append(errs, errors.New("MANAGERS_TELEGRAM_BOT is set: set MANAGERS_TELEGRAM_CHAT_ID too (the managers' group id)"))
	}
	if t.Bot != "" && !botName.MatchString(t.Bot) {
		errs = append(errs, fmt.Errorf("MANAGERS_TELEGRAM_BOT=%q is not a bot name (%s)", t.Bot, BotNamePattern))
	}
	if t.VKPeerID != 0 && (t.VKPeerID <= VKChatPeerBase || t.VKPeerID > VKChatPeerBase+maxVKChats) {
		hint := ""
		if t.VKPeerID > 0 && t.VKPeerID <= maxVKChats {
			hint = fmt.Sprintf("; for conversation %d that is %d", t.VKPeerID, VKChatPeerBase+t.VKPeerID)
		}
		errs = append(errs, fmt.Errorf("MANAGERS_VK_PEER_ID must be a conversation's peer_id, %d + the conversation's number (got %d, not a conversation%s)",
			VKChatPeerBase, t.VKPeerID, hint))
	}
	if t.VKBot != "" && t.VKPeerID == 0 {
		errs = append(errs, errors.New("MANAGERS_VK_BOT is set: set MANAGERS_VK_PEER_ID too (the managers' conversation peer_id)"))
	}
	if t.VKBot != "" && !botName.MatchString(t.VKBot) {
		errs = append(errs, fmt.Errorf("MANAGERS_VK_BOT=%q is not a bot name (%s)", t.VKBot, BotNamePattern))
	}
	return errors.Join(errs...)
}

// maxVKChats bounds the conversation number of MANAGERS_VK_PEER_ID (a
// typo guard: peer ids above 2e9 + 1e8 are no conversations).
const maxVKChats = 100_000_000

// TeamChatBot resolves which Telegram bot posts in the Telegram team chat:
// its messenger.ChatKey.Bot ("" for the bot of TELEGRAM_TOKEN). ok is false
// when no Telegram team chat is configured. It needs the config file
// loaded (LoadFile); an error names what to set.
func (c *Config) TeamChatBot() (bot string, ok bool, err error) {
	if c.TeamChat.ChatID == 0 {
		return "", false, nil
	}
	return c.teamChatBot(messenger.Telegram, c.TeamChat.Bot, c.Telegram.Token != "",
		"MANAGERS_TELEGRAM_CHAT_ID", "MANAGERS_TELEGRAM_BOT", "TELEGRAM_TOKEN", "Telegram",
		"set TELEGRAM_TOKEN or add a Telegram bot to the config file")
}

// TeamChatVKBot resolves which VK community bot posts in the VK team chat
// (MANAGERS_VK_PEER_ID), like TeamChatBot: "" for the bot of VK_TOKEN; ok
// is false when no VK team chat is configured.
func (c *Config) TeamChatVKBot() (bot string, ok bool, err error) {
	if c.TeamChat.VKPeerID == 0 {
		return "", false, nil
	}
	return c.teamChatBot(messenger.VK, c.TeamChat.VKBot, c.VK.Token != "",
		"MANAGERS_VK_PEER_ID", "MANAGERS_VK_BOT", "VK_TOKEN", "VK",
		"set VK_TOKEN (with VK_GROUP_ID) or add a VK bot to the config file")
}

// teamChatBot picks the bot of platform named name (envVar's own bot when
// EnvBotName; "" for the default) for a team chat; env tells whether the
// bot of the environment (tokenVar) runs. The other arguments name the
// variables and the platform in errors.
func (c *Config) teamChatBot(p messenger.Platform, name string, env bool, chatVar, botVar, tokenVar, platform, howToAdd string) (string, bool, error) {
	switch {
	case name == EnvBotName && env, name == "" && env:
		return "", true, nil
	case name == EnvBotName:
		return "", false, fmt.Errorf("%s=%s names the bot of %s, which is not set", botVar, EnvBotName, tokenVar)
	}
	var names []string
	for _, b := range c.FileBots {
		if b.Platform != p {
			continue
		}
		if name == "" || b.Name == name {
			return b.Name, true, nil
		}
		names = append(names, b.Name)
	}
	if name == "" {
		return "", false, fmt.Errorf("%s is set but no %s bot runs: %s", chatVar, platform, howToAdd)
	}
	if env {
		names = append(names, EnvBotName)
	}
	return "", false, fmt.Errorf("%s=%q is not a %s bot of this process (%s bots: %s)", botVar, name, platform, platform, listOrNone(names))
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
