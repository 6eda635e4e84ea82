package vk_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/bots/vk"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/vktest"
	redisstore "github.com/chathub/chathub/internal/store/redis"
	"github.com/chathub/chathub/internal/store/storetest"
)

// sharedLimiter is one "process" on the community's Redis budget: its own
// Redis client, store and limiter on the shared bucket.
func sharedLimiter(t testing.TB, prefix string, groupID int) *redisstore.Limiter {
	t.Helper()
	storetest.SkipUnlessServices(t)
	client, closeRedis, err := redisstore.Open(context.Background(), storetest.RedisURL(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	store, err := redisstore.New(client, redisstore.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.Limiter("vk:"+strconv.Itoa(groupID), redisstore.Limit{Rate: vk.DefaultRequestsPerSecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newBots builds n bots ("processes") on srv; shared puts them on one Redis
// budget, otherwise each has the default in-process limiter.
func newBots(t testing.TB, srv *vktest.Server, n int, shared bool, maxBatch int) []*vk.Bot {
	t.Helper()
	prefix := storetest.Name(t, "t")
	bots := make([]*vk.Bot, n)
	for i := range bots {
		cfg := vk.Config{
			Token: srv.Token(), GroupID: srv.GroupID(), APIURL: srv.URL(), HTTPClient: srv.Client(),
			MaxBatch: maxBatch, Logger: slog.New(slog.DiscardHandler),
		}
		if shared {
			cfg.Limiter = sharedLimiter(t, prefix, srv.GroupID())
		}
		b, err := vk.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		bots[i] = b
	}
	return bots
}

// TestConcurrentRepliesWithinBudget answers 200 chats at once, as the
// dispatcher's workers do under load, against the fake's 20 requests/s.
func TestConcurrentRepliesWithinBudget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		processes int
		shared    bool
		maxBatch  int
	}{
		{"one process, in-process limiter", 1, false, vk.MaxBatch},
		{"two processes, shared Redis limiter", 2, true, vk.MaxBatch},
		// 40+ requests: past the first second, so the pacing (not the
		// fake's initial allowance of 20) keeps error 6 away.
		{"two processes, shared Redis limiter, batches of 5", 2, true, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vktest.New(t) // 20 requests/s per token, error 6 beyond
			bots := newBots(t, srv, tt.processes, tt.shared, tt.maxBatch)
			const chats = 200
			var wg sync.WaitGroup
			var failed atomic.Int32
			ids := make([]string, chats)
			start := time.Now()
			for i := range chats {
				wg.Go(func() {
					ctx := messenger.WithIdempotencyKey(context.Background(), fmt.Sprintf("upd-%d/0", i))
					sent, err := bots[i%len(bots)].Send(ctx, messenger.OutMessage{
						Chat: messenger.ChatKey{Platform: messenger.VK, ID: strconv.Itoa(1000 + i)}, Text: fmt.Sprintf("Ответ %d", i),
					})
					if err != nil {
						failed.Add(1)
						t.Errorf("reply %d: %v", i, err)
					}
					ids[i] = sent.MessageID
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			requests := srv.Requests()
			t.Logf("%d replies in %s with %d requests (%d executes); busiest second: %d requests",
				chats, elapsed.Round(time.Millisecond), requests, srv.Calls("execute"), srv.MaxRequestsIn(time.Second))
			if srv.RateLimited() != 0 {
				t.Errorf("%d requests refused with error 6", srv.RateLimited())
			}
			for i := range chats {
				got := srv.Messages(1000 + i)
				if len(got) != 1 || got[0].Text != fmt.Sprintf("Ответ %d", i) || strconv.Itoa(got[0].ID) != ids[i] {
					t.Fatalf("chat %d got %+v (sent id %s)", 1000+i, got, ids[i])
				}
			}
			// Replies ride maxBatch to a request, plus a few that find the
			// budget free and go alone.
			if requests > chats/tt.maxBatch+4*tt.processes {
				t.Errorf("%d requests for %d replies: not coalesced", requests, chats)
			}
			// Evenly spaced at the source; one more in a sliding second is
			// arrival jitter (the fake's bucket, like VK, tolerates it).
			if srv.MaxRequestsIn(time.Second) > vktest.DefaultRateLimit+1 {
				t.Errorf("%d requests within one second", srv.MaxRequestsIn(time.Second))
			}
			budget := time.Duration(requests-1) * time.Second / vk.DefaultRequestsPerSecond
			if elapsed < budget*9/10 || elapsed > budget+2*time.Second {
				t.Errorf("took %s for %d requests; the budget allows them in %s", elapsed, requests, budget)
			}
		})
	}
}

// BenchmarkReplies measures replies per second through the adapter against
// the fake with VK's 20 requests/s on, 256 chats answered at a time:
// coalesced into executes (up to 20 × 25 = 500 replies/s), and one request
// per reply for comparison (at most 20/s).
//
//	go test -run '^$' -bench 'BenchmarkReplies/execute' -benchtime 2000x ./bots/vk/
//	go test -run '^$' -bench 'BenchmarkReplies/one-per-request' -benchtime 100x ./bots/vk/
func BenchmarkReplies(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
		shared   bool
	}{
		{"execute", vk.MaxBatch, false},
		{"execute-shared-redis", vk.MaxBatch, true},
		{"one-per-request", 1, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := vktest.New(b)
			bot := newBots(b, srv, 1, bc.shared, bc.maxBatch)[0]
			const senders = 256
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range senders {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						ctx := messenger.WithIdempotencyKey(context.Background(), fmt.Sprintf("bench-%d/0", i))
						chat := messenger.ChatKey{Platform: messenger.VK, ID: strconv.FormatInt(i, 10)}
						if _, err := bot.Send(ctx, messenger.OutMessage{Chat: chat, Text: "Спасибо за ответ!"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if srv.RateLimited() != 0 {
				b.Fatalf("%d requests refused with error 6", srv.RateLimited())
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "replies/s")
			b.ReportMetric(float64(srv.Requests())/elapsed.Seconds(), "requests/s")
			b.ReportMetric(float64(b.N)/float64(srv.Requests()), "replies/request")
		})
	}
}
