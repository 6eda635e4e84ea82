package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// LeaseHolder returns who has the named lease, "" when nobody.
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

// Leave implements relay.Store.
func (in *Intake) Leave(ctx context.Context, holder string) error {
	if err := in.client.ZRem(ctx, in.keys.intakeMembers(in.base), holder).Err(); err != nil {
		return fmt.Errorf("redis store: leave intake: %w", err)
	}
	return nil
}

// entryField is the stream field holding an encoded update.
const entryField = "u"

// appendScript appends entries to a bot's queue partitions and tells,
// for each, the id of the entry appended to its partition just before it,
// whoever appended it: the ids last appended are kept in a hash beside the
// streams (a stream's own last id survives XDEL but cannot be read by a
// script cheaply).
//
//	KEYS[1] the hash of the last ids (field: stream key)
//	KEYS[2..] the streams, each once
//	ARGV pairs: the stream's index in KEYS (2..), the encoded update
//
// It returns {prev, id} for each entry, in order; prev is "0-0" for a
// stream that never had an entry and "" when unknown: a stream appended to
// before the hash existed, or whose newest entry is newer than the hash
// says (appended by a plain XADD, e.g. a previous version during a rolling
// deploy, without updating the hash; the reader then takes the partition).
// An entry newer than the hash that was removed already was acknowledged,
// so the hash is then trusted.
var appendScript = goredis.NewScript(`
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return true end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local prevs = {}
local out = {}
for i = 1, #ARGV, 2 do
  local s = tonumber(ARGV[i])
  local k = KEYS[s]
  local prev = prevs[s]
  if prev == nil then
    prev = redis.call('HGET', KEYS[1], k)
    if not prev then
      if redis.call('EXISTS', k) == 1 then prev = '' else prev = '0-0' end
    else
      local top = redis.call('XREVRANGE', k, '+', '-', 'COUNT', 1)
      if #top > 0 and newer(top[1][1], prev) then prev = '' end
    end
  end
  local id = redis.call('XADD', k, '*', 'u', ARGV[i + 1])
  out[#out + 1] = prev
  out[#out + 1] = id
  prevs[s] = id
end
for s, id in pairs(prevs) do
  redis.call('HSET', KEYS[1], KEYS[s], id)
end
return out
`)

// lastIDs is the hash of the ids last appended to the bot's partitions.
func (in *Intake) lastIDs() string { return in.keys.intakeLast(in.base) }

