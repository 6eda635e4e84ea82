package redis

import (
	"fmt"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

func TestReminderQueue(t *testing.T) {
	t.Parallel()
	runSuite(t, backends, []suiteCase{
		{"DueOnlyAtItsTime", testReminderDue},
		{"OnePerChat", testReminderOnePerChat},
		{"LeaseHoldsThenEnds", testReminderLease},
		{"FinishOnlyTheClaimed", testReminderFinish},
		{"RetryPutsBack", testReminderRetry},
		{"CancelEvenClaimed", testReminderCancel},
		{"ClaimedOnceAcrossStores", testReminderClaimOnce},
		{"UnreadableDropped", testReminderUnreadable},
	})
}

// t0 is the queue tests' clock: the queue compares the caller's times only.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func reminderAt(chat messenger.ChatKey, n int, due time.Time) dialog.Reminder {
	return dialog.Reminder{Chat: chat, Scenario: "portrait", Version: "v1", Step: "name", N: n, Due: due}
}

// claimDue claims up to 10 reminders at now with a minute's lease.
func claimDue(t *testing.T, s *Store, now time.Time) []dialog.Reminder {
	t.Helper()
	got, err := s.ClaimReminders(t.Context(), now, time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimReminders: %v", err)
	}
	return got
}

func sameReminder(a, b dialog.Reminder) bool {
	return a.Chat == b.Chat && a.Scenario == b.Scenario && a.Version == b.Version && a.Step == b.Step &&
		a.N == b.N && a.Due.Equal(b.Due) && a.Attempts == b.Attempts
}

