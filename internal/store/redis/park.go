package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
)

var _ dispatch.Parker = (*Store)(nil)

// Parking keeps an update whose chat another process holds in Redis, in
// the chat's parked list (<prefix>:{chat}:parked, the chat's slot), so the
// pipeline can acknowledge it to the platform and go on with other chats;
// the chat is listed in <prefix>:parked until its list is empty. Whoever
// finds the chat free first (any process) handles its parked updates in
// order under the chat's turn. While a chat has parked updates, its new
// updates are parked behind them (Enter answers dispatch.ErrChatBusy), so
// the chat's order holds. The parked list lives for Config.DedupeTTL after
// its last update was parked.

// parkScript parks an update.
//
//	KEYS[1] lock key, KEYS[2] the update's handled marker, KEYS[3] parked list
//	ARGV[1] the encoded update, ARGV[2] the list's TTL in ms
//
// It returns 2 when the update was handled before, 1 when parked and 0 when
// the chat is free with nothing parked (nothing is written).
var parkScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return 1`)

// enterParkedScript takes a chat's turn for its oldest parked update.
//
//	KEYS[1] lock key, KEYS[2] parked list, KEYS[3] state key
//	ARGV[1] token, ARGV[2] TTL in ms, ARGV[3] the lock value of a holder known to have stopped ("" for none)
//
// It returns {0} when nothing is parked, {1, entry, rev, data, upd, out}
// when the turn is taken, {-1, holder's lock value} when another holder
// has the chat.
var enterParkedScript = goredis.NewScript(`
local head = redis.call('LINDEX', KEYS[2], 0)
if not head then return {0} end
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not ok and ARGV[3] ~= '' and redis.call('GET', KEYS[1]) == ARGV[3] then
  ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if ok then
  local v = redis.call('HMGET', KEYS[3], 'rev', 'data', 'upd', 'out')
  return {1, head, v[1], v[2], v[3], v[4]}
