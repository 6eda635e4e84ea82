package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	redisstore "github.com/chathub/chathub/internal/store/redis"
)

// broadcastSettings maps the configuration onto the broadcast service's
// etiquette settings: FREQUENCY_CAP (0: none), QUIET_HOURS, DEFAULT_TIMEZONE.
// Fields left zero (a Config not from config.Default) keep the service's
// defaults, except the cap, whose zero means none.
func broadcastSettings(cfg config.Config, bc *broadcast.Config) error {
	bc.FrequencyCap = cfg.Broadcast.FrequencyCap
	if bc.FrequencyCap == 0 {
		bc.FrequencyCap = -1 // the service's "no cap"
	}
	bc.QuietHours = cfg.Broadcast.QuietHours
	if cfg.Broadcast.DefaultTimezone == "" {
		return nil
	}
	loc, err := cfg.Broadcast.Location()
	if err != nil {
		return err
	}
	bc.Location = loc
	return nil
}

// newBroadcaster builds the Workers that send running campaigns through the
// bots that broadcast (Bot.Broadcast); nil when none does.
func newBroadcaster(cfg config.Config, stores *Stores, bots []Bot, logger *slog.Logger) (*broadcast.Workers, error) {
	var chs []broadcast.Channel
	for _, b := range bots {
		if b.Broadcast != nil {
			chs = append(chs, *b.Broadcast)
		}
	}
	if len(chs) == 0 {
		return nil, nil
	}
	svc, err := BroadcastService(cfg, stores.CRM, stores.Catalog(), logger)
	if err != nil {
		return nil, err
	}
	w, err := broadcast.NewWorkers(broadcast.WorkersConfig{
		Service: svc, Channels: chs, Workers: cfg.Broadcast.Workers, Lease: cfg.Broadcast.Lease, Logger: logger.With("component", "broadcast"),
		Outages: stores.Health,
	})
	if err != nil {
		return nil, fmt.Errorf("broadcaster: %w", err)
	}
	return w, nil
}

// telegramBudget is the bot's broadcast budget shared in Redis by every
// process, bucket "telegram:<bot id>": TELEGRAM_RPS (or 1000/s with
// TELEGRAM_PAID_BROADCAST) evenly spaced messages. Replies do not draw on
// it (they answer the client, one at a time per chat).
func telegramBudget(c config.Telegram, stores *Stores) (*redisstore.Limiter, error) {
	l, err := stores.State.Limiter("telegram:"+telegramBotID(c.Token), redisstore.Limit{Rate: c.BroadcastRPS()})
	if err != nil {
		return nil, fmt.Errorf("telegram broadcast budget: %w", err)
	}
	return l, nil
}

// telegramBotID is the bot's public id, the token's part before ":" (the
// secret part never goes into a key); a token without one is hashed.
func telegramBotID(token string) string {
	if id, _, ok := strings.Cut(token, ":"); ok && id != "" && strings.Trim(id, "0123456789") == "" {
		return id
	}
	sum := sha256.Sum256([]byte(token))
	return "h" + hex.EncodeToString(sum[:8])
}
