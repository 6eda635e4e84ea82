package redis

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/relay"
)

// TestIntake checks the shared intake's leases, members and queue on every
// backend, each case under its own prefix.
func TestIntake(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"Leases", testIntakeLeases},
		{"LeaseExpires", testIntakeLeaseExpires},
		{"AcquireLeasesBatch", testIntakeAcquireLeases},
		{"Members", testIntakeMembers},
		{"Balance", testIntakeBalance},
		{"BalanceByteOrder", testIntakeBalanceByteOrder},
		{"QueueAppendReadAck", testIntakeQueue},
		{"QueueReadBlocks", testIntakeQueueBlocks},
		{"QueuePrevForeignAppend", testIntakePrevForeign},
		{"VKPosition", testIntakeVKTS},
	})
}

func newIntake(t *testing.T, c goredis.UniversalClient, bot string) *Intake {
	t.Helper()
	in, err := newTestStore(t, c, Config{}).Intake(messenger.Telegram, bot)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func testIntakeLeases(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	const ttl = 10 * time.Second
	steps := []struct {
		name, op, holder string
		wantHeld         bool
		wantHolder       string // LeaseHolder afterwards
	}{
		{"first acquires", "acquire", "a", true, "a"},
		{"second refused", "acquire", "b", false, "a"},
		{"holder re-acquires (extends)", "acquire", "a", true, "a"},
		{"holder renews", "renew", "a", true, "a"},
		{"other cannot renew", "renew", "b", false, "a"},
		{"other cannot release", "release", "b", false, "a"},
		{"holder releases", "release", "a", false, ""},
		{"renew after release fails", "renew", "a", false, ""},
		{"second acquires once free", "acquire", "b", true, "b"},
	}
	for _, s := range steps {
		var held bool
		var err error
		switch s.op {
		case "acquire":
			var cur string
			held, cur, err = in.AcquireLease(ctx, relay.PollerLease, s.holder, ttl)
			if err == nil && !held && cur != s.wantHolder {
				t.Errorf("%s: refused naming holder %q, want %q", s.name, cur, s.wantHolder)
			}
		case "renew":
			held, err = in.RenewLease(ctx, relay.PollerLease, s.holder, ttl)
		case "release":
			err = in.ReleaseLease(ctx, relay.PollerLease, s.holder)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if held != s.wantHeld {
			t.Errorf("%s: held = %v, want %v", s.name, held, s.wantHeld)
		}
		if h, err := in.LeaseHolder(ctx, relay.PollerLease); err != nil || h != s.wantHolder {
			t.Errorf("%s: holder = %q, %v; want %q", s.name, h, err, s.wantHolder)
		}
	}
}

func testIntakeLeaseExpires(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "shop")
	if held, _, err := in.AcquireLease(ctx, relay.PollerLease, "a", 300*time.Millisecond); err != nil || !held {
		t.Fatalf("acquire: %v %v", held, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		held, _, err := in.AcquireLease(ctx, relay.PollerLease, "b", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired lease was never free")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok, err := in.RenewLease(ctx, relay.PollerLease, "a", time.Second); err != nil || ok {
		t.Errorf("the old holder renewed a lease taken over: %v %v", ok, err)
	}
}

func testIntakeAcquireLeases(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	if held, _, _ := in.AcquireLease(ctx, "part:1", "b", time.Minute); !held {
		t.Fatal("b could not take part:1")
	}
	held, err := in.AcquireLeases(ctx, []string{"part:0", "part:1", "part:2"}, nil, "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, true}; !slices.Equal(held, want) {
		t.Errorf("held = %v, want %v", held, want)
	}
	// Releasing part:0 and part:1: only a's own is given up.
	if _, err := in.AcquireLeases(ctx, nil, []string{"part:0", "part:1"}, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"part:0": "", "part:1": "b", "part:2": "a"} {
		if h, _ := in.LeaseHolder(ctx, name); h != want {
			t.Errorf("%s held by %q, want %q", name, h, want)
		}
	}
}

func testIntakeMembers(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	heartbeat := func(holder string, ttl time.Duration) []string {
		t.Helper()
		b, err := in.Balance(ctx, relay.BalanceRequest{Holder: holder, TTL: ttl, Partitions: 1})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(b.Live)
		return b.Live
	}
	heartbeat("short", 300*time.Millisecond)
	if live := heartbeat("long", time.Minute); !slices.Equal(live, []string{"long", "short"}) {
		t.Errorf("live = %v", live)
	}
	time.Sleep(600 * time.Millisecond)
	if live := heartbeat("long", time.Minute); !slices.Equal(live, []string{"long"}) {
		t.Errorf("after the short membership ended: live = %v", live)
	}
	if err := in.Leave(ctx, "long"); err != nil {
		t.Fatal(err)
	}
	if live := heartbeat("other", time.Minute); !slices.Equal(live, []string{"other"}) {
		t.Errorf("after leaving: live = %v", live)
	}
}

// testIntakeBalance walks members through Balance turns: the partitions
// split by relay.Assigned, a newcomer's partitions drain at the old holder
// until released, a dead member's leases are taken over at once, and the
// depth and poller are reported.
func testIntakeBalance(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	const n, ttl = 4, time.Minute
	turn := func(holder string, release []int, dead ...string) relay.Balance {
		t.Helper()
		b, err := in.Balance(ctx, relay.BalanceRequest{Holder: holder, TTL: ttl, Partitions: n, Release: release, Dead: dead})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := turn("a", nil); !slices.Equal(b.Held, []int{0, 1, 2, 3}) || len(b.Draining) != 0 || b.Poller != "" {
		t.Fatalf("a alone: %+v", b)
	}
	// b joins: it is assigned 1 and 3, which a still holds.
	if b := turn("b", nil); len(b.Held) != 0 {
		t.Errorf("b took %v while a holds them", b.Held)
	}
	if b := turn("a", nil); !slices.Equal(b.Held, []int{0, 2}) || !slices.Equal(b.Draining, []int{1, 3}) {
		t.Errorf("a after b joined: %+v, want held [0 2], draining [1 3]", b)
	}
	if b := turn("a", []int{1}); !slices.Equal(b.Draining, []int{3}) {
		t.Errorf("a released 1: %+v, want draining [3]", b)
	}
	if b := turn("b", nil); !slices.Equal(b.Held, []int{1}) {
		t.Errorf("b after a released 1: %+v, want held [1]", b)
	}
	if err := in.Append(ctx, []relay.Entry{{Partition: 0, Data: []byte("x")}, {Partition: 3, Data: []byte("y")}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := in.AcquireLease(ctx, relay.PollerLease, "a", ttl); err != nil {
		t.Fatal(err)
	}
	// a is proven dead: b removes it and takes everything at once.
	b := turn("b", nil, "a")
	if !slices.Equal(b.Held, []int{0, 1, 2, 3}) || !slices.Equal(b.Live, []string{"b"}) || b.Depth != 2 || b.Poller != "a" {
		t.Errorf("b with a dead: %+v", b)
	}
}

// testIntakeBalanceByteOrder: the script assigns the partitions in the
// members' byte order, as relay.Assigned does, whatever the server's
// locale (under en_US collation "a-c" sorts after "ab", byte-wise before
// "aa"), or a member would never hold what it expects and balance for
// ever. With the members settled (each released what it drains), each
// holds exactly its Assigned partitions. (The default servers sort
// byte-wise either way; run it with TEST_REDIS_URL of a redis-server
// started under LC_ALL=en_US.UTF-8 to see the locale matter.)
func testIntakeBalanceByteOrder(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	const n, ttl = 6, time.Minute
	members := []string{"ab", "a-c", "aa"}
	draining := map[string][]int{}
	var last map[string]relay.Balance
	for range 4 {
		last = map[string]relay.Balance{}
		for _, m := range members {
			b, err := in.Balance(ctx, relay.BalanceRequest{Holder: m, TTL: ttl, Partitions: n, Release: draining[m]})
			if err != nil {
				t.Fatal(err)
			}
			draining[m] = b.Draining
			last[m] = b
		}
	}
	for _, m := range members {
		b := last[m]
		want := relay.Assigned(b.Live, m, n)
		if !slices.Equal(b.Held, want) || len(b.Draining) != 0 {
			t.Errorf("%s holds %v, draining %v; want %v (relay.Assigned of %v)", m, b.Held, b.Draining, want, b.Live)
		}
	}
}

func testIntakeQueue(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	var entries []relay.Entry
	for i := range 6 {
		entries = append(entries, relay.Entry{Partition: i % 2, Data: fmt.Appendf(nil, "u%d", i)})
	}
	if err := in.Append(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if d, err := in.Depth(ctx, 4); err != nil || d != 6 {
		t.Fatalf("depth = %d, %v; want 6", d, err)
	}
	got, err := in.Read(ctx, []relay.Cursor{{Partition: 0, After: relay.Start}, {Partition: 1, After: relay.Start}}, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	var data []string
	for _, e := range got {
		data = append(data, fmt.Sprintf("%d:%s", e.Partition, e.Data))
	}
	slices.Sort(data)
	if want := []string{"0:u0", "0:u2", "1:u1", "1:u3"}; !slices.Equal(data, want) {
		t.Fatalf("read %v, want %v (2 per partition, in order)", data, want)
	}
	var p0 []string
	var last0 string
	for _, e := range got {
		if e.Partition == 0 {
			p0 = append(p0, e.ID)
			last0 = e.ID
		}
	}
	if err := in.Ack(ctx, map[int][]string{0: p0}); err != nil {
		t.Fatal(err)
	}
	if d, _ := in.Depth(ctx, 2); d != 4 {
		t.Errorf("depth after acknowledging 2 = %d, want 4", d)
	}
	rest, err := in.Read(ctx, []relay.Cursor{{Partition: 0, After: last0}}, 10, 0)
	if err != nil || len(rest) != 1 || string(rest[0].Data) != "u4" {
		t.Errorf("read after the cursor = %v, %v; want u4", rest, err)
	}
	again, err := in.Read(ctx, []relay.Cursor{{Partition: 1, After: relay.Start}}, 10, 0)
	if err != nil || len(again) != 3 {
		t.Errorf("partition 1 read again from the start = %d entries, %v; want 3 (none acknowledged)", len(again), err)
	}
}

// testIntakePrevForeign: an entry appended by a plain XADD (the previous
// version's Append, during a rolling deploy) leaves the :last hash behind;
// the next append must report its prev unknown (""), not the hash's id,
// or the consumer's fast path would skip the foreign entry. An entry
// newer than the hash that was removed (acknowledged) does not matter.
func testIntakePrevForeign(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	stream := in.keys.intakeStream(in.base, 0)
	appendOne := func() relay.Entry {
		t.Helper()
		e := []relay.Entry{{Partition: 0, Data: []byte("x")}}
		if err := in.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e[0]
	}
	a := appendOne()
	if a.Prev != "0-0" {
		t.Fatalf("first prev = %q, want 0-0", a.Prev)
	}
	b := appendOne()
	if b.Prev != a.ID {
		t.Fatalf("second prev = %q, want %q", b.Prev, a.ID)
	}
	x, err := c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []any{entryField, "old"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if e := appendOne(); e.Prev != "" {
		t.Errorf("prev after a plain XADD of %s = %q, want \"\" (unknown)", x, e.Prev)
	}
	d := appendOne()
	if err := c.XDel(ctx, stream, d.ID).Err(); err != nil {
		t.Fatal(err)
	}
	if e := appendOne(); e.Prev != d.ID {
		t.Errorf("prev after the newest entry was acknowledged = %q, want %q (the hash's)", e.Prev, d.ID)
	}
}

func testIntakeQueueBlocks(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	in := newIntake(t, c, "")
	start := time.Now()
	got, err := in.Read(ctx, []relay.Cursor{{Partition: 3, After: relay.Start}}, 10, 100*time.Millisecond)
	if err != nil || got != nil {
		t.Fatalf("empty read = %v, %v", got, err)
	}
	if time.Since(start) < 80*time.Millisecond {
		t.Errorf("an empty read returned after %s, want it to wait ~100ms", time.Since(start))
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = in.Append(ctx, []relay.Entry{{Partition: 3, Data: []byte("x")}})
	}()
	got, err = in.Read(ctx, []relay.Cursor{{Partition: 3, After: relay.Start}}, 10, 5*time.Second)
	if err != nil || len(got) != 1 {
		t.Fatalf("blocked read = %v, %v; want the entry appended meanwhile", got, err)
	}
}

func testIntakeVKTS(t *testing.T, c goredis.UniversalClient) {
	ctx := context.Background()
	s := newTestStore(t, c, Config{})
	if ts, err := s.LoadTS(ctx, 42); err != nil || ts != "" {
		t.Fatalf("unsaved = %q, %v", ts, err)
	}
	if err := s.SaveTS(ctx, 42, "100"); err != nil {
		t.Fatal(err)
	}
	if ts, err := s.LoadTS(ctx, 42); err != nil || ts != "100" {
		t.Errorf("saved = %q, %v", ts, err)
	}
}

// TestIntakeKeysOneSlot proves that every key of one bot's intake (the
// keys its XREAD and scripts use together) shares one Cluster slot.
func TestIntakeKeysOneSlot(t *testing.T) {
	t.Parallel()
	k := keys{prefix: "chathub"}
	for _, bot := range []string{"", "shop"} {
		base := k.intake(messenger.VK, bot)
		all := []string{k.intakeLease(base, relay.PollerLease), k.intakeMembers(base)}
		for n := range relay.MaxPartitions {
			all = append(all, k.intakeStream(base, n), k.intakeLease(base, fmt.Sprintf("part:%d", n)))
		}
		want := clusterSlot(all[0])
		for _, key := range all {
			if clusterSlot(key) != want {
				t.Fatalf("%s in slot %d, want %d", key, clusterSlot(key), want)
			}
		}
	}
	if clusterSlot(k.intake(messenger.VK, "")) == clusterSlot(k.intake(messenger.VK, "shop")) {
		t.Log("two bots' intakes share a slot by chance (allowed)")
	}
}
