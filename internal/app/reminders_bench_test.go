package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/remind"
	"github.com/chathub/chathub/internal/store/storetest"
)

// BenchmarkPendingReminders starts PENDING_REMINDERS (default 100,000)
// conversations through the real dialog handler on PostgreSQL + Redis,
// each left at a question with remind:, so each has a reminder pending in
// the shared queue. It reports what the queue costs in Redis (MEMORY USAGE
// of its three keys), Redis as a whole (used_memory growth: conversation
// states and queue), the process (Go heap growth after GC: nothing per
// reminder stays in it), and what a worker's claim costs while none is
// due among them.
func BenchmarkPendingReminders(b *testing.B) {
	storetest.SkipUnlessServices(b)
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("PENDING_REMINDERS")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		runPendingReminders(b, n)
	}
}

func runPendingReminders(b *testing.B, n int) {
	ctx := context.Background()
	cfg := fullStepConfig(b)
	cfg.ScenariosDir = b.TempDir()
	if err := os.WriteFile(filepath.Join(cfg.ScenariosDir, "colors.yaml"), []byte(colorsScenario), 0o644); err != nil {
		b.Fatal(err)
	}
	stores, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer stores.Close()
	h, err := stores.handler(cfg, discardSender{}, true)
	if err != nil {
		b.Fatal(err)
	}
	opts, _ := goredis.ParseURL(cfg.RedisURL)
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	redisBefore, heapBefore := redisUsedMemory(b, rdb), heapAfterGC()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				key := messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(i, 10)}
				if err := h.Begin(ctx, key, "colors", nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if got, err := stores.State.PendingReminders(ctx); err != nil || got != int64(n) {
		b.Fatalf("%d reminders pending (%v); want %d", got, err, n)
	}
	redisGrowth := redisUsedMemory(b, rdb) - redisBefore
	heapGrowth := heapAfterGC() - heapBefore
	var queue int64
	for _, k := range []string{"due", "item", "lease"} {
		// SAMPLES 0: every element, not an estimate.
		v, err := rdb.MemoryUsage(ctx, cfg.RedisPrefix+":{remind}:"+k, 0).Result()
		if err != nil && err != goredis.Nil {
			b.Fatal(err)
		}
		queue += v
	}
	const claims = 1000
	claimStart := time.Now()
	for range claims {
		rs, err := stores.State.ClaimReminders(ctx, time.Now(), remind.DefaultLease, 8)
		if err != nil || len(rs) != 0 {
			b.Fatalf("claim: %d, %v; want none due", len(rs), err)
		}
	}
	b.ReportMetric(float64(n), "reminders")
	b.ReportMetric(float64(queue)/(1<<20), "queue-MB")
	b.ReportMetric(float64(queue)/float64(n), "queue-B/reminder")
	b.ReportMetric(redisGrowth/(1<<20), "redis-MB")
	b.ReportMetric(redisGrowth/float64(n), "redis-B/conv")
	b.ReportMetric(heapGrowth/(1<<20), "heap-growth-MB")
	b.ReportMetric(float64(time.Since(claimStart).Microseconds())/claims, "claim-µs")
	b.ReportMetric(float64(n)/took.Seconds(), "starts/s")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}
