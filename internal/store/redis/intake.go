package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// Intake is one bot's shared intake in Redis (relay.Store): the poller
// lease, the queue partitions (streams) with their leases and the set of
// processes sharing them, all under the bot's hash tag (keys.intake).
type Intake struct {
	client goredis.UniversalClient
	keys   keys
	base   string
}

var _ relay.Store = (*Intake)(nil)

// Intake returns the shared intake of the bot (platform, name; "" for the
// bot of the environment variables).
func (s *Store) Intake(platform messenger.Platform, bot string) (*Intake, error) {
	if err := checkChat(messenger.ChatKey{Platform: platform, Bot: bot, ID: "-"}); err != nil {
		return nil, fmt.Errorf("redis store: intake: %w", err)
	}
	return &Intake{client: s.client, keys: s.keys, base: s.keys.intake(platform, bot)}, nil
}

// leaseScript takes or extends a lease.
//
//	KEYS[1] lease key
//	ARGV[1] holder, ARGV[2] ttl ms, ARGV[3] "a" acquire (or extend), "r" extend only
//	ARGV[4..] holders proven stopped, whose lease "a" takes over
//
// It returns {1, holder} when holder has the lease afterwards, {0, current
// holder or ""} otherwise.
var leaseScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
  if ARGV[3] ~= 'a' then return {0, ''} end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, ARGV[1]}
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, cur}
end
if ARGV[3] == 'a' then
  for i = 4, #ARGV do
    if cur == ARGV[i] then
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return {1, ARGV[1]}
    end
  end
