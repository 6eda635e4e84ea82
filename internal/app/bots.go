package app

import (
	"fmt"
	"log/slog"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/bots/vk"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
)

// Bots builds the configured platform adapters (cfg.ValidateBots first).
func Bots(cfg config.Config, logger *slog.Logger) ([]Bot, error) {
	if err := cfg.ValidateBots(); err != nil {
		return nil, err
	}
	var bots []Bot
	if cfg.Telegram.Token != "" {
		b, err := telegramBot(cfg.Telegram, logger)
		if err != nil {
			return nil, err
		}
		bots = append(bots, b)
	}
	if cfg.VK.Token != "" {
		b, err := vkBot(cfg.VK, logger)
		if err != nil {
			return nil, err
		}
		bots = append(bots, b)
	}
	return bots, nil
}

func telegramBot(c config.Telegram, logger *slog.Logger) (Bot, error) {
	tg, err := telegram.New(telegram.Config{
		Token: c.Token, APIURL: c.APIURL, WebhookURL: c.WebhookURL, WebhookSecret: c.WebhookSecret,
		Logger: logger.With("platform", "telegram"),
	})
	if err != nil {
		return Bot{}, fmt.Errorf("telegram bot: %w", err)
	}
	b := Bot{Platform: messenger.Telegram, Sender: tg}
	if c.WebhookURL == "" {
		b.Poll = tg.Run
		return b, nil
	}
	b.WebhookPath, b.Webhook, b.Register = tg.WebhookPath(), tg.WebhookHandler, tg.SetWebhook
	return b, nil
}

func vkBot(c config.VK, logger *slog.Logger) (Bot, error) {
	v, err := vk.New(vk.Config{
		Token: c.Token, GroupID: c.GroupID, APIURL: c.APIURL, CallbackPath: c.CallbackPath,
		CallbackSecret: c.CallbackSecret, ConfirmationCode: c.ConfirmationCode,
		Logger: logger.With("platform", "vk"),
	})
	if err != nil {
		return Bot{}, fmt.Errorf("vk bot: %w", err)
	}
	b := Bot{Platform: messenger.VK, Sender: v}
	if c.CallbackPath == "" {
		b.Poll = v.Run
		return b, nil
	}
	b.WebhookPath, b.Webhook = c.CallbackPath, v.CallbackHandler
	return b, nil
}
