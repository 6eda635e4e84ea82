package redis

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

// limiterBackends are the Redis servers the limiter must work on: the real
// one, a bare miniredis, and the embedded default Open("") starts.
var limiterBackends = append(backends[:len(backends):len(backends)], backend{name: "embedded", client: embeddedRedis})

var (
	embeddedOnce   sync.Once
	embeddedClient goredis.UniversalClient
	embeddedErr    error
)

// embeddedRedis is the zero-config in-process Redis of Open(""), shared by
// the package's tests.
func embeddedRedis(t testing.TB) goredis.UniversalClient {
	t.Helper()
	embeddedOnce.Do(func() {
		embeddedClient, _, embeddedErr = Open(context.Background(), "", quietLogger)
	})
	if embeddedErr != nil {
		t.Fatalf("open embedded Redis: %v", embeddedErr)
	}
	return embeddedClient
}

// process is one "process" sharing a bucket: its own go-redis client (own
// connection pool) and Store on the same Redis and prefix.
func process(t *testing.T, c goredis.UniversalClient, prefix string) *Store {
	t.Helper()
	s, err := New(ownClient(t, c, 0, 0), Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twoProcesses returns two limiters on one bucket, each through its own client.
func twoProcesses(t *testing.T, c goredis.UniversalClient, limit Limit) (*Limiter, *Limiter) {
	t.Helper()
	prefix := newTestStore(t, c, Config{}).Config().Prefix // cleans the prefix up afterwards
	bucket := "vk:" + prefix
	var out [2]*Limiter
	for i := range out {
		l, err := process(t, c, prefix).Limiter(bucket, limit)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = l
	}
	return out[0], out[1]
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	cases := []suiteCase{
		{"SharedRateAcrossProcesses", testSharedRate},
		{"PauseStopsEveryProcess", testPause},
		{"WaitHonoursContext", testWaitContext},
		{"AllowAndBurst", testAllowBurst},
	}
	runSuite(t, limiterBackends, cases)
}

// testSharedRate saturates one bucket from two processes, four waiters each,
// and measures the combined grant rate.
func testSharedRate(t *testing.T, c goredis.UniversalClient) {
	const (
		rate = 20
		// A few units of burst let a waiter that wakes late (a busy
		// machine) catch up instead of losing the budget it slept through.
		burst    = 5
		duration = 3 * time.Second
	)
	a, b := twoProcesses(t, c, Limit{Rate: rate, Burst: burst})
	ctx, cancel := context.WithTimeout(t.Context(), duration)
	defer cancel()
	var grants [2]atomic.Int64
	var wg sync.WaitGroup
	for i, l := range []*Limiter{a, b} {
		for range 4 {
			wg.Go(func() {
				for l.Wait(ctx, 1) == nil {
					grants[i].Add(1)
				}
			})
		}
	}
	start := time.Now()
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	total := grants[0].Load() + grants[1].Load()
	ceiling := float64(burst) + rate*elapsed // GCRA: the burst, then the rate
	floor := 0.9 * rate * duration.Seconds()
	t.Logf("%d grants in %.2fs (a %d, b %d): %.1f/s for a limit of %d/s",
		total, elapsed, grants[0].Load(), grants[1].Load(), float64(total)/elapsed, rate)
	if float64(total) > ceiling*1.02 {
		t.Errorf("%d grants in %.2fs: over the limit (at most %.0f)", total, elapsed, ceiling)
	}
	if float64(total) < floor {
		t.Errorf("%d grants in %.2fs: under 90%% of the limit (%.0f) while saturated", total, elapsed, floor)
	}
	for i := range grants {
		if grants[i].Load() < total/10 {
			t.Errorf("process %d got %d of %d grants: the budget is not shared", i, grants[i].Load(), total)
		}
	}
}

func testPause(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, b := twoProcesses(t, c, Limit{Rate: 1000, Burst: 10})
	if left, err := b.PausedFor(ctx); err != nil || left != 0 {
		t.Fatalf("PausedFor before any pause = %s, %v", left, err)
	}
	const pause = 400 * time.Millisecond
	start := time.Now() // the pause ends no earlier than start + pause
	if err := a.Pause(ctx, pause); err != nil {
		t.Fatal(err)
	}
	if err := a.Pause(ctx, 10*time.Millisecond); err != nil { // a shorter pause keeps the longer one
		t.Fatal(err)
	}
	const clockSkew = 5 * time.Millisecond // Redis' clock against ours
	left, err := b.PausedFor(ctx)
	if err != nil || left < pause-time.Since(start)-clockSkew || left > pause {
		t.Fatalf("the other process sees a pause of %s after %s (%v), want the rest of %s", left, time.Since(start), err, pause)
	}
	ok, retry, err := b.Allow(ctx, 1)
	if err != nil || ok || retry < pause-time.Since(start)-clockSkew {
		t.Fatalf("Allow during the pause = %v, %s after %s, %v", ok, retry, time.Since(start), err)
	}
	if err := b.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < pause-clockSkew {
		t.Fatalf("Wait returned %s after the pause of %s began", waited, pause)
	}
	if left, err := a.PausedFor(ctx); err != nil || left != 0 {
		t.Fatalf("PausedFor after the pause = %s, %v", left, err)
	}
	if err := a.Pause(ctx, 0); err == nil {
		t.Fatal("a zero pause was accepted")
	}
}

func testWaitContext(t *testing.T, c goredis.UniversalClient) {
	a, b := twoProcesses(t, c, Limit{Rate: 1, Period: 10 * time.Second})
	if err := a.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := b.Wait(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("Wait on an empty budget = %v after %s; want the deadline after about 100ms", err, time.Since(start))
	}
	// Cancelled inside a pause too.
	if err := a.Pause(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := b.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait in a pause = %v, want context.Canceled", err)
	}
}

func testAllowBurst(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, b := twoProcesses(t, c, Limit{Rate: 3, Period: 30 * time.Second, Burst: 3}) // one unit every 10s
	if ok, _, err := a.Allow(ctx, 3); err != nil || !ok {
		t.Fatalf("Allow(burst) on a full budget = %v, %v", ok, err)
	}
	ok, retry, err := b.Allow(ctx, 1)
	if err != nil || ok || retry <= 9*time.Second || retry > 10*time.Second {
		t.Fatalf("Allow after the burst = %v, %s, %v; want a refusal for the next 10s", ok, retry, err)
	}
	for _, n := range []int{0, -1, 4} {
		if _, _, err := a.Allow(ctx, n); err == nil || !strings.Contains(err.Error(), "burst") {
			t.Errorf("Allow(%d) = %v, want an error naming the burst", n, err)
		}
		if err := a.Wait(ctx, n); err == nil {
			t.Errorf("Wait(%d) accepted", n)
		}
	}
}

func TestLimiterConfig(t *testing.T) {
	t.Parallel()
	s, err := New(goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}), Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bucket string
		limit        Limit
		wantErr      string // "" means valid
	}{
		{"defaults", "vk:777", Limit{Rate: 20}, ""},
		{"per minute", "tg_bot-1.x", Limit{Rate: 20, Period: time.Minute, Burst: 20}, ""},
		{"no rate", "vk:1", Limit{}, "rate 0"},
		{"negative period", "vk:1", Limit{Rate: 1, Period: -time.Second}, "period"},
		{"negative burst", "vk:1", Limit{Rate: 1, Burst: -1}, "burst -1"},
		{"empty bucket", "", Limit{Rate: 1}, "empty"},
		{"brace in bucket", "vk:{1}", Limit{Rate: 1}, "only letters"},
		{"space in bucket", "vk 1", Limit{Rate: 1}, "only letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := s.Limiter(tt.bucket, tt.limit)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Limiter = %v", err)
				}
				if got := l.Limit(); got.Period == 0 || got.Burst == 0 || l.Bucket() != tt.bucket {
					t.Fatalf("defaults not applied: %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Limiter = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if got := (Limit{Rate: 20}).withDefaults(); got != (Limit{Rate: 20, Period: time.Second, Burst: 1}) {
		t.Fatalf("defaults = %+v", got)
	}
}

func TestLimiterKeys(t *testing.T) {
	t.Parallel()
	k := keys{prefix: "chathub"}
	if got := k.rateBudget("vk:777"); got != "chathub:{rl:vk:777}:budget" {
		t.Errorf("budget key %q", got)
	}
	if got := k.ratePause("vk:777"); got != "chathub:{rl:vk:777}:pause" {
		t.Errorf("pause key %q", got)
	}
	// redis_rate stores the budget under "rate:" + key; the hash tag keeps
	// it in the pause key's slot, and apart from the chat keys of user 777.
	if clusterSlot("rate:"+k.rateBudget("vk:777")) != clusterSlot(k.ratePause("vk:777")) {
		t.Error("budget and pause keys are in different slots")
	}
}

// TestLimiterRedisDown: without Redis nothing is granted, and the error
// comes at once rather than after the caller's deadline.
func TestLimiterRedisDown(t *testing.T) {
	t.Parallel()
	srv := miniredis.RunT(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	s, err := New(c, Config{Prefix: randomPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Limiter("vk:1", Limit{Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err = l.Wait(ctx, 1)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("Wait with Redis down = %v after %s; want a Redis error at once", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "vk:1") {
		t.Fatalf("error %q does not name the bucket", err)
	}
	if err := l.Pause(ctx, time.Second); err == nil {
		t.Fatal("Pause with Redis down succeeded")
	}
}
