package redis

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

func TestGatePreload(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"TurnReadsTheState", testGatePreloads},
		{"CorruptStateReleasesTheTurn", testGatePreloadCorrupt},
	})
}

// commandCounter counts the commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// countedStore is a store on its own client whose commands are counted.
func countedStore(t *testing.T, c goredis.UniversalClient) (*Store, *commandCounter) {
	t.Helper()
	prefix := newTestStore(t, c, Config{}).Config().Prefix
	s := process(t, c, prefix)
	counter := &commandCounter{}
	s.client.AddHook(counter)
	return s, counter
}

// testGatePreloads: the state comes with the turn, so the handler's load is
// not another round trip; a second load, or one after the turn, asks Redis.
func testGatePreloads(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s, counter := countedStore(t, c)
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "preload"}
	saved := dialog.StoredState{Data: []byte(`{"step":"age"}`), Update: "41", Outbox: []byte(`[{"text":"Сколько вам лет?"}]`)}
	rev, err := s.SaveState(ctx, key, saved)
	if err != nil {
		t.Fatal(err)
	}
	leave, dup, err := s.Enter(ctx, key, "42", time.Second)
	if err != nil || dup {
		t.Fatalf("Enter = dup %v, %v", dup, err)
	}
	before := counter.n.Load()
	st, err := s.LoadState(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got := counter.n.Load() - before; got != 0 {
		t.Fatalf("the turn's load sent %d commands, want 0 (the state came with Enter)", got)
	}
	if st.Rev != rev || string(st.Data) != string(saved.Data) || st.Update != "41" || string(st.Outbox) != string(saved.Outbox) {
		t.Fatalf("preloaded state %+v, want rev %d and the saved fields", st, rev)
	}
	if _, err := s.LoadState(ctx, key); err != nil || counter.n.Load()-before != 1 {
		t.Fatalf("second load: %v after %d commands, want one round trip", err, counter.n.Load()-before)
	}
	// A write in the turn, then leave: nothing preloaded is left behind.
	if _, err := s.SaveState(ctx, key, dialog.StoredState{Rev: rev, Data: []byte(`{"step":"city"}`), Update: "42"}); err != nil {
		t.Fatal(err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	leave, _, err = s.Enter(ctx, key, "43", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer leave(ctx, true)
	if st, err := s.LoadState(ctx, key); err != nil || string(st.Data) != `{"step":"city"}` || st.Rev != rev+1 {
		t.Fatalf("next turn loads %+v, %v; want the state written in the last turn", st, err)
	}
	empty := messenger.ChatKey{Platform: messenger.Telegram, ID: "preload-none"}
	leave2, _, err := s.Enter(ctx, empty, "1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer leave2(ctx, true)
	if st, err := s.LoadState(ctx, empty); err != nil || st.Rev != 0 || st.Data != nil {
		t.Fatalf("a chat without state loads %+v, %v", st, err)
	}
}

// testGatePreloadCorrupt: a state Enter cannot read fails the turn and
// leaves the chat free for the next try.
func testGatePreloadCorrupt(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "preload-bad"}
	if err := c.HSet(ctx, s.keys.state(key), fieldRev, "x").Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Enter(ctx, key, "1", time.Minute); err == nil {
		t.Fatal("Enter with a corrupt state succeeded")
	}
	if n, err := c.Exists(ctx, s.keys.lock(key)).Result(); err != nil || n != 0 {
		t.Fatalf("the failed Enter left the chat locked (%d, %v)", n, err)
	}
}
