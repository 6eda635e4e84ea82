package redis

import (
	"context"
	"crypto/sha1"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// Redis Cluster runs a script or a multi-key command only when all its
// keys hash to one slot; elsewhere it answers CROSSSLOT. The tests below
// prove the Store keeps to that without a cluster: crossSlotHook makes a
// plain client (the shared miniredis one, so every miniredis test checks
// it) refuse such commands as a cluster would, computing the slots with
// clusterSlot (CRC16, hash tags); TestScriptsTouchOneSlot drives every
// script and multi-key command of the Store and checks the keys of each.
// The cluster backend (store_test.go) then runs the suites on a real one.

// commandKeys returns the keys of a command as Redis Cluster routes it:
// EVAL/EVALSHA's numkeys keys, every argument of the variadic key commands,
// the first argument otherwise (commands without keys have no second key,
// so they never look cross-slot).
func commandKeys(args []any) []string {
	if len(args) < 2 {
		return nil
	}
	str := func(a any) string {
		switch v := a.(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return fmt.Sprint(a)
	}
	switch strings.ToLower(str(args[0])) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		if len(args) < 3 {
			return nil
		}
		n, _ := strconv.Atoi(str(args[2]))
		var out []string
		for i := 3; i < 3+n && i < len(args); i++ {
			out = append(out, str(args[i]))
		}
		return out
	case "del", "unlink", "exists", "mget", "touch", "watch", "sinter", "sunion", "sdiff", "pfcount":
		var out []string
		for _, a := range args[1:] {
			out = append(out, str(a))
		}
		return out
	case "mset", "msetnx":
		var out []string
		for i := 1; i < len(args); i += 2 {
			out = append(out, str(args[i]))
		}
		return out
	case "xread", "xreadgroup":
		for i, a := range args {
			if strings.EqualFold(str(a), "streams") {
				rest := args[i+1:]
				var out []string
				for _, k := range rest[:len(rest)/2] {
					out = append(out, str(k))
				}
				return out
			}
		}
	case "rename", "renamenx", "smove", "rpoplpush", "lmove", "blmove", "copy":
		if len(args) >= 3 {
			return []string{str(args[1]), str(args[2])}
		}
	}
	return []string{str(args[1])}
}

// crossSlot returns an error naming the keys when cmd's keys hash to more
// than one slot, nil otherwise.
func crossSlot(cmd goredis.Cmder) error {
	keys := commandKeys(cmd.Args())
	for _, k := range keys[min(1, len(keys)):] {
		if clusterSlot(k) != clusterSlot(keys[0]) {
			var b strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&b, " %s(slot %d)", k, clusterSlot(k))
			}
			return fmt.Errorf("CROSSSLOT Keys in request don't hash to the same slot (test check, %s:%s)", cmd.Name(), b.String())
		}
	}
	return nil
}

// crossSlotHook refuses cross-slot commands as Redis Cluster would.
type crossSlotHook struct{}

func (crossSlotHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (crossSlotHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if err := crossSlot(cmd); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (crossSlotHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			if err := crossSlot(cmd); err != nil {
				for _, c := range cmds {
					c.SetErr(err)
				}
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// keysRecorder records the keys of every command a client sends.
type keysRecorder struct {
	mu   sync.Mutex
	cmds [][]any
}

func (r *keysRecorder) record(cmds ...goredis.Cmder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		r.cmds = append(r.cmds, c.Args())
	}
}

func (r *keysRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *keysRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *keysRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.record(cmds...)
		return next(ctx, cmds)
	}
}

// TestCommandKeys checks the key extraction the slot checks rely on.
func TestCommandKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []any
		want string
	}{
		{[]any{"evalsha", "abc", 3, "a", "b", "c", "arg1", "arg2"}, "a b c"},
		{[]any{"eval", "return 1", "0", "arg"}, ""},
		{[]any{"del", "a", "b"}, "a b"},
		{[]any{"mset", "a", "1", "b", "2"}, "a b"},
		{[]any{"hset", "h", "f", "v"}, "h"},
		{[]any{"ping"}, ""},
	}
	for _, tc := range tests {
		if got := strings.Join(commandKeys(tc.args), " "); got != tc.want {
			t.Errorf("commandKeys(%v) = %q; want %q", tc.args, got, tc.want)
		}
	}
	if crossSlot(goredis.NewCmd(context.Background(), "del", "p:{a}:x", "p:{b}:x")) == nil {
		t.Error("crossSlot accepted keys of two chats")
	}
	if err := crossSlot(goredis.NewCmd(context.Background(), "del", "p:{a}:x", "q:{a}:y")); err != nil {
		t.Errorf("crossSlot refused one tag's keys: %v", err)
	}
}

