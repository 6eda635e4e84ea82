// Package redis keeps chathub's hot, shared state in Redis: conversation state
// with a compare-and-set revision and the record of the last update's replies
// (the dialog.StateStore port), the inbound pipeline's per-chat turns (a lock
// and handled-update markers, the dispatch.Gate port) and shared rate-limit
// budgets.
//
// It is the only package that imports go-redis. Key names are built in one
// place (keys.go) and are Redis Cluster safe: all keys of one chat share a
// hash tag and therefore a slot, so multi-key operations stay legal on a
// cluster. Open connects to REDIS_URL or, when it is empty, starts an
// in-process Redis-compatible server (miniredis) for zero-config local runs.
//
// The state and turn commands that many goroutines issue at the same time
// are auto-pipelined (autopipe.go): a few flusher goroutines send whatever
// is queued together in one round trip, each command keeping its own result;
// Store.Close stops them after the queued commands are sent.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	// DefaultPipelineFlushers is how many goroutines send the auto-pipeline's batches.
	DefaultPipelineFlushers = 4
	// DefaultPipelineMaxBatch caps the commands of one auto-pipeline batch.
	DefaultPipelineMaxBatch = 64
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
	// longer than Telegram keeps undelivered updates). It also bounds how
	// long the record of an ended conversation's last replies is kept when
	// their delivery was never confirmed (the process died while sending).
	DedupeTTL time.Duration
	// PipelineFlushers is how many goroutines send the auto-pipeline's
	// batches (default 4, DefaultPipelineFlushers). The conversation-state
	// and turn commands that goroutines issue at the same time are sent
	// together, one pipeline round trip per batch; a command issued alone is
	// sent at once. At most PipelineFlushers × PipelineMaxBatch commands
	// wait; more callers block until there is room.
	PipelineFlushers int
	// PipelineMaxBatch caps the commands of one auto-pipeline batch
	// (default 64, DefaultPipelineMaxBatch).
	PipelineMaxBatch int
	// NoAutoPipeline turns auto-pipelining off: every command is its own
	// round trip on the caller's goroutine and no flusher runs.
	NoAutoPipeline bool
	// LivenessTTL is how long this process's liveness key outlives its last
	// refresh (default 10s, DefaultLivenessTTL; it is refreshed every third
	// of it). A chat turn held by a process whose key expired (the process
	// died) is taken at once instead of after the turn's TTL; see owner.go.
	// At least 300ms.
	LivenessTTL time.Duration
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
	if c.PipelineFlushers == 0 {
		c.PipelineFlushers = DefaultPipelineFlushers
	}
	if c.PipelineMaxBatch == 0 {
		c.PipelineMaxBatch = DefaultPipelineMaxBatch
	}
	if c.LivenessTTL == 0 {
		c.LivenessTTL = DefaultLivenessTTL
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
	if c.PipelineFlushers < 0 {
		return fmt.Errorf("redis store config: pipeline flushers %d must not be negative", c.PipelineFlushers)
	}
	if c.LivenessTTL < 300*time.Millisecond {
		return fmt.Errorf("redis store config: liveness TTL %s must be at least 300ms", c.LivenessTTL)
	}
	if c.PipelineMaxBatch < 0 {
		return fmt.Errorf("redis store config: pipeline max batch %d must not be negative", c.PipelineMaxBatch)
	}
	return nil
}

// Store is the Redis-backed conversation state store and update deduplicator.
// It is safe for concurrent use by many goroutines and many processes.
type Store struct {
	client goredis.UniversalClient
	cfg    Config
	keys   keys
	// unfinished holds, per lock key, the turns whose leave failed (Redis
	// unreachable): the chat's next Enter in this process finishes them
	// first, so the process does not wait for its own stale lock.
	unfinished sync.Map // string → turn
	// preloaded holds, per lock key, the state Enter read with the turn,
	// until the turn's first LoadState of the chat or its leave.
	preloaded sync.Map // string → dialog.StoredState
	// held holds, per lock key, the turns this process holds: where
	// SaveAtLeave puts the state their leave writes.
	held sync.Map // string → *turnSave
	// pipe sends the state and turn commands (auto-pipelined unless
	// Config.NoAutoPipeline); the rate limits and the pacer use client.
	pipe *autoPipeline
	// owners is this Store's instance id and liveness, and what it knows of
	// the holders of turns it waits for (owner.go).
	owners *owners
}

