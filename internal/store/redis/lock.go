package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
)

// ChatLockTTL bounds how long a chat lock is held if its holder dies
// without releasing it; longer than any one update takes to handle.
const ChatLockTTL = 30 * time.Second

// unlockScript deletes the lock only if this holder still owns it.
var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)

// LockChat takes the chat's lock, so that across processes one chat's
// updates are handled one at a time; it waits (polling with backoff) until
// the lock is free or ctx ends. The returned func releases it.
func (s *Store) LockChat(ctx context.Context, key messenger.ChatKey) (func(), error) {
	token, err := lockToken()
	if err != nil {
		return nil, err
	}
	k := s.keys.lock(key)
	wait := time.Millisecond
	for {
		ok, err := s.client.SetNX(ctx, k, token, ChatLockTTL).Result()
		switch {
		case err != nil:
			return nil, fmt.Errorf("lock chat %s: %w", key, err)
		case ok:
			return func() { s.unlock(k, token) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock chat %s: %w", key, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

func (s *Store) unlock(k, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A failed release only delays the next holder until ChatLockTTL.
	_ = unlockScript.Run(ctx, s.client, []string{k}, token).Err()
}

func lockToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
