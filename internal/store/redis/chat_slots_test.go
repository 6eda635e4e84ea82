package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// keyRecorder records the keys of every command a client sends: the KEYS
// of EVAL/EVALSHA and, for other commands, every argument that starts
// with the store's prefix (a key name; values never do).
type keyRecorder struct {
	prefix string
	mu     sync.Mutex
	calls  []keyedCall
}

// keyedCall is one command and the keys it touched.
type keyedCall struct {
	name string
	keys []string
}

func (r *keyRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *keyRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *keyRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			r.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (r *keyRecorder) record(cmd goredis.Cmder) {
	args := cmd.Args()
	c := keyedCall{name: strings.ToLower(cmd.Name())}
	switch c.name {
	case "evalsha", "eval":
		n, _ := strconv.Atoi(fmt.Sprint(args[2]))
		for _, k := range args[3 : 3+n] {
			c.keys = append(c.keys, fmt.Sprint(k))
		}
	default:
		for _, a := range args[1:] {
			if s, ok := a.(string); ok && strings.HasPrefix(s, r.prefix+":") {
				c.keys = append(c.keys, s)
			}
		}
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// TestChatKeysShareOneClusterSlot runs everything the inbound pipeline and
// the dialog do with one chat (turns with and without an update id, the
// state read with the turn, SaveState, SaveAtLeave, leaves handled and not,
// parking, a parked turn, deletion) for a chat of the default bot and one
// of a named bot, records the keys of every command, and checks with the
// Redis Cluster slot function (CRC16/XMODEM of the hash tag mod 16384,
// clusterSlot) that every key a command touches is in the chat's slot, so
// each script is legal on a cluster, except the keys that are not the
// chat's: the index of chats with parked updates and the process's
// liveness key, each alone in its command.
func TestChatKeysShareOneClusterSlot(t *testing.T) {
	t.Parallel()
	c := miniRedis(t)
	s := newTestStore(t, c, Config{})
	rec := &keyRecorder{prefix: s.cfg.Prefix}
	own := process(t, c, s.cfg.Prefix)
	own.client.AddHook(rec)
	ctx := t.Context()
	for _, key := range []messenger.ChatKey{
		{Platform: messenger.Telegram, ID: "5000000001"},
		{Platform: messenger.VK, Bot: "club", ID: "77"},
	} {
		rec.mu.Lock()
		rec.calls = nil
		rec.mu.Unlock()
		chatTurns(t, ctx, own, key)

		want := clusterSlot(own.keys.chat(key) + ":x")
		if tag := clusterSlot("{" + reminderMember(key) + "}"); tag != want {
			t.Fatalf("%s: the chat's slot %d is not the slot of its hash tag (%d)", key, want, tag)
		}
		shared := map[string]bool{own.keys.parkedIndex(): true, own.keys.live(own.owners.instance): true}
		var scripts int
		for _, call := range rec.calls {
			if call.name == "evalsha" || call.name == "eval" {
				scripts++
			}
			for _, k := range call.keys {
				switch {
				case shared[k] && len(call.keys) == 1:
				case shared[k]:
					t.Errorf("%s %v: a key outside the chat's slot with others", call.name, call.keys)
				case clusterSlot(k) != want:
					t.Errorf("%s %v: key %s is in slot %d; want the chat's slot %d", call.name, call.keys, k, clusterSlot(k), want)
				}
			}
		}
		if scripts < 8 {
			t.Fatalf("%s: only %d scripts recorded; the recorder missed commands", key, scripts)
		}
	}
}

// chatTurns exercises every per-chat operation of the store on key.
func chatTurns(t *testing.T, ctx context.Context, s *Store, key messenger.ChatKey) {
	t.Helper()
	rev, err := s.SaveState(ctx, key, dialog.StoredState{Data: []byte(`{"st":"a"}`), Update: "1"})
	if err != nil {
		t.Fatal(err)
	}
	// A turn whose state rides on its leave.
	leave, _, err := s.Enter(ctx, key, "2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.LoadState(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"b"}`), Rev: st.Rev, Update: "2"})
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	// A turn that saves before sending and fails.
	leave, _, err = s.Enter(ctx, key, "3", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveState(ctx, key, dialog.StoredState{Data: []byte(`{"st":"c"}`), Rev: rev + 1, Update: "3", Outbox: []byte(`x`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadState(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := leave(ctx, false); err != nil {
		t.Fatal(err)
	}
	// A turn without an update id, with a duplicate before it.
	if _, dup, err := s.Enter(ctx, key, "2", time.Minute); err != nil || !dup {
		t.Fatalf("dup %v, %v", dup, err)
	}
	leave, _, err = s.Enter(ctx, key, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Parked behind it, then taken.
	if parked, _, err := s.Park(ctx, &messenger.Update{ID: "4", Chat: key, Kind: messenger.KindMessage, Text: "x"}); err != nil || !parked {
		t.Fatalf("Park = %v, %v", parked, err)
	}
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	upd, leave, _, err := s.EnterParked(ctx, key, time.Minute)
	if err != nil || upd == nil {
		t.Fatalf("EnterParked = %v, %v", upd, err)
	}
	if st, err = s.LoadState(ctx, key); err != nil {
		t.Fatal(err)
	}
	s.SaveAtLeave(key, dialog.StoredState{Data: []byte(`{"st":"d"}`), Rev: st.Rev, Update: "4"})
	if err := leave(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteState(ctx, key); err != nil {
		t.Fatal(err)
	}
}
