package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
)

// ChatPacer spaces the messages to each chat: at most one per Interval to a
// chat, in every process that uses the same Redis, prefix and pacer name
// (Telegram: a bot sends a chat at most one message a second). A try is one
// Redis round trip on one key that expires when the chat's slot opens again,
// so idle chats cost nothing. It is safe for concurrent use.
type ChatPacer struct {
	client   goredis.UniversalClient
	keys     keys
	name     string
	interval time.Duration
}

// ChatPacer returns the pacer called name (a bucket name such as
// "telegram:123456", see Limiter) with at most one message per interval
// (at least 1ms) to a chat.
func (s *Store) ChatPacer(name string, interval time.Duration) (*ChatPacer, error) {
	if err := checkBucket(name); err != nil {
		return nil, fmt.Errorf("redis chat pacer: %w", err)
	}
	if interval < time.Millisecond {
		return nil, fmt.Errorf("redis chat pacer %s: interval %s: want at least 1ms", name, interval)
	}
	return &ChatPacer{client: s.client, keys: s.keys, name: name, interval: interval}, nil
}

// paceScript takes the chat's slot (KEYS[1] set for ARGV[1] ms) and answers
// -1, or answers the ms until the slot taken last opens again.
var paceScript = goredis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return -1 end
return redis.call('PTTL', KEYS[1])`)

// AllowChat implements broadcast.ChatPacer: ok when the chat's slot was
// open (and is now taken); else retryAfter is how long until it opens.
func (p *ChatPacer) AllowChat(ctx context.Context, chat messenger.ChatKey) (ok bool, retryAfter time.Duration, err error) {
	if err := checkChat(chat); err != nil {
		return false, 0, fmt.Errorf("redis chat pacer %s: %w", p.name, err)
	}
	ms, err := paceScript.Run(ctx, p.client, []string{p.keys.chatPace(chat, p.name)}, p.interval.Milliseconds()).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("redis chat pacer %s: %s: %w", p.name, chat, err)
	}
	if ms == -1 {
		return true, 0, nil
	}
	// PTTL -2 (expired between the two calls) or -1 (never): open again now.
	return false, max(time.Duration(ms)*time.Millisecond, minRetry), nil
}
