package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// Defaults applied to a zero Limit field.
const (
	// DefaultLimitPeriod is the window a Limit's Rate is counted over.
	DefaultLimitPeriod = time.Second
	// DefaultLimitBurst is how many units a Limit grants at once after an
	// idle spell.
	DefaultLimitBurst = 1
)

// Limit is a rate: Rate units per Period, at most Burst of them at once.
type Limit struct {
	// Rate is how many units are granted per Period; required, at least 1.
	Rate int
	// Period is the window Rate is counted over; default DefaultLimitPeriod (1s).
	Period time.Duration
	// Burst is how many units may be granted at once after an idle spell;
	// default DefaultLimitBurst (1): grants are spaced evenly, Period/Rate
	// apart, so no window of one Period ever holds more than Rate of them,
	// whichever way the platform counts. Wait(ctx, n) needs n <= Burst.
	Burst int
}

// withDefaults returns l with its zero optional fields defaulted.
func (l Limit) withDefaults() Limit {
	if l.Period == 0 {
		l.Period = DefaultLimitPeriod
	}
	if l.Burst == 0 {
		l.Burst = DefaultLimitBurst
	}
	return l
}

// validate reports every problem of a defaulted Limit.
func (l Limit) validate() error {
	var errs []error
	if l.Rate < 1 {
		errs = append(errs, fmt.Errorf("rate %d must be at least 1", l.Rate))
	}
	if l.Period < time.Millisecond {
		errs = append(errs, fmt.Errorf("period %s must be at least 1ms", l.Period))
	}
	if l.Burst < 1 {
		errs = append(errs, fmt.Errorf("burst %d must be at least 1", l.Burst))
	}
	return errors.Join(errs...)
}

// String renders the limit as "20/1s (burst 1)".
func (l Limit) String() string {
	return fmt.Sprintf("%d/%s (burst %d)", l.Rate, l.Period, l.Burst)
}

// Limiter is one rate-limit budget kept in Redis, shared by every Limiter on
// the same bucket in every process that uses the same Redis and prefix: the
// platform's limit holds across processes. Grants follow GCRA
// (github.com/go-redis/redis_rate, one Lua script per try, Cluster safe), and
// a bucket can be paused (Pause) after the platform answered "too many
// requests", which stops every process until the pause ends.
//
// A Limiter holds no lock while it waits: each try is one Redis round trip
// that either grants or says how long to sleep. It is safe for concurrent use.
type Limiter struct {
	client goredis.UniversalClient
	gcra   *redis_rate.Limiter
	bucket string
	limit  Limit
	rate   redis_rate.Limit
	budget string // GCRA key as given to redis_rate (which prepends "rate:")
	pause  string
}

// Limiter returns the shared budget called bucket: a name such as "vk:777"
// (letters, digits and "_-.:"), the same in every process that shares it.
// The limit should be the same too; GCRA state is a single timestamp, so a
// process with another limit simply paces by its own. Nothing is written
// until the first grant.
func (s *Store) Limiter(bucket string, limit Limit) (*Limiter, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, fmt.Errorf("redis limiter: %w", err)
	}
	limit = limit.withDefaults()
	if err := limit.validate(); err != nil {
		return nil, fmt.Errorf("redis limiter %s: %w", bucket, err)
	}
	return &Limiter{
		client: s.client, gcra: redis_rate.NewLimiter(s.client), bucket: bucket, limit: limit,
		rate:   redis_rate.Limit{Rate: limit.Rate, Period: limit.Period, Burst: limit.Burst},
		budget: s.keys.rateBudget(bucket), pause: s.keys.ratePause(bucket),
	}, nil
}

// Bucket is the budget's name.
func (l *Limiter) Bucket() string { return l.bucket }

// Limit is the effective limit (defaults applied).
func (l *Limiter) Limit() Limit { return l.limit }

// Wait blocks until n units are granted, the bucket's pause (if any) has
// ended, or ctx ends (then it returns an error wrapping ctx's). A Redis
// failure is returned at once, and nothing is granted: callers must not go
// ahead without a grant.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	for {
		ok, retry, err := l.Allow(ctx, n)
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		}
		if !sleepCtx(ctx, retry) {
			return fmt.Errorf("redis limiter %s: wait for %d: %w", l.bucket, n, ctx.Err())
		}
	}
}

// minRetry bounds how soon a refused try is repeated.
const minRetry = time.Millisecond

// Allow tries once, without waiting: ok reports whether n units were
// granted; if not, retryAfter is how long until they may be (the rest of a
// pause, or the time until the budget has room).
func (l *Limiter) Allow(ctx context.Context, n int) (ok bool, retryAfter time.Duration, err error) {
	if n < 1 || n > l.limit.Burst {
		return false, 0, fmt.Errorf("redis limiter %s: %d units: want 1..%d (the burst)", l.bucket, n, l.limit.Burst)
	}
	left, err := l.PausedFor(ctx)
	if err != nil {
		return false, 0, err
	}
	if left > 0 {
		return false, left, nil
	}
	res, err := l.gcra.AllowN(ctx, l.budget, l.rate, n)
	if err != nil {
		return false, 0, fmt.Errorf("redis limiter %s: allow %d: %w", l.bucket, n, err)
	}
	if res.Allowed >= n {
		return true, 0, nil
	}
	return false, max(res.RetryAfter, minRetry), nil
}

// pauseScript extends the bucket's pause to at least now + ARGV[1] ms (by
// Redis' clock, so every process agrees) and returns the ms left. The key's
// TTL only cleans up: it outlives the pause by pauseKeyGrace, since the
// embedded server's TTLs advance in coarse ticks and could end it early.
//
//	KEYS[1] pause key: the pause's end, in ms since the epoch
//	ARGV[1] pause length in ms
//	ARGV[2] the key's TTL in ms
var pauseScript = goredis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if ends > cur then
  redis.call('SET', KEYS[1], string.format('%.0f', ends), 'PX', ARGV[2])
  cur = ends
end
return cur - now`)

// pauseKeyGrace is how long a pause key outlives its pause.
const pauseKeyGrace = 10 * time.Second

// pauseLeftScript returns the ms left of the bucket's pause, 0 when none.
var pauseLeftScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local t = redis.call('TIME')
local left = (tonumber(v) or 0) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if left > 0 then return left end
return 0`)

// Pause stops grants on the bucket for d, for every process sharing it (a
// platform's 429 / flood control); a longer pause already in place is kept.
// Waiters see it on their next try.
func (l *Limiter) Pause(ctx context.Context, d time.Duration) error {
	ms := d.Milliseconds()
	if ms < 1 {
		return fmt.Errorf("redis limiter %s: pause %s: want at least 1ms", l.bucket, d)
	}
	ttl := ms + pauseKeyGrace.Milliseconds()
	if err := pauseScript.Run(ctx, l.client, []string{l.pause}, ms, ttl).Err(); err != nil {
		return fmt.Errorf("redis limiter %s: pause %s: %w", l.bucket, d, err)
	}
	return nil
}

// PausedFor returns how long the bucket's pause still lasts, 0 when it is
// not paused.
func (l *Limiter) PausedFor(ctx context.Context) (time.Duration, error) {
	ms, err := pauseLeftScript.Run(ctx, l.client, []string{l.pause}).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis limiter %s: read pause: %w", l.bucket, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