end
return {-1, redis.call('GET', KEYS[1])}`)

// Park implements dispatch.Parker (see there and the comment above).
func (s *Store) Park(ctx context.Context, upd *messenger.Update) (parked, dup bool, err error) {
	if err := checkUpdate(upd.Chat, upd.ID); err != nil {
		return false, false, fmt.Errorf("redis store: park: %w", err)
	}
	entry, err := json.Marshal(upd)
	if err != nil {
		return false, false, fmt.Errorf("redis store: park update %s of %s: %w", upd.ID, upd.Chat, err)
	}
	keys := []string{s.keys.lock(upd.Chat), s.keys.update(upd.Chat, upd.ID), s.keys.parked(upd.Chat)}
	code, err := s.pipe.script(ctx, parkScript, keys, entry, s.cfg.DedupeTTL.Milliseconds()).Int()
	if err != nil {
		return false, false, fmt.Errorf("redis store: park update %s of %s: %w", upd.ID, upd.Chat, err)
	}
	switch code {
	case 2:
		return false, true, nil
	case 0:
		return false, false, nil
	}
	if err := s.listParked(ctx, upd.Chat); err != nil {
		// Parked, but not listed: listed again at its next update; until
		// then a process handles it only when it looks at the chat.
		return true, false, err
	}
	return true, false, nil
}

// listParked adds chat to the set of chats with parked updates.
func (s *Store) listParked(ctx context.Context, chat messenger.ChatKey) error {
	member, err := json.Marshal(chat)
	if err != nil {
		return err
	}
	if err := s.client.SAdd(ctx, s.keys.parkedIndex(), member).Err(); err != nil {
		return fmt.Errorf("redis store: list the parked chat %s: %w", chat, err)
	}
	return nil
}

// ParkedChats implements dispatch.Parker: up to n chats, chosen at random
// among those with parked updates.
func (s *Store) ParkedChats(ctx context.Context, n int) ([]messenger.ChatKey, error) {
	members, err := s.client.SRandMemberN(ctx, s.keys.parkedIndex(), int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis store: parked chats: %w", err)
	}
	out := make([]messenger.ChatKey, 0, len(members))
	for _, m := range members {
		var chat messenger.ChatKey
		if err := json.Unmarshal([]byte(m), &chat); err != nil || checkChat(chat) != nil {
			_ = s.client.SRem(ctx, s.keys.parkedIndex(), m).Err() // not ours to read: drop it
			continue
		}
		out = append(out, chat)
	}
	return out, nil
}

// EnterParked implements dispatch.Parker.
func (s *Store) EnterParked(ctx context.Context, chat messenger.ChatKey, ttl time.Duration) (*messenger.Update, func(context.Context, bool) error, bool, error) {
	if err := checkChat(chat); err != nil {
		return nil, nil, false, fmt.Errorf("redis store: enter parked: %w", err)
	}
	if err := s.ensureLive(ctx); err != nil {
		return nil, nil, false, fmt.Errorf("redis store: enter parked chat %s: %w", chat, err)
	}
	if ttl <= 0 {
		ttl = DefaultChatLockTTL
	}
	lock := s.keys.lock(chat)
	if err := s.finishUnfinished(ctx, lock); err != nil {
		return nil, nil, false, fmt.Errorf("redis store: enter parked chat %s: %w", chat, err)
	}
	stopped := ""
	for {
		token, err := lockToken()
		if err != nil {
			return nil, nil, false, err
		}
		token = s.owners.instance + "/" + token
		keys := []string{lock, s.keys.parked(chat), s.keys.state(chat)}
		res, err := s.pipe.script(ctx, enterParkedScript, keys, token, ttl.Milliseconds(), stopped).Slice()
		if err != nil {
			return nil, nil, false, fmt.Errorf("redis store: enter parked chat %s: %w", chat, err)
		}
		code, _ := res[0].(int64)
		switch code {
		case 0:
			return nil, nil, false, s.unlistParked(ctx, chat)
		case -1:
			if stopped, err = s.stoppedHolder(ctx, res); err != nil || stopped == "" {
				return nil, nil, err == nil, err
			}
			continue
		case 1:
		default:
			return nil, nil, false, fmt.Errorf("redis store: enter parked chat %s: unexpected answer %v", chat, res)
		}
		upd, leave, err := s.takeParked(ctx, chat, token, res[1:])
		if err != nil || upd != nil {
			return upd, leave, false, err
		}
		stopped = "" // the head was handled before and is gone: the next
	}
}

// takeParked reads the entry and state of a parked turn just taken. An
// entry handled before (or unreadable) is dropped with the turn left, and
// nil returned.
func (s *Store) takeParked(ctx context.Context, chat messenger.ChatKey, token string, res []any) (*messenger.Update, func(context.Context, bool) error, error) {
	lock := s.keys.lock(chat)
	head, _ := res[0].(string)
	t := turn{s: s, chat: chat, token: token, lock: lock, marker: lock, head: head}
	var upd messenger.Update
	if err := json.Unmarshal([]byte(head), &upd); err != nil || upd.ID == "" || upd.Chat != chat {
		t.handled = true // unreadable, it can never be handled: drop it
		return nil, nil, t.run(ctx)
	}
	t.update, t.marker = upd.ID, s.keys.update(chat, upd.ID)
	handled, err := s.client.Exists(ctx, t.marker).Result()
	if err != nil {
		return nil, nil, s.abandon(ctx, chat, lock, token, fmt.Errorf("redis store: enter parked chat %s: %w", chat, err))
	}
	if handled == 1 {
		t.handled = true
		return nil, nil, t.run(ctx)
	}
	st, err := parseState(chat, res[1:])
	if err != nil {
		return nil, nil, s.abandon(ctx, chat, lock, token, err)
	}
	s.preloaded.Store(lock, st)
	t.hold()
	return &upd, t.leave, nil
}

// unlistParked drops chat from the set of chats with parked updates, and
// lists it again if an update was parked meanwhile.
func (s *Store) unlistParked(ctx context.Context, chat messenger.ChatKey) error {
	member, err := json.Marshal(chat)
	if err != nil {
		return err
	}
	if err := s.client.SRem(ctx, s.keys.parkedIndex(), member).Err(); err != nil {
		return fmt.Errorf("redis store: unlist the parked chat %s: %w", chat, err)
	}
	n, err := s.client.Exists(ctx, s.keys.parked(chat)).Result()
	if err == nil && n == 1 {
		err = s.listParked(ctx, chat)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("redis store: unlist the parked chat %s: %w", chat, err)
	}
	return nil
}
