package redis

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dispatch"
	"github.com/chathub/chathub/internal/messenger"
)

// TestParking runs the inbound pipeline over the Store with one chat held
// by a process that died without its liveness expiring yet (or by a live
// one): the chat's updates are parked and acknowledged at once, other
// chats flow on, and the parked updates are handled, in order, once the
// chat is free.
func TestParking(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"HeldChatParksOnlyItself", testParkHeldChat},
		{"ParkedHandledBeforeHandledAgain", testParkDedupes},
		{"ParkedPoisonGivenUp", testParkedPoisonGivenUp},
	})
}

// recorder is a dispatch.Handler that records the updates it handled.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) Handle(_ context.Context, u *messenger.Update) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, u.Chat.ID+"/"+u.ID+"/"+u.Text)
	return nil
}

func (r *recorder) handled() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func startDispatcher(t *testing.T, gate dispatch.Gate, h dispatch.Handler) *dispatch.Dispatcher {
	t.Helper()
	d, err := dispatch.New(dispatch.Config{Handler: h, Gate: gate, Workers: 4, ParkAfter: 200 * time.Millisecond,
		DrainInterval: 20 * time.Millisecond, HandleTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	return d
}

func tgUpdate(chat, id, text string) *messenger.Update {
	return &messenger.Update{ID: id, Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: chat}, Kind: messenger.KindMessage, Text: text}
}

func testParkHeldChat(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	dead, live := storePair(t, c, Config{LivenessTTL: time.Hour})
	held := messenger.ChatKey{Platform: messenger.Telegram, ID: "held"}
	if _, _, err := dead.Enter(ctx, held, "0", time.Hour); err != nil {
		t.Fatal(err)
	}
	dead.crash() // its liveness key lives on for an hour
	rec := &recorder{}
	d := startDispatcher(t, live, rec)
	start := time.Now()
	batch := []*messenger.Update{tgUpdate("held", "1", "a"), tgUpdate("free", "2", "x"), tgUpdate("held", "3", "b")}
	if err := d.Deliver(ctx, batch); err != nil {
		t.Fatalf("Deliver with a held chat: %v; want the batch taken (its updates parked)", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Deliver took %s", took)
	}
	if got := rec.handled(); len(got) != 1 || got[0] != "free/2/x" {
		t.Fatalf("handled %q; want only the free chat's update", got)
	}
	if d.Stats().Parked() != 2 {
		t.Fatalf("parked %d; want 2", d.Stats().Parked())
	}
	// A later update of the held chat queues behind the parked ones.
	if err := d.Deliver(ctx, []*messenger.Update{tgUpdate("held", "4", "c")}); err != nil {
		t.Fatal(err)
	}
	// The dead holder's turn expires (here: is deleted): the parked
	// updates are handled in order.
	if err := c.Del(ctx, dead.keys.lock(held)).Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"free/2/x", "held/1/a", "held/3/b", "held/4/c"}
	waitFor(t, 10*time.Second, func() bool { return len(rec.handled()) >= len(want) })
	if got := rec.handled(); !equal(got, want) {
		t.Fatalf("handled %q; want %q", got, want)
	}
	waitFor(t, 5*time.Second, func() bool { return c.Exists(ctx, live.keys.parked(held)).Val() == 0 })
	waitFor(t, 5*time.Second, func() bool { return c.SCard(ctx, live.keys.parkedIndex()).Val() == 0 })
	// Redelivered, the parked-then-handled updates are duplicates.
	if err := d.Deliver(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if got := rec.handled(); len(got) != len(want) {
		t.Fatalf("a redelivery was handled again: %q", got)
	}
}

func testParkDedupes(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a, _ := storePair(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "park-dup"}
	leave, _, err := a.Enter(ctx, key, "9", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Parked while the chat is held, then handled by the holder itself
	// (a redelivery racing the park): the parked copy is dropped.
	if parked, dup, err := a.Park(ctx, tgUpdate("park-dup", "9", "x")); !parked || dup || err != nil {
		t.Fatalf("Park = %v, %v, %v; want parked", parked, dup, err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	upd, l, busy, err := a.EnterParked(ctx, key, time.Minute)
	if upd != nil || l != nil || busy || err != nil {
		t.Fatalf("EnterParked after the update was handled = %v, %v, %v; want nothing", upd, busy, err)
	}
	if n := c.Exists(ctx, a.keys.parked(key)).Val(); n != 0 {
		t.Fatal("the handled update stayed parked")
	}
	if parked, dup, err := a.Park(ctx, tgUpdate("park-dup", "9", "x")); parked || !dup || err != nil {
		t.Fatalf("Park of a handled update = %v, %v, %v; want dup", parked, dup, err)
	}
	if parked, _, err := a.Park(ctx, tgUpdate("park-dup", "10", "y")); parked || err != nil {
		t.Fatalf("Park on a free chat = %v, %v; want not parked", parked, err)
	}
}

// failing is a dispatch.Handler failing the updates whose text is "bad"
// with an error nobody classified, recording the others.
type failing struct{ recorder }

func (f *failing) Handle(ctx context.Context, u *messenger.Update) error {
	if u.Text == "bad" {
		return errors.New("unexpected reply from a script")
	}
	return f.recorder.Handle(ctx, u)
}

// testParkedPoisonGivenUp: a parked update that keeps failing is given up
// after MaxDeliveries turns like a live one, and the chat's updates parked
// behind it are then handled: it cannot silence its chat for good.
func testParkedPoisonGivenUp(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	dead, live := storePair(t, c, Config{LivenessTTL: time.Hour})
	held := messenger.ChatKey{Platform: messenger.Telegram, ID: "poisoned"}
	if _, _, err := dead.Enter(ctx, held, "0", time.Hour); err != nil {
		t.Fatal(err)
	}
	dead.crash()
	h := &failing{}
	d := startDispatcher(t, live, h)
	if err := d.Deliver(ctx, []*messenger.Update{tgUpdate("poisoned", "1", "bad"), tgUpdate("poisoned", "2", "good")}); err != nil {
		t.Fatalf("Deliver with a held chat: %v", err)
	}
	if err := c.Del(ctx, dead.keys.lock(held)).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return len(h.handled()) == 1 })
	if got := h.handled(); got[0] != "poisoned/2/good" || d.Stats().GivenUp() != 1 {
		t.Fatalf("handled %q, given up %d; want the good update handled after the bad one was given up", got, d.Stats().GivenUp())
	}
	waitFor(t, 5*time.Second, func() bool { return c.Exists(ctx, live.keys.parked(held)).Val() == 0 })
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("condition not met within %s", d)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
