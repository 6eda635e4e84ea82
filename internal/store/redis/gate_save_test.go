package redis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/faultproxy"
)

func TestSaveAtLeave(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"OneRoundTripBeforeAndOneAfter", testSaveAtLeaveTwoRoundTrips},
		{"NoTurnHeld", testSaveAtLeaveNoTurn},
		{"UnhandledKeepsTheRecord", testSaveAtLeaveUnhandled},
		{"StateChangedMeanwhile", testSaveAtLeaveConflict},
		{"EndedConversation", testSaveAtLeaveEnded},
		{"ParkedTurn", testSaveAtLeaveParked},
	})
}

// enterTurn takes the chat's turn for update id and loads its state, as
// the pipeline and the dialog do.
func enterTurn(t *testing.T, s *Store, key messenger.ChatKey, id string) (func(context.Context, bool) error, dialog.StoredState) {
	t.Helper()
	leave, dup, err := s.Enter(t.Context(), key, id, time.Minute)
	if err != nil || dup {
		t.Fatalf("Enter %s = dup %v, %v", id, dup, err)
	}
	st, err := s.LoadState(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return leave, st
}

// testSaveAtLeaveTwoRoundTrips: a turn whose state rides on its leave costs
// two commands in all (Enter with the state read, leave with the state
// write, the handled mark and the unlock), and leaves what SaveState and the
// old leave left: the state at the next revision with the update's id and
// no outbox, the update handled, the chat free.
func testSaveAtLeaveTwoRoundTrips(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s, counter := countedStore(t, c)
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "rt2"}
	rev, err := s.SaveState(ctx, key, dialog.StoredState{Data: []byte(`{"st":"name"}`), Update: "6"})
	if err != nil {
		t.Fatal(err)
	}
	// Warm up: the scripts are loaded into the server once per process.
	leave, _ := enterTurn(t, s, messenger.ChatKey{Platform: messenger.Telegram, ID: "rt2-warm"}, "1")
	s.SaveAtLeave(messenger.ChatKey{Platform: messenger.Telegram, ID: "rt2-warm"}, dialog.StoredState{Data: []byte(`{}`), Update: "1"})
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}

	before := counter.n.Load()
	leave, st := enterTurn(t, s, key, "7")
	if st.Rev != rev {
		t.Fatalf("loaded revision %d, want %d", st.Rev, rev)
	}
	if !s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"age"}`), Rev: st.Rev, Update: "7"}) {
		t.Fatal("SaveAtLeave = false with the turn held")
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := counter.n.Load() - before; got != 2 {
		t.Errorf("the turn sent %d commands, want 2", got)
	}
	got, err := s.LoadState(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rev != rev+1 || string(got.Data) != `{"st":"age"}` || got.Update != "7" || got.Outbox != nil {
		t.Fatalf("stored %+v; want rev %d, the new data, update 7, no outbox", got, rev+1)
	}
	if _, dup, err := s.Enter(ctx, key, "7", time.Minute); err != nil || !dup {
		t.Fatalf("redelivery of the update: dup %v, %v; want a duplicate", dup, err)
	}
	if n, _ := c.Exists(ctx, s.keys.lock(key)).Result(); n != 0 {
		t.Fatal("the chat is still locked after the leave")
	}
	if ttl := c.PTTL(ctx, s.keys.state(key)).Val(); ttl <= s.cfg.DedupeTTL {
		t.Fatalf("state TTL %s; want the state TTL (%s)", ttl, s.cfg.StateTTL)
	}
}

// testSaveAtLeaveNoTurn: without a turn held by this store SaveAtLeave
// keeps nothing and says so; after the leave, too.
func testSaveAtLeaveNoTurn(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	other := process(t, c, s.cfg.Prefix)
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "noturn"}
	st := dialog.StoredState{Data: []byte(`{}`), Update: "1"}
	if s.SaveAtLeave(key, st) {
		t.Fatal("SaveAtLeave = true with no turn held")
	}
	leave, _ := enterTurn(t, other, key, "1")
	if s.SaveAtLeave(key, st) {
		t.Fatal("SaveAtLeave = true for a turn another process holds")
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if other.SaveAtLeave(key, st) {
		t.Fatal("SaveAtLeave = true after the turn was left")
	}
	if got, _ := s.LoadState(ctx, key); got.Rev != 0 {
		t.Fatalf("a refused SaveAtLeave wrote %+v", got)
	}
}

// testSaveAtLeaveUnhandled: a turn left unhandled still writes its state
// (with the replies not sent as its record) and no handled mark, so the
// retry finds the record and resends from it.
func testSaveAtLeaveUnhandled(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "unhandled"}
	leave, st := enterTurn(t, s, key, "7")
	s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"age"}`), Rev: st.Rev, Update: "7"})
	// The send failed after the first reply: the record replaces the state handed over.
	s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"age"}`), Rev: st.Rev, Update: "7", Outbox: []byte(`{"from":1}`)})
	if err := leave(ctx, false); err != nil {
		t.Fatal(err)
	}
	leave, got := enterTurn(t, s, key, "7")
	defer leave(ctx, true)
	if got.Rev != 1 || got.Update != "7" || string(got.Outbox) != `{"from":1}` || string(got.Data) != `{"st":"age"}` {
		t.Fatalf("the retry loads %+v; want the state with the record of update 7", got)
	}
}

// testSaveAtLeaveConflict: the state changed during the turn (the client
// was erased): the turn's state is not written, the leave says so, and the
// update still counts as handled with the chat free.
func testSaveAtLeaveConflict(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "conflict"}
	if _, err := s.SaveState(ctx, key, dialog.StoredState{Data: []byte(`{"st":"name"}`), Update: "6"}); err != nil {
		t.Fatal(err)
	}
	leave, st := enterTurn(t, s, key, "7")
	if err := s.DeleteState(ctx, key); err != nil {
		t.Fatal(err)
	}
	s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"age"}`), Rev: st.Rev, Update: "7"})
	err := leave(ctx, true)
	if !errors.Is(err, ErrStateChanged) || errors.Is(err, ErrTurnLost) || errors.Is(err, dispatch.ErrTurnUnsaved) {
		t.Fatalf("leave = %v; want ErrStateChanged only", err)
	}
	if got, _ := s.LoadState(ctx, key); got.Rev != 0 {
		t.Fatalf("the erased state came back: %+v", got)
	}
	if _, dup, err := s.Enter(ctx, key, "7", time.Minute); err != nil || !dup {
		t.Fatalf("redelivery: dup %v, %v; want a duplicate", dup, err)
	}
	leave, _ = enterTurn(t, s, key, "8") // the chat is free, nothing kept to finish
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
}