var _ dialog.TurnStateStore = (*Store)(nil)

// New returns a Store using client (a *goredis.Client, *goredis.ClusterClient
// or any UniversalClient) with cfg's zero fields defaulted. It does not
// contact Redis; use Ping for a readiness check. The caller owns client and
// closes it after the Store's Close.
func New(client goredis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("redis store: nil client")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o, err := newOwners(cfg.LivenessTTL)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, cfg: cfg, keys: keys{prefix: cfg.Prefix}, pipe: newAutoPipeline(client, cfg), owners: o}, nil
}

// Close ends the Store's auto-pipeline: the flushers (started by the first
// command) send every command already queued and stop; later state and
// turn commands fail with an error wrapping ErrClosed. It also deletes the
// Store's liveness key and gives back its restart slot (owner.go). Call it once nothing
// handles updates any more (after the dispatcher drained), before closing
// the client. It does not close the client; it is safe to call more than
// once and always returns nil.
func (s *Store) Close() error {
	s.pipe.close()
	s.stopLiveness()
	return nil
}

// Config returns the effective configuration (defaults applied).
func (s *Store) Config() Config { return s.cfg }

// Ping checks that Redis answers: on a Redis Cluster, every master (each
// holds a share of the chats).
func (s *Store) Ping(ctx context.Context) error {
	if c, ok := s.client.(*goredis.ClusterClient); ok {
		if _, err := pingMasters(ctx, c); err != nil {
			return fmt.Errorf("redis store: ping: %w", err)
		}
		return nil
	}
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis store: ping: %w", err)
	}
	return nil
}

// State hash fields.
// State hash fields: the revision, the encoded conversation, the id of the
// last update applied and the replies of that update not yet confirmed sent.
const (
	fieldRev    = "rev"
	fieldData   = "data"
	fieldUpdate = "upd"
	fieldOutbox = "out"
)

// saveScript is the compare-and-set on a chat's state hash.
//
//	KEYS[1] state key
//	ARGV[1] expected revision (0: nothing stored)
//	ARGV[2] TTL in milliseconds
//	ARGV[3] mode: "d" delete, "r" record (update and outbox, no conversation), "s" state
//	ARGV[4] data, ARGV[5] update id, ARGV[6] outbox ("" for none)
//
// It returns {1, newRev} on success and {0, currentRev} on conflict.
var saveScript = goredis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0') or 0
if cur ~= tonumber(ARGV[1]) then
  return {0, cur}
end
if ARGV[3] == 'd' then
  redis.call('DEL', KEYS[1])
  return {1, 0}
