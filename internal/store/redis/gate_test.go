package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/faultproxy"
)

func testGateDedupes(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	enter := func(what string, key messenger.ChatKey, id string, wantDup bool) func(context.Context, bool) error {
		t.Helper()
		leave, dup, err := s.Enter(ctx, key, id, time.Second)
		if err != nil || dup != wantDup || (leave == nil) != wantDup {
			t.Fatalf("%s: Enter = leave %v, dup %v, %v; want dup %v", what, leave != nil, dup, err, wantDup)
		}
		return leave
	}
	leave := enter("first delivery", chat, "1001", false)
	if err := leave(ctx, false); err != nil {
		t.Fatal(err)
	}
	leave = enter("after a failed attempt the update is handled again", chat, "1001", false)
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	enter("after it was handled: a duplicate", chat, "1001", true)
	other := messenger.ChatKey{Platform: messenger.VK, ID: chat.ID}
	leave = enter("same id in another chat is another update", other, "1001", false)
	_ = leave(ctx, true)
	leave = enter("no update id: only the turn", chat, "", false)
	_ = leave(ctx, true)
	leave = enter("and never a duplicate", chat, "", false)
	_ = leave(ctx, true)
}

func testGateExcludes(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "gate-excl"}
	var inside, peak, total atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				leave, dup, err := s.Enter(context.Background(), key, "", time.Second)
				if err != nil || dup {
					t.Error(w, i, dup, err)
					return
				}
				n := inside.Add(1)
				if n > peak.Load() {
					peak.Store(n)
				}
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				total.Add(1)
				if err := leave(context.Background(), true); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if peak.Load() != 1 || total.Load() != 40 {
		t.Fatalf("peak holders %d, turns %d; want 1 and 40", peak.Load(), total.Load())
	}
}

func testGateWaitRespectsContext(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.VK, ID: "gate-ctx"}
	leave, _, err := s.Enter(context.Background(), key, "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, _, err := s.Enter(ctx, key, "b", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder: %v; want the deadline", err)
	}
	if err := leave(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	leave, dup, err := s.Enter(context.Background(), key, "b", time.Minute)
	if err != nil || dup {
		t.Fatalf("after leave: dup %v, %v", dup, err)
	}
	_ = leave(context.Background(), true)
}