func testReminderDue(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	r := reminderAt(chat, 1, t0.Add(time.Hour))
	if err := s.ScheduleReminder(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if got := claimDue(t, s, t0.Add(59*time.Minute)); len(got) != 0 {
		t.Fatalf("claimed before due: %v", got)
	}
	got := claimDue(t, s, t0.Add(time.Hour))
	if len(got) != 1 || !sameReminder(got[0], r) {
		t.Fatalf("claimed %v; want [%v]", got, r)
	}
	if n, err := s.PendingReminders(t.Context()); err != nil || n != 1 {
		t.Fatalf("pending = %d, %v; want the claimed one", n, err)
	}
}

func testReminderOnePerChat(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	other := messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: chat.ID}
	for _, r := range []dialog.Reminder{reminderAt(chat, 1, t0), reminderAt(chat, 2, t0.Add(time.Hour)), reminderAt(other, 1, t0)} {
		if err := s.ScheduleReminder(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.PendingReminders(t.Context()); n != 2 {
		t.Fatalf("pending = %d; want one per chat (the same user of two bots is two chats)", n)
	}
	got, at, ok, err := s.ReminderOf(t.Context(), chat)
	if err != nil || !ok || got.N != 2 || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ReminderOf = %v at %s, %v, %v; want the later one", got, at, ok, err)
	}
	if got := claimDue(t, s, t0); len(got) != 1 || got[0].Chat != other {
		t.Fatalf("claimed %v; want only the other bot's chat", got)
	}
}

func testReminderLease(t *testing.T, c goredis.UniversalClient) {
	s := newTestStore(t, c, Config{})
	r := reminderAt(chat, 1, t0)
	if err := s.ScheduleReminder(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if got := claimDue(t, s, t0); len(got) != 1 {
		t.Fatalf("first claim %v", got)
	}
	if got := claimDue(t, s, t0.Add(59*time.Second)); len(got) != 0 {
		t.Fatalf("claimed again within the lease: %v", got)
	}
	// The claimant died: once the lease ends, the reminder is claimed again.
	got := claimDue(t, s, t0.Add(time.Minute))
	if len(got) != 1 || !sameReminder(got[0], r) {
		t.Fatalf("after the lease: %v", got)
	}
}

func testReminderFinish(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	r := reminderAt(chat, 1, t0)
	if err := s.ScheduleReminder(ctx, r); err != nil {
		t.Fatal(err)
	}
	claimDue(t, s, t0)
	// The chat's turn scheduled the next reminder while r was being sent.
	next := reminderAt(chat, 2, t0.Add(time.Hour))
	if err := s.ScheduleReminder(ctx, next); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReminder(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, _, ok, err := s.ReminderOf(ctx, chat)
	if err != nil || !ok || !sameReminder(got, next) {
		t.Fatalf("after finishing the old one: %v, %v, %v; want the next kept", got, ok, err)
	}
	if got := claimDue(t, s, t0.Add(time.Hour)); len(got) != 1 || got[0].N != 2 {
		t.Fatalf("claim the next: %v", got)
	}
	if err := s.FinishReminder(ctx, next); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingReminders(ctx); n != 0 {
		t.Fatalf("pending = %d after finishing; want 0", n)
	}
	if got := claimDue(t, s, t0.Add(24*time.Hour)); len(got) != 0 {
		t.Fatalf("a finished reminder was claimed: %v", got)
	}
}

func testReminderRetry(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	r := reminderAt(chat, 1, t0)
	if err := s.ScheduleReminder(ctx, r); err != nil {
		t.Fatal(err)
	}
	claimDue(t, s, t0)
	later := t0.Add(10 * time.Hour) // the end of the client's quiet hours
	if err := s.RetryReminder(ctx, r, 2, later); err != nil {
		t.Fatal(err)
	}
	if got := claimDue(t, s, later.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("claimed before its new time: %v", got)
	}
	got := claimDue(t, s, later)
	want := r
	want.Attempts = 2
	if len(got) != 1 || !sameReminder(got[0], want) || !got[0].Due.Equal(t0) {
		t.Fatalf("claimed %v; want %v (its Due, the state's, unchanged)", got, want)
	}
	// A retry of an entry that is no longer the chat's changes nothing.
	if err := s.RetryReminder(ctx, r, 3, t0); err != nil {
		t.Fatal(err)
	}
	if got := claimDue(t, s, later); len(got) != 0 {
		t.Fatalf("a stale retry put the reminder back: %v", got)
	}
}

func testReminderCancel(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	for _, id := range []string{"1", "2"} {
		if err := s.ScheduleReminder(ctx, reminderAt(messenger.ChatKey{Platform: messenger.VK, ID: id}, 1, t0)); err != nil {
			t.Fatal(err)
		}
	}
	claimDue(t, s, t0)
	for _, id := range []string{"1", "2", "3"} { // 3 has none: not an error
		if err := s.CancelReminder(ctx, messenger.ChatKey{Platform: messenger.VK, ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.PendingReminders(ctx); n != 0 {
		t.Fatalf("pending = %d after cancelling; want 0", n)
	}
	if got := claimDue(t, s, t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("cancelled reminders claimed after their lease: %v", got)
	}
}

// testReminderClaimOnce: two stores (two processes) claim from one queue
// at once, in many rounds: every reminder is claimed by exactly one.
func testReminderClaimOnce(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	a := newTestStore(t, c, Config{})
	b, err := New(c, Config{Prefix: a.cfg.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	const chats = 300
	for i := range chats {
		r := reminderAt(messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint(i)}, 1, t0.Add(time.Duration(i)*time.Millisecond))
		if err := a.ScheduleReminder(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimReminders(ctx, t0.Add(time.Second), time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					seen[r.Chat.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != chats {
		t.Fatalf("%d chats claimed; want %d", len(seen), chats)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("chat %s claimed %d times", id, n)
		}
	}
}

func testReminderUnreadable(t *testing.T, c goredis.UniversalClient) {
	ctx := t.Context()
	s := newTestStore(t, c, Config{})
	if err := c.HSet(ctx, s.keys.reminderItem(), "telegram:9", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, s.keys.reminderDue(), goredis.Z{Score: float64(t0.UnixMilli()), Member: "telegram:9"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, s.keys.reminderDue(), goredis.Z{Score: float64(t0.UnixMilli()), Member: "telegram:10"}).Err(); err != nil {
		t.Fatal(err) // an entry without its item
	}
	if got := claimDue(t, s, t0); len(got) != 0 {
		t.Fatalf("claimed %v", got)
	}
	for _, key := range []string{s.keys.reminderItem(), s.keys.reminderDue(), s.keys.reminderLease()} {
		if n, _ := c.Exists(ctx, key).Result(); n != 0 {
			t.Errorf("%s still exists: unreadable entries are dropped", key)
		}
	}
}

func TestReminderKeysShareASlot(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"chathub", "t_0123", "prod:eu"} {
		k := keys{prefix: prefix}
		due, item, lease := k.reminderDue(), k.reminderItem(), k.reminderLease()
		if clusterSlot(due) != clusterSlot(item) || clusterSlot(due) != clusterSlot(lease) {
			t.Errorf("%s, %s and %s are in slots %d, %d and %d; want one", due, item, lease,
				clusterSlot(due), clusterSlot(item), clusterSlot(lease))
		}
	}
	if got := (keys{prefix: "chathub"}).reminderDue(); got != "chathub:{remind}:due" {
		t.Errorf("due key %q", got)
	}
	if got := reminderMember(messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "5"}); got != "telegram@shop:5" {
		t.Errorf("member %q", got)
	}
}

// TestReminderEncodingStable: the conditional scripts compare entries as
// bytes, so one reminder must always encode the same.
func TestReminderEncodingStable(t *testing.T) {
	t.Parallel()
	r := reminderAt(messenger.ChatKey{Platform: messenger.VK, Bot: "club", ID: "7"}, 3, t0.Add(123456789*time.Nanosecond))
	r.Attempts = 2
	a, err := encodeReminder(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeReminder(a)
	if err != nil || !sameReminder(back, r) {
		t.Fatalf("decoded %v, %v; want %v", back, err, r)
	}
	b, _ := encodeReminder(back)
	if a != b {
		t.Fatalf("%s re-encodes as %s", a, b)
	}
	if _, err := decodeReminder(`{"p":"","i":"1"}`); err == nil {
		t.Fatal("an entry without a platform decoded")
	}
}