end
local nxt = cur + 1
redis.call('HSET', KEYS[1], 'rev', tostring(nxt))
if ARGV[3] == 's' then redis.call('HSET', KEYS[1], 'data', ARGV[4]) else redis.call('HDEL', KEYS[1], 'data') end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'upd', ARGV[5]) else redis.call('HDEL', KEYS[1], 'upd') end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'out', ARGV[6]) else redis.call('HDEL', KEYS[1], 'out') end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, nxt}
`)

// LoadState returns the chat's stored state in one round trip; the zero
// StoredState when nothing is stored.
func (s *Store) LoadState(ctx context.Context, key messenger.ChatKey) (dialog.StoredState, error) {
	if err := checkChat(key); err != nil {
		return dialog.StoredState{}, fmt.Errorf("redis store: load state: %w", err)
	}
	if st, ok := s.preloaded.LoadAndDelete(s.keys.lock(key)); ok {
		return st.(dialog.StoredState), nil
	}
	cmd := goredis.NewSliceCmd(ctx, "hmget", s.keys.state(key), fieldRev, fieldData, fieldUpdate, fieldOutbox)
	if err := s.pipe.process(ctx, cmd); err != nil {
		return dialog.StoredState{}, fmt.Errorf("redis store: load state of %s: %w", key, err)
	}
	return parseState(key, cmd.Val())
}

// parseState decodes the state hash's rev, data, upd and out fields (nil
// where absent); no revision is no state.
func parseState(key messenger.ChatKey, vals []any) (dialog.StoredState, error) {
	if len(vals) != 4 || vals[0] == nil {
		return dialog.StoredState{}, nil
	}
	revStr, ok := vals[0].(string)
	if !ok {
		return dialog.StoredState{}, fmt.Errorf("redis store: load state of %s: unexpected revision type %T", key, vals[0])
	}
	rev, err := strconv.ParseInt(revStr, 10, 64)
	if err != nil || rev <= 0 {
		return dialog.StoredState{}, fmt.Errorf("redis store: load state of %s: corrupt revision %q", key, revStr)
	}
	st := dialog.StoredState{Rev: rev}
	if data, ok := vals[1].(string); ok {
		st.Data = []byte(data)
	}
	st.Update, _ = vals[2].(string)
	if out, ok := vals[3].(string); ok {
		st.Outbox = []byte(out)
	}
	return st, nil
}

// SaveState stores st for the chat if its current revision is st.Rev (0:
// none stored yet) and returns the new revision. Data nil with no Update
// deletes the state (still checked against st.Rev) and returns 0; Data nil
// with an Update keeps only the record of that update and its outbox, for
// Config.DedupeTTL (until Enter's leave confirms the replies and drops it).
// When another writer advanced the chat first, it returns an error wrapping
// dialog.ErrConflict and changes nothing. Every write of a conversation
// refreshes its TTL (Config.StateTTL).
func (s *Store) SaveState(ctx context.Context, key messenger.ChatKey, st dialog.StoredState) (int64, error) {
	if err := checkChat(key); err != nil {
		return 0, fmt.Errorf("redis store: save state: %w", err)
	}
	if st.Rev < 0 {
		return 0, fmt.Errorf("redis store: save state of %s: negative revision %d", key, st.Rev)
	}
	mode, ttl := s.saveMode(st)
	res, err := s.pipe.script(ctx, saveScript,
		[]string{s.keys.state(key)},
		st.Rev, ttl.Milliseconds(), mode, st.Data, st.Update, st.Outbox,
	).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("redis store: save state of %s: %w", key, err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("redis store: save state of %s: unexpected script reply %v", key, res)
	}
	if res[0] != 1 {
		return 0, fmt.Errorf("redis store: save state of %s at revision %d (current %d): %w",
			key, st.Rev, res[1], dialog.ErrConflict)
	}
	return res[1], nil
}

// saveMode is saveScript's mode for st and the TTL of what it writes: "d"
// (delete) for no conversation and no update, "r" (the update's record
// only, kept for Config.DedupeTTL) for no conversation, else "s".
func (s *Store) saveMode(st dialog.StoredState) (string, time.Duration) {
	switch {
	case st.Data == nil && st.Update == "":
		return "d", s.cfg.StateTTL
	case st.Data == nil:
		return "r", s.cfg.DedupeTTL
	}
	return "s", s.cfg.StateTTL
}

// DeleteState deletes the chat's conversation state with its record of
// the last update and that update's unsent replies, and the chat's parked
// updates (whole messages waiting for its turn, which would otherwise be
// handled later and bring an erased client back) with its entry in the
// parked index: erasing a client, the next message starts a new
// conversation. A turn of that chat running meanwhile finds its revision
// gone when it saves and is retried from no state (dialog.ErrConflict).
// Deleting a state that is not there is not an error.
func (s *Store) DeleteState(ctx context.Context, key messenger.ChatKey) error {
	if err := checkChat(key); err != nil {
		return fmt.Errorf("redis store: delete state: %w", err)
	}
	s.preloaded.Delete(s.keys.lock(key))
	cmd := goredis.NewIntCmd(ctx, "del", s.keys.state(key), s.keys.parked(key)) // one hash slot: the chat's tag
	if err := s.pipe.process(ctx, cmd); err != nil {
		return fmt.Errorf("redis store: delete state of %s: %w", key, err)
	}
	member, err := json.Marshal(key)
	if err != nil {
		return fmt.Errorf("redis store: delete state of %s: %w", key, err)
	}
	if err := s.client.SRem(ctx, s.keys.parkedIndex(), member).Err(); err != nil {
		return fmt.Errorf("redis store: delete state of %s: unlist its parked updates: %w", key, err)
	}
	return nil
}
