package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/messenger"
)

// TeamChat configures the managers' team chat in Telegram (docs/TEAMCHAT.md):
// the bot posts each new hand-off request there, and managers answer clients
// by replying to those posts.
type TeamChat struct {
	// ChatID (MANAGERS_TELEGRAM_CHAT_ID) is the group's id: negative, e.g.
	// -1001234567890 for a supergroup. 0 (unset): no team chat.
	ChatID int64
	// Bot (MANAGERS_TELEGRAM_BOT) names the Telegram bot that posts there
	// when several run: a config file bot's name, or EnvBotName for the bot
	// of TELEGRAM_TOKEN. Default: the bot of TELEGRAM_TOKEN, else the config
	// file's first Telegram bot.
	Bot string
}

// Enabled reports whether a team chat is configured.
func (t TeamChat) Enabled() bool { return t.ChatID != 0 }

// readTeamChat reads MANAGERS_TELEGRAM_CHAT_ID and MANAGERS_TELEGRAM_BOT.
func readTeamChat(getenv func(string) string, c *Config) []error {
	c.TeamChat.Bot = strings.TrimSpace(getenv("MANAGERS_TELEGRAM_BOT"))
	v := strings.TrimSpace(getenv("MANAGERS_TELEGRAM_CHAT_ID"))
	if v == "" {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return []error{fmt.Errorf("MANAGERS_TELEGRAM_CHAT_ID=%q: not a Telegram chat id (a group's id is a negative number such as -1001234567890)", v)}
	}
	c.TeamChat.ChatID = id
	return nil
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
	return errors.Join(errs...)
}

// TeamChatBot resolves which Telegram bot posts in the team chat: its
// messenger.ChatKey.Bot ("" for the bot of TELEGRAM_TOKEN). ok is false
// when no team chat is configured. It needs the config file loaded
// (LoadFile); an error names what to set.
func (c *Config) TeamChatBot() (bot string, ok bool, err error) {
	t := c.TeamChat
	if !t.Enabled() {
		return "", false, nil
	}
	envTelegram := c.Telegram.Token != ""
	switch {
	case t.Bot == EnvBotName && envTelegram, t.Bot == "" && envTelegram:
		return "", true, nil
	case t.Bot == EnvBotName:
		return "", false, fmt.Errorf("MANAGERS_TELEGRAM_BOT=%s names the bot of TELEGRAM_TOKEN, which is not set", EnvBotName)
	}
	var names []string
	for _, b := range c.FileBots {
		if b.Platform != messenger.Telegram {
			continue
		}
		if t.Bot == "" || b.Name == t.Bot {
			return b.Name, true, nil
		}
		names = append(names, b.Name)
	}
	if t.Bot == "" {
		return "", false, errors.New("MANAGERS_TELEGRAM_CHAT_ID is set but no Telegram bot runs: set TELEGRAM_TOKEN or add a Telegram bot to the config file")
	}
	if envTelegram {
		names = append(names, EnvBotName)
	}
	return "", false, fmt.Errorf("MANAGERS_TELEGRAM_BOT=%q is not a Telegram bot of this process (Telegram bots: %s)", t.Bot, listOrNone(names))
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