// testSaveAtLeaveEnded: a handled turn that ended the conversation leaves
// no state behind (the record of its update is confirmed with it).
func testSaveAtLeaveEnded(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "ended"}
	if _, err := s.SaveState(ctx, key, dialog.StoredState{Data: []byte(`{"st":"phone"}`), Update: "6"}); err != nil {
		t.Fatal(err)
	}
	leave, st := enterTurn(t, s, key, "7")
	s.SaveAtLeave(key, dialog.StoredState{Rev: st.Rev, Update: "7"})
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, s.keys.state(key)).Result(); n != 0 {
		t.Fatal("an ended conversation left its state behind")
	}
}

// testSaveAtLeaveParked: a parked update's turn writes its state the same
// way and leaves the parked list.
func testSaveAtLeaveParked(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "parked-save"}
	hold, _ := enterTurn(t, s, key, "1")
	if parked, _, err := s.Park(ctx, &messenger.Update{ID: "2", Chat: key, Kind: messenger.KindMessage, Text: "x"}); err != nil || !parked {
		t.Fatalf("Park = %v, %v", parked, err)
	}
	if err := hold(ctx, true); err != nil {
		t.Fatal(err)
	}
	upd, leave, busy, err := s.EnterParked(ctx, key, time.Minute)
	if err != nil || busy || upd == nil || upd.ID != "2" {
		t.Fatalf("EnterParked = %v, busy %v, %v", upd, busy, err)
	}
	st, err := s.LoadState(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"x"}`), Rev: st.Rev, Update: "2"}) {
		t.Fatal("SaveAtLeave = false in a parked update's turn")
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoadState(ctx, key); string(got.Data) != `{"st":"x"}` || got.Update != "2" {
		t.Fatalf("stored %+v after the parked turn", got)
	}
	if n, _ := c.LLen(ctx, s.keys.parked(key)).Result(); n != 0 {
		t.Fatalf("%d parked updates left", n)
	}
}

// TestSaveAtLeaveRedisUnreachable: a leave that cannot write the turn's
// state tells the pipeline the update is not done (dispatch.ErrTurnUnsaved);
// once Redis is back, the chat's next Enter in this process writes it and
// the update is a duplicate. When the state changed meanwhile (the client
// erased), the kept leave writes nothing and the chat is entered all the
// same.
func TestSaveAtLeaveRedisUnreachable(t *testing.T) {
	t.Parallel()
	opt := realRedis(t).(*goredis.Client).Options()
	proxy := faultproxy.Start(t, opt.Addr)
	c := goredis.NewClient(&goredis.Options{Addr: proxy.Addr(), DB: opt.DB, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	s := newTestStore(t, c, Config{})
	ctx := t.Context()
	for _, erased := range []bool{false, true} {
		key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("unsaved-", erased)}
		leave, st := enterTurn(t, s, key, "7")
		s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"age"}`), Rev: st.Rev, Update: "7"})
		proxy.Cut()
		if err := leave(ctx, true); !errors.Is(err, dispatch.ErrTurnUnsaved) {
			t.Fatalf("leave with Redis cut = %v; want ErrTurnUnsaved", err)
		}
		proxy.Restore()
		wait, cancel := context.WithTimeout(ctx, 3*time.Second)
		if erased {
			if _, err := saveData(s, wait, key, []byte(`{"st":"other"}`), 0); err != nil {
				t.Fatal(err)
			}
			leave, dup, err := s.Enter(wait, key, "8", time.Minute)
			cancel()
			if err != nil || dup {
				t.Fatalf("the next update after the state changed: dup %v, %v; want its turn", dup, err)
			}
			if got, _ := s.LoadState(ctx, key); string(got.Data) != `{"st":"other"}` {
				t.Fatalf("state %+v; want the one written meanwhile kept", got)
			}
			if err := leave(ctx, true); err != nil {
				t.Fatal(err)
			}
			continue
		}
		_, dup, err := s.Enter(wait, key, "7", time.Minute)
		cancel()
		if err != nil || !dup {
			t.Fatalf("the retry: dup %v, %v; want the kept leave finished and the update a duplicate", dup, err)
		}
		if got, err := s.LoadState(ctx, key); err != nil || string(got.Data) != `{"st":"age"}` || got.Rev != 1 {
			t.Fatalf("state %+v, %v; want the turn's state written", got, err)
		}
	}
}

