// Package redis keeps chathub's hot, shared state in Redis: conversation state
// with a compare-and-set revision (the dialog.StateStore port), inbound update
// dedupe markers and, later, shared rate-limit budgets and per-chat locks.
//
// It is the only package that imports go-redis. Key names are built in one
// place (keys.go) and are Redis Cluster safe: all keys of one chat share a
// hash tag and therefore a slot, so multi-key operations stay legal on a
// cluster. Open connects to REDIS_URL or, when it is empty, starts an
// in-process Redis-compatible server (miniredis) for zero-config local runs.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// Defaults applied by New for zero Config fields.
const (
	// DefaultPrefix starts every key chathub writes.
	DefaultPrefix = "chathub"
	// DefaultStateTTL is how long an idle conversation's state is kept.
	DefaultStateTTL = 30 * 24 * time.Hour
	// DefaultDedupeTTL is how long an update id is remembered; longer than
	// Telegram keeps undelivered updates (24 h) so a redelivery is recognised.
	DefaultDedupeTTL = 48 * time.Hour
	// DefaultClaimTTL is how long an update stays claimed while in progress.
	DefaultClaimTTL = 5 * time.Minute
)

// Config tunes a Store. The zero value is valid: every zero field gets its default.
type Config struct {
	// Prefix starts every key (default "chathub"). Several deployments or
	// tests can share one Redis by using different prefixes. Letters, digits,
	// '_', '-', '.' and ':' only; braces are rejected because they would
	// become the cluster hash tag.
	Prefix string
	// StateTTL is how long conversation state lives after its last save
	// (default 30 days): an idle conversation expires after that long. Every
	// save refreshes it.
	StateTTL time.Duration
	// DedupeTTL is how long a handled update id is remembered (default 48h:
	// longer than Telegram keeps undelivered updates).
	DedupeTTL time.Duration
	// ClaimTTL is how long an update stays claimed while it is being handled
	// (default 5 min: longer than the pipeline's retries of one update). If
	// the process dies mid-update, a redelivery is handled after this long.
	ClaimTTL time.Duration
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.StateTTL == 0 {
		c.StateTTL = DefaultStateTTL
	}
	if c.DedupeTTL == 0 {
		c.DedupeTTL = DefaultDedupeTTL
	}
	if c.ClaimTTL == 0 {
		c.ClaimTTL = DefaultClaimTTL
	}
	return c
}

// validate reports the first invalid field of a defaulted Config.
func (c Config) validate() error {
	for _, r := range c.Prefix {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("_-.:", r)
		if !ok {
			return fmt.Errorf("redis store config: prefix %q: only letters, digits and _-.: are allowed", c.Prefix)
		}
	}
	if c.StateTTL < time.Millisecond {
		return fmt.Errorf("redis store config: state TTL %s must be at least 1ms", c.StateTTL)
	}
	if c.DedupeTTL < time.Millisecond {
		return fmt.Errorf("redis store config: dedupe TTL %s must be at least 1ms", c.DedupeTTL)
	}
	return nil
}

// Store is the Redis-backed conversation state store and update deduplicator.
// It is safe for concurrent use by many goroutines and many processes.
type Store struct {
	client goredis.UniversalClient
	cfg    Config
	keys   keys
}

var _ dialog.StateStore = (*Store)(nil)

// New returns a Store using client (a *goredis.Client, *goredis.ClusterClient
// or any UniversalClient) with cfg's zero fields defaulted. It does not
// contact Redis; use Ping for a readiness check. The caller owns client.
func New(client goredis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis store: nil client")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Store{client: client, cfg: cfg, keys: keys{prefix: cfg.Prefix}}, nil
}

// Config returns the effective configuration (defaults applied).
func (s *Store) Config() Config { return s.cfg }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis store: ping: %w", err)
	}
	return nil
}

// State hash fields.
const (
	fieldRev  = "rev"
	fieldData = "data"
)

// saveScript is the compare-and-set on a chat's state hash.
//
//	KEYS[1] state key
//	ARGV[1] expected revision (0: nothing stored)
//	ARGV[2] TTL in milliseconds
//	ARGV[3] "1" to delete, "0" to write
//	ARGV[4] data (ignored when deleting)
//
// It returns {1, newRev} on success and {0, currentRev} on conflict.
var saveScript = goredis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0') or 0
if cur ~= tonumber(ARGV[1]) then
  return {0, cur}