// Append implements relay.Store: one appendScript.
func (in *Intake) Append(ctx context.Context, entries []relay.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	keys := []string{in.lastIDs()}
	index := map[int]int{}
	args := make([]any, 0, 2*len(entries))
	for _, e := range entries {
		i, ok := index[e.Partition]
		if !ok {
			keys = append(keys, in.keys.intakeStream(in.base, e.Partition))
			i = len(keys)
			index[e.Partition] = i
		}
		args = append(args, i, e.Data)
	}
	v, err := appendScript.Run(ctx, in.client, keys, args...).StringSlice()
	if err != nil {
		return fmt.Errorf("redis store: queue %d updates: %w", len(entries), err)
	}
	if len(v) != 2*len(entries) {
		return fmt.Errorf("redis store: queue %d updates: unexpected reply of %d values", len(entries), len(v))
	}
	for i := range entries {
		entries[i].Prev, entries[i].ID = v[2*i], v[2*i+1]
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

// ackScript removes handled entries of several partitions in one call.
//
//	KEYS the streams
//	ARGV for each stream in turn: how many ids, then the ids
var ackScript = goredis.NewScript(`
local i = 1
for k = 1, #KEYS do
  local n = tonumber(ARGV[i])
  if n > 0 then
    redis.call('XDEL', KEYS[k], unpack(ARGV, i + 1, i + n))
  end
  i = i + n + 1
end
return 0
`)

// Ack implements relay.Store: XDEL, so a partition holds only entries not
// yet handled and its length is the queue's depth; the entries of several
// partitions go in one script.
func (in *Intake) Ack(ctx context.Context, ids map[int][]string) error {
	n := 0
	for _, l := range ids {
		n += len(l)
	}
	if n == 0 {
		return nil
	}
	var err error
	if len(ids) == 1 {
		for p, l := range ids {
			err = in.client.XDel(ctx, in.keys.intakeStream(in.base, p), l...).Err()
		}
	} else {
		keys := make([]string, 0, len(ids))
		args := make([]any, 0, n+len(ids))
		for p, l := range ids {
			keys = append(keys, in.keys.intakeStream(in.base, p))
			args = append(args, len(l))
			for _, id := range l {
				args = append(args, id)
			}
		}
		err = ackScript.Run(ctx, in.client, keys, args...).Err()
	}
	if err != nil {
		return fmt.Errorf("redis store: acknowledge %d updates of %d partitions: %w", n, len(ids), err)
	}
	return nil
}

// balanceScript is one member's turn of a bot's shared queue
// (relay.Store.Balance), in one round trip: membership, the partitions'
// leases, the queue's depth and the poller lease's holder.
//
//	KEYS[1] members (sorted set scored by the end of each membership, ms)
//	KEYS[2] the poller lease
//	KEYS[3 .. 2+n] the partitions' leases, KEYS[3+n .. 2+2n] their streams
//	ARGV[1] holder, ARGV[2] ttl ms, ARGV[3] n,
//	ARGV[4] release: partition numbers, comma-separated (may be empty),
//	ARGV[5..] members proven stopped
//
// The assignment is relay.Assigned's: live members sorted by name
// (byte-wise, as Go sorts strings) take the partitions in turn. It
// returns {live members, held, draining (partition numbers), depth,
// poller ("" when none)}. Times are the server's (TIME).
var balanceScript = goredis.NewScript(`
local holder, ttl, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local release, dead = {}, {}
for p in string.gmatch(ARGV[4], '%d+') do release[tonumber(p)] = true end
for i = 5, #ARGV do
  dead[ARGV[i]] = true
  redis.call('ZREM', KEYS[1], ARGV[i])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, holder)
redis.call('PEXPIRE', KEYS[1], 10 * ttl)
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
local sorted = {}
for i, m in ipairs(live) do sorted[i] = m end
-- Byte-wise, as Go compares strings: Lua's < on strings uses strcoll, the
-- server's locale (LC_COLLATE) order.
table.sort(sorted, function(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end)
local idx = -1
for i, m in ipairs(sorted) do
  if m == holder then idx = i - 1 end
end
local held, draining, depth = {}, {}, 0
for p = 0, n - 1 do
  local key = KEYS[3 + p]
  local cur = redis.call('GET', key)
  if release[p] then
    if cur == holder then redis.call('DEL', key) end
  elseif p % #sorted == idx then
    if (not cur) or cur == holder or dead[cur] then
      redis.call('SET', key, holder, 'PX', ttl)
      held[#held + 1] = p
    end
  elseif cur == holder then
    redis.call('PEXPIRE', key, ttl)
    draining[#draining + 1] = p
  end
  depth = depth + redis.call('XLEN', KEYS[3 + n + p])
end
local poller = redis.call('GET', KEYS[2]) or ''
return {live, held, draining, depth, poller}
`)

// Balance implements relay.Store: one balanceScript.
func (in *Intake) Balance(ctx context.Context, req relay.BalanceRequest) (relay.Balance, error) {
	n := req.Partitions
	keys := make([]string, 2+2*n)
	keys[0], keys[1] = in.keys.intakeMembers(in.base), in.lease(relay.PollerLease)
	for p := range n {
		keys[2+p] = in.lease(relay.PartitionLease(p))
		keys[2+n+p] = in.keys.intakeStream(in.base, p)
	}
	rel := make([]byte, 0, 4*len(req.Release))
	for i, p := range req.Release {
		if i > 0 {
			rel = append(rel, ',')
		}
		rel = strconv.AppendInt(rel, int64(p), 10)
	}
	args := make([]any, 0, 4+len(req.Dead))
	args = append(args, req.Holder, req.TTL.Milliseconds(), n, string(rel))
	for _, d := range req.Dead {
		args = append(args, d)
	}
	v, err := balanceScript.Run(ctx, in.client, keys, args...).Slice()
	if err != nil {
		return relay.Balance{}, fmt.Errorf("redis store: intake balance: %w", err)
	}
	if len(v) != 5 {
		return relay.Balance{}, fmt.Errorf("redis store: intake balance: unexpected reply %v", v)
	}
	var b relay.Balance
	for _, m := range asSlice(v[0]) {
		if s, ok := m.(string); ok {
			b.Live = append(b.Live, s)
		}
	}
	for _, p := range asSlice(v[1]) {
		if x, ok := p.(int64); ok {
			b.Held = append(b.Held, int(x))
		}
	}
	for _, p := range asSlice(v[2]) {
		if x, ok := p.(int64); ok {
			b.Draining = append(b.Draining, int(x))
		}
	}
	b.Depth, _ = v[3].(int64)
	b.Poller, _ = v[4].(string)
	return b, nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Depth returns how many entries partitions 0..n-1 hold together (not yet
// acknowledged): one pipeline of XLENs.
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