// TestLostEnterAnswerDoesNotHoldTheChat: Redis becomes unreachable after
// the Enter script took the chat's turn and before its answer arrived, so
// the turn cannot be released either. Once Redis is back, this process's
// next Enter of the chat releases it first instead of waiting out its own
// lock's TTL.
func TestLostEnterAnswerDoesNotHoldTheChat(t *testing.T) {
	t.Parallel()
	direct := realRedis(t)
	opt := direct.(*goredis.Client).Options()
	proxy := faultproxy.Start(t, opt.Addr)
	c := goredis.NewClient(&goredis.Options{Addr: proxy.Addr(), DB: opt.DB, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	s := newTestStore(t, c, Config{NoAutoPipeline: true})
	ctx := t.Context()
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "lost-enter"}
	if err := s.Ping(ctx); err != nil { // connect and load nothing yet through the delay
		t.Fatal(err)
	}
	leave, _ := enterTurn(t, s, key, "0") // loads the scripts
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	proxy.Delay(time.Second)
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Enter(ctx, key, "1", time.Minute)
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for direct.Exists(ctx, s.keys.lock(key)).Val() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the Enter script never took the lock")
		}
		time.Sleep(2 * time.Millisecond)
	}
	proxy.Cut() // the answer is still held back by the delay: it is lost
	if err := <-done; err == nil {
		t.Fatal("Enter succeeded with its answer lost")
	}
	proxy.Delay(0)
	proxy.Restore()
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	leave, dup, err := s.Enter(wait, key, "1", time.Minute)
	if err != nil || dup {
		t.Fatalf("Enter after Redis is back: dup %v, %v; want the chat's turn (the lost one released)", dup, err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
}