// TestScriptsTouchOneSlot drives every Lua script and multi-key command of
// the Store — the chat's turn (enter, leave, unlock), its state, parking,
// the reminder queue, the shared rate limits and the chat pacer — for plain
// and named-bot chats, records the keys of each command sent, and checks
// that each command's keys share one Redis Cluster slot. It also checks
// that the multi-key scripts were all seen, so a new script cannot slip
// past unchecked.
func TestScriptsTouchOneSlot(t *testing.T) {
	t.Parallel()
	srv := miniredis.RunT(t)
	rec := &keysRecorder{}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	c.AddHook(rec)
	s, err := New(c, Config{Prefix: "slots", NoAutoPipeline: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	other, err := New(c, Config{Prefix: "slots"}) // another process (auto-pipelined)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	ctx := t.Context()
	chats := []messenger.ChatKey{
		{Platform: messenger.Telegram, ID: "123"},
		{Platform: messenger.VK, Bot: "club", ID: "77"},
	}
	for _, ch := range chats {
		for i, st := range []*Store{s, other} {
			id := "u1-" + strconv.Itoa(i)
			leave, dup, err := st.Enter(ctx, ch, id, time.Second)
			if err != nil || dup {
				t.Fatalf("Enter = dup %v, %v", dup, err)
			}
			cur, err := st.LoadState(ctx, ch)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveState(ctx, ch, dialog.StoredState{Rev: cur.Rev, Data: []byte("x"), Update: id}); err != nil {
				t.Fatalf("SaveState: %v", err)
			}
			if err := leave(ctx, true); err != nil {
				t.Fatalf("leave: %v", err)
			}
		}
		leave, _, err := s.Enter(ctx, ch, "", time.Second) // no update id: the lock stands in for the marker
		if err != nil {
			t.Fatal(err)
		}
		// Held: the next update of the chat is parked, then handled from the list.
		if _, _, err := other.Park(ctx, &messenger.Update{ID: "u2", Chat: ch, Kind: messenger.KindMessage, Text: "hi"}); err != nil {
			t.Fatalf("Park: %v", err)
		}
		if err := leave(ctx, true); err != nil {
			t.Fatal(err)
		}
		upd, leaveParked, _, err := other.EnterParked(ctx, ch, time.Second)
		if err != nil || upd == nil {
			t.Fatalf("EnterParked = %v, %v", upd, err)
		}
		if err := leaveParked(ctx, true); err != nil {
			t.Fatal(err)
		}
		_ = s.abandon(ctx, ch, s.keys.lock(ch), "not-held", nil) // unlockScript
		if err := s.DeleteState(ctx, ch); err != nil {
			t.Fatal(err)
		}
		now := time.Unix(1_700_000_000, 0)
		r := dialog.Reminder{Chat: ch, Scenario: "s", Version: "v", Step: "a", N: 1, Due: now}
		if err := s.ScheduleReminder(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimReminders(ctx, now, time.Minute, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("ClaimReminders = %v, %v", got, err)
		}
		if err := s.RetryReminder(ctx, got[0], 1, now); err != nil {
			t.Fatal(err)
		}
		got, _ = s.ClaimReminders(ctx, now, time.Minute, 10)
		if err := s.FinishReminder(ctx, got[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.CancelReminder(ctx, ch); err != nil {
			t.Fatal(err)
		}
		pacer, err := s.ChatPacer("telegram:1", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := pacer.AllowChat(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.Limiter("vk:77", Limit{Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Allow(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Pause(ctx, time.Second); err != nil {
		t.Fatal(err)
	}

	// Each bot's shared intake (intake.go): leases, members, a multi-stream read.
	for _, bot := range []string{"", "club"} {
		in, err := s.Intake(messenger.VK, bot)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := in.AcquireLease(ctx, "lease", "p1", time.Second, "dead"); err != nil {
			t.Fatal(err)
		}
		if _, err := in.RenewLease(ctx, "lease", "p1", time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := in.AcquireLeases(ctx, []string{"part:0", "part:1"}, []string{"part:2"}, "p1", time.Second); err != nil {
			t.Fatal(err)
		}
		if err := in.ReleaseLease(ctx, "lease", "p1"); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Balance(ctx, relay.BalanceRequest{Holder: "p1", TTL: time.Second, Partitions: 3,
			Release: []int{2}, Dead: []string{"p0"}}); err != nil {
			t.Fatal(err)
		}
		if err := in.Append(ctx, []relay.Entry{{Partition: 0, Data: []byte("a")}, {Partition: 1, Data: []byte("b")}}); err != nil {
			t.Fatal(err)
		}
		got, err := in.Read(ctx, []relay.Cursor{{Partition: 0, After: relay.Start}, {Partition: 1, After: relay.Start},
			{Partition: 2, After: relay.Start}}, 10, 0)
		if err != nil || len(got) != 2 {
			t.Fatalf("Read = %v, %v", got, err)
		}
		if err := in.Ack(ctx, map[int][]string{got[0].Partition: {got[0].ID}, 2: {"0-1"}}); err != nil {
			t.Fatal(err)
		}
		if err := in.Ack(ctx, map[int][]string{1: {got[1].ID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Depth(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if err := in.Leave(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
	}

	names := map[string]string{}
	for name, sc := range map[string]*goredis.Script{
		"lease": leaseScript, "balance": balanceScript, "append": appendScript, "ack": ackScript,
		"save": saveScript, "enter": enterScript, "leave": leaveScript, "unlock": unlockScript,
		"park": parkScript, "enterParked": enterParkedScript,
		"scheduleReminder": scheduleReminderScript, "cancelReminder": cancelReminderScript,
		"claimReminders": claimRemindersScript, "finishReminder": finishReminderScript, "retryReminder": retryReminderScript,
		"pause": pauseScript, "pauseLeft": pauseLeftScript, "pace": paceScript,
	} {
		names[sc.Hash()] = name
	}
	seen := map[string]int{} // script or command → the most keys one call had
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, args := range rec.cmds {
		keys := commandKeys(args)
		name := strings.ToLower(fmt.Sprint(args[0]))
		switch name {
		case "hello", "client", "auth", "select", "ping", "script", "info":
			continue // the connection's own commands, no keys
		}
		if (name == "evalsha" || name == "eval") && len(args) > 1 {
			hash := fmt.Sprint(args[1])
			if name == "eval" { // the retry of an unknown EVALSHA carries the source
				hash = fmt.Sprintf("%x", sha1.Sum([]byte(hash)))
			}
			if n, ok := names[hash]; ok {
				name = n
			} else if name == "evalsha" {
				name = "script " + fmt.Sprint(args[1]) // redis_rate's GCRA
			}
		}
		seen[name] = max(seen[name], len(keys))
		for _, k := range keys[min(1, len(keys)):] {
			if clusterSlot(k) != clusterSlot(keys[0]) {
				t.Errorf("%s touches %s (slot %d) and %s (slot %d): not one slot", name, keys[0], clusterSlot(keys[0]), k, clusterSlot(k))
			}
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, "slots:") && !strings.HasPrefix(k, "rate:slots:") {
				t.Errorf("%s touches %s: outside the prefix", name, k)
			}
		}
	}
	for name, keys := range map[string]int{
		"enter": 4, "leave": 4, "park": 3, "enterParked": 3, "del": 2,
		"scheduleReminder": 3, "cancelReminder": 3, "claimReminders": 3, "finishReminder": 3, "retryReminder": 3,
		"save": 1, "unlock": 1, "pause": 1, "pauseLeft": 1, "pace": 1,
		"xread": 3, "lease": 1, "balance": 8, "append": 3, "ack": 2, "xdel": 1,
	} {
		if seen[name] != keys {
			t.Errorf("%s was sent with at most %d keys; want %d (the test must drive every multi-key command)", name, seen[name], keys)
		}
	}
	t.Logf("commands checked: %v", seen)
}
