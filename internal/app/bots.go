package app

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/chathub/chathub/bots/telegram"
	"github.com/chathub/chathub/bots/vk"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	redisstore "github.com/chathub/chathub/internal/store/redis"
)

// Bots builds the configured platform adapters (cfg.ValidateBots first)
// over opened stores: the bots of the environment variables (unnamed) and
// a config file's, each stamping its name on its chats. A VK community
// paces its API requests by its shared budget in Redis (see vkBot).
func Bots(cfg config.Config, stores *Stores, logger *slog.Logger) ([]Bot, error) {
	if err := cfg.ValidateBots(); err != nil {
		return nil, err
	}
	teamBot, team, err := cfg.TeamChatBot()
	if err != nil {
		return nil, err
	}
	vkTeamBot, vkTeam, err := cfg.TeamChatVKBot()
	if err != nil {
		return nil, err
	}
	// managers is the team chat the named Telegram bot reads (0: none),
	// vkManagers the conversation the named VK bot reads.
	managers := func(name string) int64 {
		if team && name == teamBot {
			return cfg.TeamChat.ChatID
		}
		return 0
	}
	vkManagers := func(name string) int {
		if vkTeam && name == vkTeamBot {
			return int(cfg.TeamChat.VKPeerID)
		}
		return 0
	}
	var bots []Bot
	add := func(b Bot, err error) error {
		if err != nil {
			return err
		}
		bots = append(bots, b)
		return nil
	}
	if cfg.Telegram.Token != "" {
		if err := add(telegramBot("", cfg.Telegram, managers(""), stores, logger)); err != nil {
			return nil, err
		}
	}
	if cfg.VK.Token != "" {
		if err := add(vkBot("", cfg.VK, vkManagers(""), stores, logger)); err != nil {
			return nil, err
		}
	}
	for _, fb := range cfg.FileBots {
		var err error
		switch fb.Platform {
		case messenger.Telegram:
			err = add(telegramBot(fb.Name, fb.Telegram, managers(fb.Name), stores, logger))
		case messenger.VK:
			err = add(vkBot(fb.Name, fb.VK, vkManagers(fb.Name), stores, logger))
		default:
			err = fmt.Errorf("bot %s: unknown platform %q", fb.Name, fb.Platform)
		}
		if err != nil {
			return nil, fmt.Errorf("bot %s: %w", fb.Name, err)
		}
	}
	return bots, nil
}

// telegramChatSpacing keeps a bot's broadcasts to one chat under Telegram's
// limit of one message a second, with room for the network's jitter
// between two sends.
const telegramChatSpacing = 1100 * time.Millisecond

// telegramBot builds the Telegram adapter; its broadcasts draw on the bot's
// shared budget (telegramBudget), are spaced per chat (telegramChatSpacing)
// and, with TELEGRAM_PAID_BROADCAST, are paid broadcasts. managersChat is
// the managers' team chat the bot reads (MANAGERS_TELEGRAM_CHAT_ID; 0 for
// none).
func telegramBot(name string, c config.Telegram, managersChat int64, stores *Stores, logger *slog.Logger) (Bot, error) {
	log := logger // the adapter adds platform itself
	if name != "" {
		log = log.With("bot", name)
	}
	tg, err := telegram.New(telegram.Config{
		Bot: name, Token: c.Token, APIURL: c.APIURL, WebhookURL: c.WebhookURL, WebhookSecret: c.WebhookSecret,
		ManagersChatID: managersChat, Logger: log,
	})
	if err != nil {
		return Bot{}, fmt.Errorf("telegram bot: %w", err)
	}
	budget, err := telegramBudget(c, stores)
	if err != nil {
		return Bot{}, err
	}
	pacer, err := stores.State.ChatPacer("telegram:"+telegramBotID(c.Token), telegramChatSpacing)
	if err != nil {
		return Bot{}, fmt.Errorf("telegram chat pacer: %w", err)
	}
	ch := &broadcast.Channel{Platform: messenger.Telegram, Bot: name, Sender: tg, RateHint: c.BroadcastRPS(),
		Limiter:   broadcast.NewEagerLimiter(budget, broadcast.DefaultEagerLead).SlowStart(time.Second / time.Duration(c.BroadcastRPS())),
		ChatPacer: pacer}
	if c.PaidBroadcast {
		ch.Sender = tg.PaidBroadcaster()
	}
	b := Bot{Platform: messenger.Telegram, Name: name, Sender: tg, Broadcast: ch, State: tg.State}
	if c.WebhookURL == "" {
		b.Poll = tg.Run
		return b, nil
	}
	b.WebhookPath, b.Webhook, b.Register = tg.WebhookPath(), tg.WebhookHandler, tg.SetWebhook
	return b, nil
}

// vkBot builds the VK adapter. Every process of one community draws on one
// Redis budget, bucket "vk:<group id>", of c.RequestsPerSecond (VK_RPS)
// evenly spaced requests: replies and broadcasts, any number of
// `chathub run` processes. managersPeer is the managers' conversation the
// bot reads and posts to (MANAGERS_VK_PEER_ID; 0 for none).
func vkBot(name string, c config.VK, managersPeer int, stores *Stores, logger *slog.Logger) (Bot, error) {
	log := logger // the adapter adds platform itself
	if name != "" {
		log = log.With("bot", name)
	}
	budget, err := stores.State.Limiter("vk:"+strconv.Itoa(c.GroupID), redisstore.Limit{Rate: c.RequestsPerSecond})
	if err != nil {
		return Bot{}, fmt.Errorf("vk bot: %w", err)
	}
	v, err := vk.New(vk.Config{
		Token: c.Token, GroupID: c.GroupID, APIURL: c.APIURL, CallbackPath: c.CallbackPath,
		CallbackSecret: c.CallbackSecret, ConfirmationCode: c.ConfirmationCode,
		Bot: name, Limiter: budget, Logger: log, ManagersPeerID: managersPeer,
		// Shared in Redis: the process that takes the poller lease over
		// resumes where the previous poller stopped.
		TSStore: stores.State,
	})
	if err != nil {
		return Bot{}, fmt.Errorf("vk bot: %w", err)
	}
	// Broadcasts go out in peer_ids batches paced by the same community
	// budget inside the adapter, so the channel has no Limiter of its own.
	b := Bot{Platform: messenger.VK, Name: name, Sender: v, State: v.State,
		Broadcast: &broadcast.Channel{Platform: messenger.VK, Bot: name, Sender: v, Batch: v}}
	if c.CallbackPath == "" {
		b.Poll = v.Run
		return b, nil
	}
	b.WebhookPath, b.Webhook = c.CallbackPath, v.CallbackHandler
	return b, nil
}