end
return {0, cur}
`)

// heartbeatScript refreshes a membership and returns the live members.
//
//	KEYS[1] members (sorted set scored by the end of each membership, ms)
//	ARGV[1] holder, ARGV[2] ttl ms
//
// Times are the server's (TIME), so the processes' clocks do not matter.
var heartbeatScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[2]))
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

func (in *Intake) lease(name string) string { return in.keys.intakeLease(in.base, name) }

// AcquireLease implements relay.Store.
func (in *Intake) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, dead ...string) (bool, string, error) {
	held, cur, err := parseLease(leaseScript.Run(ctx, in.client, []string{in.lease(name)}, leaseArgs(holder, ttl, "a", dead)...))
	if err != nil {
		return false, "", fmt.Errorf("redis store: acquire lease %s: %w", name, err)
	}
	return held, cur, nil
}

// RenewLease implements relay.Store.
func (in *Intake) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	held, _, err := parseLease(leaseScript.Run(ctx, in.client, []string{in.lease(name)}, holder, ttl.Milliseconds(), "r"))
	if err != nil {
		return false, fmt.Errorf("redis store: renew lease %s: %w", name, err)
	}
	return held, nil
}

// ReleaseLease implements relay.Store.
func (in *Intake) ReleaseLease(ctx context.Context, name, holder string) error {
	if err := unlockScript.Run(ctx, in.client, []string{in.lease(name)}, holder).Err(); err != nil {
		return fmt.Errorf("redis store: release lease %s: %w", name, err)
	}
	return nil
}

// LeaseHolder implements relay.Store.
func (in *Intake) LeaseHolder(ctx context.Context, name string) (string, error) {
	v, err := in.client.Get(ctx, in.lease(name)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redis store: lease %s: %w", name, err)
	}
	return v, nil
}

// AcquireLeases implements relay.Store: one pipeline of lease scripts.
func (in *Intake) AcquireLeases(ctx context.Context, names, release []string, holder string, ttl time.Duration, dead ...string) ([]bool, error) {
	if len(names)+len(release) == 0 {
		return nil, nil
	}
	held, err := in.acquireLeases(ctx, names, release, holder, ttl, dead)
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		// EVALSHA inside a pipeline fails when the server has not cached
		// the scripts (a new or restarted server): load them and try once
		// more, rather than asking before every pipeline.
		if err = in.loadScripts(ctx); err == nil {
			held, err = in.acquireLeases(ctx, names, release, holder, ttl, dead)
		}
	}
	return held, err
}

// acquireLeases is AcquireLeases' pipeline of lease scripts by hash.
func (in *Intake) acquireLeases(ctx context.Context, names, release []string, holder string, ttl time.Duration, dead []string) ([]bool, error) {
	pipe := in.client.Pipeline()
	cmds := make([]*goredis.Cmd, len(names))
	for i, n := range names {
		cmds[i] = leaseScript.EvalSha(ctx, pipe, []string{in.lease(n)}, leaseArgs(holder, ttl, "a", dead)...)
	}
	for _, n := range release {
		unlockScript.EvalSha(ctx, pipe, []string{in.lease(n)}, holder)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis store: acquire %d leases: %w", len(names), err)
	}
	held := make([]bool, len(names))
	for i, c := range cmds {
		h, _, err := parseLease(c)
		if err != nil {
			return nil, fmt.Errorf("redis store: acquire lease %s: %w", names[i], err)
		}
		held[i] = h
	}
	return held, nil
}

// loadScripts caches the lease scripts on the server of the bot's slot.
func (in *Intake) loadScripts(ctx context.Context) error {
	for _, s := range []*goredis.Script{leaseScript, unlockScript} {
		if err := s.Load(ctx, in.client).Err(); err != nil {
			return fmt.Errorf("redis store: load lease script: %w", err)
		}
	}
	return nil
}

// leaseArgs are leaseScript's arguments.
func leaseArgs(holder string, ttl time.Duration, mode string, dead []string) []any {
	args := []any{holder, ttl.Milliseconds(), mode}
	for _, d := range dead {
		args = append(args, d)
	}
	return args
}

// parseLease reads a leaseScript reply.
func parseLease(c *goredis.Cmd) (bool, string, error) {
	v, err := c.Slice()
	if err != nil {
		return false, "", err
	}
	if len(v) != 2 {
		return false, "", fmt.Errorf("unexpected script reply %v", v)
	}
	n, _ := v[0].(int64)
	cur, _ := v[1].(string)
	return n == 1, cur, nil
}

// Heartbeat implements relay.Store.
func (in *Intake) Heartbeat(ctx context.Context, holder string, ttl time.Duration) ([]string, error) {
	live, err := heartbeatScript.Run(ctx, in.client, []string{in.keys.intakeMembers(in.base)}, holder, ttl.Milliseconds()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis store: intake heartbeat: %w", err)
	}
	return live, nil
}

// Leave implements relay.Store.
func (in *Intake) Leave(ctx context.Context, holder string) error {
	if err := in.client.ZRem(ctx, in.keys.intakeMembers(in.base), holder).Err(); err != nil {
		return fmt.Errorf("redis store: leave intake: %w", err)
	}
	return nil
}

// entryField is the stream field holding an encoded update.
const entryField = "u"

// Append implements relay.Store: one pipeline of XADDs.
func (in *Intake) Append(ctx context.Context, entries []relay.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	pipe := in.client.Pipeline()
	for _, e := range entries {
		pipe.XAdd(ctx, &goredis.XAddArgs{Stream: in.keys.intakeStream(in.base, e.Partition), Values: []any{entryField, e.Data}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis store: queue %d updates: %w", len(entries), err)
	}
	return nil
}

// Read implements relay.Store: one XREAD over the cursors' partitions.
func (in *Intake) Read(ctx context.Context, cursors []relay.Cursor, count int, block time.Duration) ([]relay.Entry, error) {
	if len(cursors) == 0 {
		return nil, nil
	}
	streams := make([]string, 2*len(cursors))
	part := make(map[string]int, len(cursors))
	for i, c := range cursors {
		k := in.keys.intakeStream(in.base, c.Partition)
		streams[i], streams[len(cursors)+i] = k, c.After
		part[k] = c.Partition
	}
	if block <= 0 {
		block = -1 // go-redis: no BLOCK argument
	}
	res, err := in.client.XRead(ctx, &goredis.XReadArgs{Streams: streams, Count: int64(count), Block: block}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis store: read queue: %w", err)
	}
	var out []relay.Entry
	for _, s := range res {
		p, ok := part[s.Stream]
		if !ok {
			return nil, fmt.Errorf("redis store: read queue: unexpected stream %q", s.Stream)
		}
		for _, m := range s.Messages {
			data, _ := m.Values[entryField].(string)
			out = append(out, relay.Entry{Partition: p, ID: m.ID, Data: []byte(data)})
		}
	}
	return out, nil
}

// Ack implements relay.Store: XDEL, so a partition holds only entries not
// yet handled and its length is the queue's depth.
func (in *Intake) Ack(ctx context.Context, partition int, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := in.client.XDel(ctx, in.keys.intakeStream(in.base, partition), ids...).Err(); err != nil {
		return fmt.Errorf("redis store: acknowledge %d updates of partition %d: %w", len(ids), partition, err)
	}
	return nil
}

// Depth implements relay.Store: one pipeline of XLENs.
func (in *Intake) Depth(ctx context.Context, n int) (int64, error) {
	pipe := in.client.Pipeline()
	cmds := make([]*goredis.IntCmd, n)
	for i := range n {
		cmds[i] = pipe.XLen(ctx, in.keys.intakeStream(in.base, i))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("redis store: queue depth: %w", err)
	}
	var total int64
	for _, c := range cmds {
		total += c.Val()
	}
	return total, nil
}

// LoadTS implements vk.TSStore: a community's Bots Long Poll position,
// shared by the processes that take turns polling it.
func (s *Store) LoadTS(ctx context.Context, groupID int) (string, error) {
	v, err := s.client.Get(ctx, s.keys.vkTS(groupID)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redis store: load VK long poll position: %w", err)
	}
	return v, nil
}

// vkTSTTL is how long a saved VK position is kept: VK keeps events for a
// few hours at most, an older position is refused (failed 1) anyway.
const vkTSTTL = 7 * 24 * time.Hour

// SaveTS implements vk.TSStore.
func (s *Store) SaveTS(ctx context.Context, groupID int, ts string) error {
	if err := s.client.Set(ctx, s.keys.vkTS(groupID), ts, vkTSTTL).Err(); err != nil {
		return fmt.Errorf("redis store: save VK long poll position: %w", err)
	}
	return nil
}
