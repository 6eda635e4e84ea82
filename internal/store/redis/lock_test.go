package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

func TestLockChatExcludes(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, realRedis(t), Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "lock-1"}
	var inside, peak, total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				unlock, err := s.LockChat(context.Background(), key)
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > peak.Load() {
					peak.Store(n)
				}
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				total.Add(1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if peak.Load() != 1 || total.Load() != 40 {
		t.Fatalf("peak holders %d, sections %d", peak.Load(), total.Load())
	}
}

func TestLockChatWaitRespectsContext(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, realRedis(t), Config{})
	key := messenger.ChatKey{Platform: messenger.VK, ID: "lock-2"}
	unlock, err := s.LockChat(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.LockChat(ctx, key); err == nil {
		t.Fatal("second holder got a held lock")
	}
	unlock()
	unlock2, err := s.LockChat(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}
