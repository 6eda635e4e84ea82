package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
)

// storePair returns two Stores on c sharing one random prefix, as two
// processes of one deployment would.
func storePair(t *testing.T, c goredis.UniversalClient, cfg Config) (*Store, *Store) {
	t.Helper()
	a := newTestStore(t, c, cfg)
	cfg.Prefix = a.cfg.Prefix
	b, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(); _ = a.Close() })
	return a, b
}

// crash stops s's heartbeat and gives back its restart slot without
// deleting its liveness key: what kill -9 leaves behind.
func (s *Store) crash() {
	o := s.owners
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started {
		close(o.stop)
		<-o.done
		o.started = false
		o.live.Store(false)
	}
	if o.lockDir != nil {
		o.lockDir.abandon()
		o.lockDir = nil
	}
}

// TestGateOwners: a turn whose holder stopped is taken over at once (after
// its liveness expired, or at once when a restarted process recognises its
// predecessor), never while the holder lives.
func TestGateOwners(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"StoppedHolderTakenOver", testOwnerStoppedTakenOver},
		{"LiveHolderWaitedFor", testOwnerLiveWaitedFor},
		{"RestartRecognisesPredecessor", testOwnerRestart},
		{"LiveNeighbourIsNoPredecessor", testOwnerLiveNeighbour},
		{"LapsedHolderBackIsWaitedFor", testOwnerLapsedBack},
	})
}

const turnTTL = time.Minute

func testOwnerStoppedTakenOver(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, b := storePair(t, c, Config{LivenessTTL: 300 * time.Millisecond})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "owner-stopped"}
	dead, _, err := a.Enter(ctx, key, "u1", turnTTL)
	if err != nil {
		t.Fatal(err)
	}
	a.crash()
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	leave, dup, err := b.Enter(wait, key, "u1", turnTTL)
	if err != nil || dup {
		t.Fatalf("turn of a stopped holder: dup %v, %v; want it taken over", dup, err)
	}
	t.Logf("taken over after %s (liveness TTL 300ms, turn TTL %s)", time.Since(start), turnTTL)
	if err := dead(ctx, true); !errors.Is(err, ErrTurnLost) {
		t.Fatalf("the stopped holder's late leave: %v; want ErrTurnLost", err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
}

func testOwnerLiveWaitedFor(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, b := storePair(t, c, Config{LivenessTTL: 300 * time.Millisecond})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "owner-live"}
	leave, _, err := a.Enter(ctx, key, "u1", turnTTL)
	if err != nil {
		t.Fatal(err)
	}
	// Several liveness periods pass: the live holder keeps its turn.
	wait, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if _, _, err := b.Enter(wait, key, "u2", turnTTL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter while a live holder has the chat: %v; want to wait until the deadline", err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatalf("the live holder's leave: %v", err)
	}
}

func testOwnerRestart(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	dir := t.TempDir()
	// A long liveness TTL: only recognising the predecessor can be quick.
	a, b := storePair(t, c, Config{LivenessTTL: time.Hour})
	if n, err := a.ClaimRestart(ctx, dir); err != nil || n != 0 {
		t.Fatalf("first start: %d predecessors, %v", n, err)
	}
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "owner-restart"}
	if _, _, err := a.Enter(ctx, key, "u1", turnTTL); err != nil {
		t.Fatal(err)
	}
	a.crash()
	if n, err := b.ClaimRestart(ctx, dir); err != nil || n != 1 {
		t.Fatalf("restart: %d predecessors, %v; want 1", n, err)
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	leave, dup, err := b.Enter(wait, key, "u1", turnTTL)
	if err != nil || dup {
		t.Fatalf("the predecessor's turn after a restart: dup %v, %v; want it taken at once", dup, err)
	}
	_ = leave(ctx, true)
}

func testOwnerLiveNeighbour(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	dir := t.TempDir()
	a, b := storePair(t, c, Config{LivenessTTL: time.Hour})
	if _, err := a.ClaimRestart(ctx, dir); err != nil {
		t.Fatal(err)
	}
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "owner-neighbour"}
	leave, _, err := a.Enter(ctx, key, "u1", turnTTL)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := b.ClaimRestart(ctx, dir); err != nil || n != 0 {
		t.Fatalf("a second live process on the host: %d predecessors, %v; want 0", n, err)
	}
	wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, _, err := b.Enter(wait, key, "u2", turnTTL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter while the live neighbour has the chat: %v; want to wait", err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
}

// testOwnerLapsedBack: a live holder whose liveness key lapsed for a while
// (Redis out of its reach for longer than the TTL) loses the turn it held
// then, but once its heartbeat writes the key again its new turns are
// waited for: a lapse is not remembered as death.
func testOwnerLapsedBack(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, b := storePair(t, c, Config{LivenessTTL: time.Hour})
	first := messenger.ChatKey{Platform: messenger.Telegram, ID: "owner-lapsed-1"}
	if _, _, err := a.Enter(ctx, first, "u1", turnTTL); err != nil {
		t.Fatal(err)
	}
	live := a.keys.live(a.owners.instance)
	if err := c.Del(ctx, live).Err(); err != nil { // the lapse
		t.Fatal(err)
	}
	leave, _, err := b.Enter(ctx, first, "u1", turnTTL)
	if err != nil {
		t.Fatalf("turn of a holder without liveness: %v; want it taken over", err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, live, "1", time.Hour).Err(); err != nil { // its heartbeat again
		t.Fatal(err)
	}
	second := messenger.ChatKey{Platform: messenger.Telegram, ID: "owner-lapsed-2"}
	aLeave, _, err := a.Enter(ctx, second, "u2", turnTTL)
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 800*time.Millisecond)
	defer cancel()
	if _, _, err := b.Enter(wait, second, "u3", turnTTL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter while the holder is live again: %v; want to wait until the deadline", err)
	}
	if err := aLeave(ctx, true); err != nil {
		t.Fatal(err)
	}
}
