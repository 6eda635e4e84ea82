package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/storetest"
)

// BenchmarkIdleConversations starts IDLE_CONVERSATIONS (default 100,000)
// portrait conversations through the real handler on PostgreSQL + Redis and
// leaves them waiting at their first question. It reports what they cost in
// Redis (used_memory growth) and in the process (Go heap growth after GC):
// conversation state lives in Redis, so the process should not grow with it.
func BenchmarkIdleConversations(b *testing.B) {
	storetest.SkipUnlessServices(b)
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("IDLE_CONVERSATIONS")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		runIdle(b, n)
	}
}

func runIdle(b *testing.B, n int) {
	ctx := context.Background()
	cfg := fullStepConfig(b)
	stores, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer stores.Close()
	h, err := stores.Handler(cfg, discardSender{})
	if err != nil {
		b.Fatal(err)
	}
	opts, _ := goredis.ParseURL(cfg.RedisURL)
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	redisBefore, heapBefore := redisUsedMemory(b, rdb), heapAfterGC()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(i, 10)}
				if err := h.Begin(ctx, key, "portrait", nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	redisGrowth := redisUsedMemory(b, rdb) - redisBefore
	heapGrowth := heapAfterGC() - heapBefore
	b.ReportMetric(float64(n), "conversations")
	b.ReportMetric(redisGrowth/(1<<20), "redis-MB")
	b.ReportMetric(redisGrowth/float64(n), "redis-B/conv")
	b.ReportMetric(heapGrowth/(1<<20), "heap-growth-MB")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// fullStepConfig is the production setup on the test services, isolated:
// its own schema and Redis key prefix, both removed when b ends.
func fullStepConfig(b testing.TB) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = storetest.PostgresURL(b)
	cfg.RedisURL = storetest.RedisURL()
	cfg.RedisPrefix = storetest.Name(b, "bench")
	cfg.ScenariosDir = "../../scenarios"
	b.Cleanup(func() {
		opts, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			b.Error(err)
			return
		}
		rdb := goredis.NewClient(opts)
		defer rdb.Close()
		cleanPrefix(b, rdb, cfg.RedisPrefix)
	})
	return cfg
}

func redisUsedMemory(b *testing.B, rdb *goredis.Client) float64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}

func heapAfterGC() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}

// cleanPrefix deletes the benchmark's keys from the shared Redis.
func cleanPrefix(b testing.TB, rdb *goredis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			rdb.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Del(ctx, batch...)
	}
	if err := iter.Err(); err != nil {
		b.Error(err)
	}
}
