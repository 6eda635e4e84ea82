package broadcast_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
)

func TestTelegramDelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 60
	e.telegramUsers(fake, n)
	fake.SetBlocked(7)
	c := e.started(broadcast.Campaign{Buttons: []broadcast.Button{{Text: "Сайт", URL: "https://example.ru"}}})
	// Unsubscribed after the fill, before the send: skipped.
	e.exec("UPDATE clients SET subscribed = FALSE WHERE platform_user_id = '9'")
	ch := telegramChannel(t, fake)
	ch.Limiter = e.limiter("telegram:test", 200)
	e.workers(nil, ch)
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	for i := 1; i <= n; i++ {
		msgs := fake.Messages(int64(i))
		want := 1
		if i == 7 || i == 9 {
			want = 0
		}
		if len(msgs) != want {
			t.Fatalf("user %d got %d messages, want %d", i, len(msgs), want)
		}
		if want == 0 {
			continue
		}
		m := msgs[0]
		if m.Text != "Имя"+strconv.Itoa(i)+", у нас новости" {
			t.Errorf("user %d text %q", i, m.Text)
		}
		caps := m.ReplyMarkup.Captions()
		if len(caps) != 2 || caps[1] != broadcast.UnsubscribeCaption || m.ReplyMarkup.InlineKeyboard[1][0].CallbackData != dialog.UnsubscribeValue {
			t.Errorf("user %d keyboard %+v", i, m.ReplyMarkup)
		}
	}
	st, _ := e.svc.Stats(context.Background(), c.ID)
	if st.Sent != n-2 || st.Blocked != 1 || st.SkippedByReason[broadcast.ReasonUnsubscribed] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if e.count("SELECT COUNT(*) FROM clients WHERE platform_user_id = '7' AND blocked_at IS NOT NULL") != 1 {
		t.Error("the client who blocked the bot is not marked blocked")
	}
	if e.count("SELECT COUNT(*) FROM clients WHERE last_broadcast_at IS NOT NULL") != n-2 {
		t.Error("last_broadcast_at not stamped on sent clients")
	}
	// The frequency cap now keeps everyone out of a second campaign.
	c2 := e.create(broadcast.Campaign{})
	if err := e.svc.Start(context.Background(), c2.ID); err != nil {
		t.Fatal(err)
	}
	st2, _ := e.svc.Stats(context.Background(), c2.ID)
	if st2.SkippedByReason[broadcast.ReasonFrequencyCap] != n-2 || st2.SkippedByReason[broadcast.ReasonBlocked] != 1 {
		t.Fatalf("second campaign stats %+v", st2)
	}
}

// dyingLedger loses every Record once dead: the worst case of a crash, a
// message sent and its outcome never written.
type dyingLedger struct {
	broadcast.Ledger
	dead atomic.Bool
	sent atomic.Int64
}

func (l *dyingLedger) Record(ctx context.Context, o []broadcast.Outcome) error {
	if l.dead.Load() {
		return context.Canceled
	}
	l.sent.Add(int64(len(o)))
	return l.Ledger.Record(ctx, o)
}

// TestVKCrashResume kills a broadcaster mid-campaign (its outcomes stop
// being recorded, then it is stopped without drain) and starts a new one:
// the rows the dead one held are taken over after the lease and resent with
// the same random_id, so every recipient has exactly one message.
func TestVKCrashResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := vktest.New(t)
	fake.SetRateLimit(0)
	const n = 1000
	e.seed(messenger.VK, 0, n)
	c := e.started(broadcast.Campaign{Text: "Новости недели"})
	dying := &dyingLedger{Ledger: e.db}
	svc1 := e.service(func(cfg *broadcast.Config) { cfg.Ledger = dying })
	ch := vkChannel(t, e, fake, 5)
	ch.BatchChats = 20
	w1, err := broadcast.NewWorkers(broadcast.WorkersConfig{Service: svc1, Channels: []broadcast.Channel{ch}, Workers: 2,
		ClaimSize: 100, PollInterval: 10 * time.Millisecond, Lease: 2 * time.Second, ID: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for w1.Sent() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	dying.dead.Store(true)
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	w1.Stop(cut)
	if e.count("SELECT COUNT(*) FROM deliveries WHERE claimed_by LIKE 'dead%'") == 0 {
		t.Fatal("the dead broadcaster left no claimed rows: the test shows nothing")
	}
	e.workers(func(cfg *broadcast.WorkersConfig) { cfg.ID = "alive" }, vkChannel(t, e, fake, 50))
	e.waitState(c.ID, broadcast.Done, 30*time.Second)
	for i := 1; i <= n; i++ {
		if got := len(fake.Messages(i)); got != 1 {
			t.Fatalf("user %d got %d messages", i, got)
		}
	}
	if st, _ := e.svc.Stats(context.Background(), c.ID); st.Sent != n {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("sends recorded before the crash: %d; peer_ids requests: %d", dying.sent.Load(), fake.Calls("messages.send"))
}

// TestTwoBroadcasters runs two broadcaster instances on one campaign: both
// work, nobody gets two messages.
func TestTwoBroadcasters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 400
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	small := func(id string) func(*broadcast.WorkersConfig) {
		return func(cfg *broadcast.WorkersConfig) { cfg.ID, cfg.ClaimSize = id, 10 }
	}
	a := e.workers(small("a"), telegramChannel(t, fake))
	b := e.workers(small("b"), telegramChannel(t, fake))
	e.waitState(c.ID, broadcast.Done, 30*time.Second)
	for i := 1; i <= n; i++ {
		if got := len(fake.Messages(int64(i))); got != 1 {
			t.Fatalf("user %d got %d messages", i, got)
		}
	}
	if a.Sent() == 0 || b.Sent() == 0 || a.Sent()+b.Sent() != n {
		t.Fatalf("sent a=%d b=%d, want both > 0 and %d in all", a.Sent(), b.Sent(), n)
	}
}

// TestTextLongerThanOneMessage: a recipient whose card renders the text
// longer than one message gets nothing (failed, too_long) instead of the
// text split over several messages counted as one send; the others get
// exactly one message each, as the stats say.
func TestTextLongerThanOneMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	e.telegramUsers(fake, 3)
	e.exec(`UPDATE clients SET attributes = jsonb_build_object('bio', repeat('я', 5000)) WHERE platform_user_id = '2'`)
	c := e.started(broadcast.Campaign{Text: "{{ .client.first_name }} {{ .client.attributes.bio }}"})
	e.workers(nil, telegramChannel(t, fake))
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	messages := 0
	for i := int64(1); i <= 3; i++ {
		got := len(fake.Messages(i))
		messages += got
		if want := map[bool]int{true: 0, false: 1}[i == 2]; got != want {
			t.Errorf("user %d got %d messages, want %d", i, got, want)
		}
	}
	st, err := e.svc.Stats(context.Background(), c.ID)
	if err != nil || st.Sent != messages || st.Sent != 2 || st.FailedByReason[broadcast.ReasonTooLong] != 1 {
		t.Fatalf("stats %+v, %v; want 2 sent (the %d messages delivered) and 1 failed too_long", st, err, messages)
	}
}