// testGateConfirmsOutbox: leaving a handled update drops the replies its
// state recorded, and a record without a conversation disappears.
func testGateConfirmsOutbox(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	tests := []struct {
		name     string
		data     []byte
		update   string // recorded in the state
		leaveFor string // the update whose turn is left
		handled  bool
		want     dialog.StoredState // after leave (Rev checked > 0 unless gone)
		gone     bool
	}{
		{name: "conversation: outbox dropped, state kept", data: []byte("st"), update: "u1", leaveFor: "u1", handled: true,
			want: dialog.StoredState{Data: []byte("st"), Update: "u1"}},
		{name: "ended conversation: the record goes", update: "u2", leaveFor: "u2", handled: true, gone: true},
		{name: "failed attempt keeps the outbox", data: []byte("st"), update: "u3", leaveFor: "u3",
			want: dialog.StoredState{Data: []byte("st"), Update: "u3", Outbox: []byte("[reply]")}},
		{name: "another update's outbox is not touched", data: []byte("st"), update: "u4", leaveFor: "u5", handled: true,
			want: dialog.StoredState{Data: []byte("st"), Update: "u4", Outbox: []byte("[reply]")}},
	}
	for i, tt := range tests {
		key := messenger.ChatKey{Platform: messenger.Telegram, ID: "outbox-" + string(rune('a'+i))}
		if _, err := s.SaveState(ctx, key, dialog.StoredState{Data: tt.data, Update: tt.update, Outbox: []byte("[reply]")}); err != nil {
			t.Fatalf("%s: save: %v", tt.name, err)
		}
		leave, _, err := s.Enter(ctx, key, tt.leaveFor, time.Second)
		if err != nil {
			t.Fatalf("%s: enter: %v", tt.name, err)
		}
		if err := leave(ctx, tt.handled); err != nil {
			t.Fatalf("%s: leave: %v", tt.name, err)
		}
		got, err := s.LoadState(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if tt.gone {
			if got.Rev != 0 || c.Exists(ctx, s.keys.state(key)).Val() != 0 {
				t.Errorf("%s: state %+v left; want it gone", tt.name, got)
			}
			continue
		}
		if got.Rev == 0 || string(got.Data) != string(tt.want.Data) || got.Update != tt.want.Update || string(got.Outbox) != string(tt.want.Outbox) {
			t.Errorf("%s: state = %+v; want %+v", tt.name, got, tt.want)
		}
	}
}

// testGateTurnExpires: a holder that died (never left) blocks the chat only
// until its TTL; its late leave then reports the lost turn and does not
// release the new holder's.
func testGateTurnExpires(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "gate-ttl"}
	dead, _, err := s.Enter(ctx, key, "x", 80*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	leave, dup, err := s.Enter(wait, key, "x", time.Minute)
	if err != nil || dup {
		t.Fatalf("after the dead holder's TTL: dup %v, %v", dup, err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("took the turn after %s while it was held", waited)
	}
	if err := dead(ctx, true); !errors.Is(err, ErrTurnLost) {
		t.Fatalf("late leave: %v; want ErrTurnLost", err)
	}
	if n := c.Exists(ctx, s.keys.lock(key)).Val(); n != 1 {
		t.Fatal("a late leave released the new holder's turn")
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
}

// testUpdateRecord: a state saved with an update id and replies keeps them;
// one without a conversation lives for DedupeTTL, not StateTTL.
func testUpdateRecord(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{StateTTL: time.Hour, DedupeTTL: 10 * time.Minute})
	key := messenger.ChatKey{Platform: messenger.VK, ID: "record"}
	rev, err := s.SaveState(ctx, key, dialog.StoredState{Data: []byte("st"), Update: "u1", Outbox: []byte("[r1]")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadState(ctx, key)
	if err != nil || got.Rev != rev || got.Update != "u1" || string(got.Outbox) != "[r1]" || string(got.Data) != "st" {
		t.Fatalf("LoadState = %+v, %v", got, err)
	}
	// The conversation ends: only the record stays, with the shorter TTL.
	if _, err := s.SaveState(ctx, key, dialog.StoredState{Rev: rev, Update: "u2", Outbox: []byte("[bye]")}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LoadState(ctx, key)
	if got.Data != nil || got.Update != "u2" || string(got.Outbox) != "[bye]" {
		t.Fatalf("record = %+v", got)
	}
	if pttl := c.PTTL(ctx, s.keys.state(key)).Val(); pttl > 10*time.Minute || pttl < 9*time.Minute {
		t.Fatalf("record PTTL = %s; want about DedupeTTL", pttl)
	}
	// A save with no replies drops the previous outbox.
	if _, err := s.SaveState(ctx, key, dialog.StoredState{Rev: got.Rev, Data: []byte("st2"), Update: "u3"}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.LoadState(ctx, key); got.Outbox != nil || got.Update != "u3" {
		t.Fatalf("after a save without replies: %+v", got)
	}
}

// TestUnfinishedLeaveIsFinishedByTheNextEnter: Redis is unreachable when a
// turn is left; once it is back, this process's next turn of the chat
// finishes the old one at once (instead of waiting for its own stale lock
// until the TTL) and the update it handled counts as handled.
func TestUnfinishedLeaveIsFinishedByTheNextEnter(t *testing.T) {
	t.Parallel()
	opt := realRedis(t).(*goredis.Client).Options()
	proxy := faultproxy.Start(t, opt.Addr)
	c := goredis.NewClient(&goredis.Options{Addr: proxy.Addr(), DB: opt.DB, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() }) // after the store's own cleanup
	s := newTestStore(t, c, Config{})
	ctx := t.Context()
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "unfinished"}
	for _, handled := range []bool{false, true} {
		id := fmt.Sprint("u-", handled)
		leave, _, err := s.Enter(ctx, key, id, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		proxy.Cut()
		if err := leave(ctx, handled); err == nil {
			t.Fatal("leave succeeded with Redis cut")
		}
		if _, _, err := s.Enter(ctx, key, "next", time.Minute); err == nil {
			t.Fatal("Enter succeeded with Redis cut")
		}
		proxy.Restore()
		wait, cancel := context.WithTimeout(ctx, 2*time.Second)
		start := time.Now()
		next, dup, err := s.Enter(wait, key, id, time.Minute)
		cancel()
		switch {
		case err != nil:
			t.Fatalf("handled=%v: Enter after Redis is back: %v (after %s); want the old turn finished", handled, err, time.Since(start))
		case dup != handled:
			t.Fatalf("handled=%v: the update's redelivery dup = %v", handled, dup)
		}
		if next != nil {
			_ = next(ctx, true)
		}
	}
}