end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  return {1, 0}
end
local nxt = cur + 1
redis.call('HSET', KEYS[1], 'rev', tostring(nxt), 'data', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, nxt}
`)

// LoadState returns the chat's encoded state and its revision in one round
// trip; (nil, 0, nil) when nothing is stored.
func (s *Store) LoadState(ctx context.Context, key messenger.ChatKey) ([]byte, int64, error) {
	if err := checkChat(key); err != nil {
		return nil, 0, fmt.Errorf("redis store: load state: %w", err)
	}
	vals, err := s.client.HMGet(ctx, s.keys.state(key), fieldRev, fieldData).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redis store: load state of %s: %w", key, err)
	}
	if len(vals) != 2 || vals[0] == nil {
		return nil, 0, nil
	}
	revStr, ok := vals[0].(string)
	if !ok {
		return nil, 0, fmt.Errorf("redis store: load state of %s: unexpected revision type %T", key, vals[0])
	}
	rev, err := strconv.ParseInt(revStr, 10, 64)
	if err != nil || rev <= 0 {
		return nil, 0, fmt.Errorf("redis store: load state of %s: corrupt revision %q", key, revStr)
	}
	data, _ := vals[1].(string) // a missing data field reads as empty state
	return []byte(data), rev, nil
}

// SaveState stores data for the chat if its current revision is rev (0: none
// stored yet) and returns the new revision; nil data deletes the state (still
// checked against rev) and returns 0. When another writer advanced the chat
// first, it returns an error wrapping dialog.ErrConflict and changes nothing.
// Every successful write refreshes the state's TTL (Config.StateTTL).
func (s *Store) SaveState(ctx context.Context, key messenger.ChatKey, data []byte, rev int64) (int64, error) {
	if err := checkChat(key); err != nil {
		return 0, fmt.Errorf("redis store: save state: %w", err)
	}
	if rev < 0 {
		return 0, fmt.Errorf("redis store: save state of %s: negative revision %d", key, rev)
	}
	del := "0"
	if data == nil {
		del = "1"
	}
	res, err := saveScript.Run(ctx, s.client,
		[]string{s.keys.state(key)},
		rev, s.cfg.StateTTL.Milliseconds(), del, data,
	).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("redis store: save state of %s: %w", key, err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("redis store: save state of %s: unexpected script reply %v", key, res)
	}
	if res[0] != 1 {
		return 0, fmt.Errorf("redis store: save state of %s at revision %d (current %d): %w",
			key, rev, res[1], dialog.ErrConflict)
	}
	return res[1], nil
}

// ErrUpdateInProgress: the update is claimed and still being handled (here
// or in another process, or its handler died and the claim has not expired
// yet). The caller must not acknowledge it; a later redelivery decides.
var ErrUpdateInProgress = errors.New("redis store: update is being handled")

// claimScript claims an update as in progress (value "p", ClaimTTL); it
// returns 1 when claimed, 0 when the update is done, -1 when in progress.
var claimScript = goredis.NewScript(`
if redis.call('SET', KEYS[1], 'p', 'NX', 'PX', ARGV[1]) then return 1 end
if redis.call('GET', KEYS[1]) == 'p' then return -1 end
return 0`)

// ClaimUpdate claims an inbound update for handling. It returns true when
// this caller is the first; false when the update was already handled (a
// duplicate delivery: skip and acknowledge it); ErrUpdateInProgress when
// someone else is handling it. CompleteUpdate or ReleaseUpdate must follow.
func (s *Store) ClaimUpdate(ctx context.Context, platform messenger.Platform, updateID string) (bool, error) {
	if err := checkUpdate(platform, updateID); err != nil {
		return false, fmt.Errorf("redis store: claim update: %w", err)
	}
	res, err := claimScript.Run(ctx, s.client, []string{s.keys.update(platform, updateID)},
		s.cfg.ClaimTTL.Milliseconds()).Int()
	switch {
	case err != nil:
		return false, fmt.Errorf("redis store: claim update %s/%s: %w", platform, updateID, err)
	case res < 0:
		return false, fmt.Errorf("%w: %s/%s", ErrUpdateInProgress, platform, updateID)
	}
	return res == 1, nil
}

// CompleteUpdate marks a claimed update as handled for DedupeTTL, so
// redeliveries are skipped.
func (s *Store) CompleteUpdate(ctx context.Context, platform messenger.Platform, updateID string) error {
	if err := checkUpdate(platform, updateID); err != nil {
		return fmt.Errorf("redis store: complete update: %w", err)
	}
	if err := s.client.Set(ctx, s.keys.update(platform, updateID), "d", s.cfg.DedupeTTL).Err(); err != nil {
		return fmt.Errorf("redis store: complete update %s/%s: %w", platform, updateID, err)
	}
	return nil
}

// ReleaseUpdate forgets a claim so a redelivery of the update is handled
// again; the pipeline calls it when handling failed.
func (s *Store) ReleaseUpdate(ctx context.Context, platform messenger.Platform, updateID string) error {
	if err := checkUpdate(platform, updateID); err != nil {
		return fmt.Errorf("redis store: release update: %w", err)
	}
	if err := s.client.Del(ctx, s.keys.update(platform, updateID)).Err(); err != nil {
		return fmt.Errorf("redis store: release update %s/%s: %w", platform, updateID, err)
	}
	return nil
}
