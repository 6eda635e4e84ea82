package broadcast_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

func TestServiceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.seed(messenger.Telegram, 0, 3)
	for _, tc := range []struct {
		name  string
		c     broadcast.Campaign
		field string
	}{
		{"no name", broadcast.Campaign{Segment: "subscribed", Text: "x"}, "name"},
		{"bad segment", broadcast.Campaign{Name: "a", Segment: "agee > 3", Text: "x"}, "segment"},
		{"bad template", broadcast.Campaign{Name: "a", Segment: "subscribed", Text: "{{ .client.nme }}"}, "text"},
		{"bad button", broadcast.Campaign{Name: "a", Segment: "subscribed", Text: "x", Buttons: []broadcast.Button{{Text: "Сайт", URL: "ftp://x"}}}, "buttons[0]"},
		{"button both", broadcast.Campaign{Name: "a", Segment: "subscribed", Text: "x", Buttons: []broadcast.Button{{Text: "b", URL: "https://x.ru", Scenario: "s"}}}, "buttons[0]"},
		{"bad image", broadcast.Campaign{Name: "a", Segment: "subscribed", Text: "x", ImageURL: "nope"}, "image_url"},
		{"bad platform", broadcast.Campaign{Name: "a", Segment: "subscribed", Text: "x", Platforms: []messenger.Platform{"icq"}}, "platforms"},
	} {
		_, err := e.svc.Create(ctx, tc.c)
		var ve *broadcast.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: Create error = %v, want a ValidationError on %s", tc.name, err, tc.field)
		}
	}
	if n := e.count("SELECT COUNT(*) FROM campaigns"); n != 0 {
		t.Fatalf("%d campaigns stored after bad input", n)
	}

	c := e.create(broadcast.Campaign{Segment: "subscribed", Buttons: []broadcast.Button{{Text: "Сайт", URL: "https://example.ru"}}})
	if c.State != broadcast.Draft || c.ID == 0 {
		t.Fatalf("created %+v", c)
	}
	at := time.Now().Add(time.Hour)
	s := e.create(broadcast.Campaign{StartAt: &at})
	if s.State != broadcast.Scheduled {
		t.Fatalf("with StartAt: %s", s.State)
	}
	if _, err := e.svc.Get(ctx, 999); !errors.Is(err, broadcast.ErrNotFound) {
		t.Fatalf("Get(999) = %v", err)
	}
	list, err := e.svc.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != s.ID || len(list[1].Buttons) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	previews, err := e.svc.DryRun(ctx, c.ID, 10)
	if err != nil || len(previews) != 3 {
		t.Fatalf("DryRun = %+v, %v", previews, err)
	}
	for _, p := range previews {
		if p.Text != p.Name+", у нас новости" || p.Skipped != "" {
			t.Errorf("preview %+v", p)
		}
	}
	steps := []struct {
		do   func(context.Context, int64) error
		want broadcast.State
		ok   bool
	}{
		{e.svc.Resume, broadcast.Draft, false},
		{e.svc.Pause, broadcast.Draft, false},
		{e.svc.Start, broadcast.Running, true},
		{e.svc.Start, broadcast.Running, false},
		{e.svc.Pause, broadcast.Paused, true},
		{e.svc.Pause, broadcast.Paused, false},
		{e.svc.Resume, broadcast.Running, true},
		{e.svc.Cancel, broadcast.Cancelled, true},
		{e.svc.Resume, broadcast.Cancelled, false},
		{e.svc.Cancel, broadcast.Cancelled, false},
	}
	for i, st := range steps {
		err := st.do(ctx, c.ID)
		if st.ok != (err == nil) || (!st.ok && !errors.Is(err, broadcast.ErrInvalidTransition)) {
			t.Fatalf("step %d: err %v, want ok=%v", i, err, st.ok)
		}
		got, _ := e.svc.Get(ctx, c.ID)
		if got.State != st.want {
			t.Fatalf("step %d: state %s, want %s", i, got.State, st.want)
		}
	}
	st, err := e.svc.Stats(ctx, c.ID)
	if err != nil || st.Targeted != 3 || st.Skipped != 3 || st.SkippedByReason[broadcast.ReasonCancelled] != 3 || st.FinishedAt == nil {
		t.Fatalf("Stats after cancel = %+v, %v", st, err)
	}
}

func TestLedgerFillIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.seed(messenger.Telegram, 0, 1200)
	e.seed(messenger.VK, 5000, 300)
	e.exec("UPDATE clients SET subscribed = FALSE WHERE platform_user_id IN ('1', '2')")
	e.exec("UPDATE clients SET blocked_at = now() WHERE platform_user_id = '3'")
	e.exec("UPDATE clients SET last_broadcast_at = now() - interval '2 days' WHERE platform_user_id IN ('4', '5', '6')")
	e.exec("UPDATE clients SET last_broadcast_at = now() - interval '9 days' WHERE platform_user_id = '7'")
	c := e.create(broadcast.Campaign{Platforms: []messenger.Platform{messenger.Telegram}})
	if err := e.svc.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	again, _ := e.svc.Get(ctx, c.ID)
	if !again.Filled || again.SegmentAt == nil {
		t.Fatalf("after start: %+v", again)
	}
	// A second fill from the start (a restart of a half-filled campaign
	// redoes at most a page) changes nothing.
	again.Filled, again.FillCursor = false, 0
	if err := e.svc.Fill(ctx, again); err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Stats(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{broadcast.ReasonPlatform: 300, broadcast.ReasonUnsubscribed: 2, broadcast.ReasonBlocked: 1, broadcast.ReasonFrequencyCap: 3}
	if st.Targeted != 1500 || st.Queued != 1500-306 || st.Skipped != 306 {
		t.Fatalf("stats %+v", st)
	}
	for k, v := range want {
		if st.SkippedByReason[k] != v {
			t.Errorf("skipped %s = %d, want %d (%v)", k, st.SkippedByReason[k], v, st.SkippedByReason)
		}
	}
	var rows []broadcast.Delivery
	if err := e.svc.Deliveries(ctx, c.ID, func(d broadcast.Delivery) error { rows = append(rows, d); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].ClientID <= rows[i-1].ClientID {
			t.Fatal("deliveries not in client order")
		}
	}
	if len(rows) != 1500 {
		t.Fatalf("%d deliveries streamed", len(rows))
	}
}

// TestDryRunFrequencyCap: a client who got a broadcast yesterday is shown
// as skipped by the frequency cap, unless the campaign ignores the cap.
func TestDryRunFrequencyCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.seed(messenger.Telegram, 0, 2)
	e.exec("UPDATE clients SET last_broadcast_at = now() - interval '1 day' WHERE platform_user_id = '1'")
	for _, tc := range []struct {
		name   string
		ignore bool
		want   map[string]string // name → skipped
	}{
		{"cap", false, map[string]string{"Имя1": broadcast.ReasonFrequencyCap, "Имя2": ""}},
		{"cap ignored", true, map[string]string{"Имя1": "", "Имя2": ""}},
	} {
		c := e.create(broadcast.Campaign{IgnoreFrequencyCap: tc.ignore})
		previews, err := e.svc.DryRun(ctx, c.ID, 10)
		if err != nil || len(previews) != 2 {
			t.Fatalf("%s: DryRun = %+v, %v", tc.name, previews, err)
		}
		for _, p := range previews {
			if want := tc.want[p.Name]; p.Skipped != want {
				t.Errorf("%s: %s skipped %q, want %q", tc.name, p.Name, p.Skipped, want)
			}
		}
	}
}

// TestStatsRate: the rate of a campaign younger than a minute is over its
// age, not over a whole minute; a finished campaign's is its average.
func TestStatsRate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	e.svc = e.service(func(c *broadcast.Config) { c.Now = func() time.Time { return now } })
	e.seed(messenger.Telegram, 0, 40)
	c := e.started(broadcast.Campaign{})
	// Started 10 s ago, 30 sent since: 3/s.
	e.exec("UPDATE campaigns SET started_at = $1 WHERE id = $2", now.Add(-10*time.Second), c.ID)
	e.exec(`UPDATE deliveries SET status = 'sent', sent_at = $1::timestamptz - (client_id % 10) * interval '1 second'
		WHERE campaign_id = $2 AND client_id IN (SELECT client_id FROM deliveries WHERE campaign_id = $2 ORDER BY client_id LIMIT 30)`,
		now, c.ID)
	st, err := e.svc.Stats(ctx, c.ID)
	if err != nil || st.Sent != 30 || st.Rate < 2.99 || st.Rate > 3.01 {
		t.Fatalf("10 s old campaign, 30 sent: rate %.2f/s (stats %+v, %v), want 3/s", st.Rate, st, err)
	}
	// Two minutes old: the last minute counts (the 30 sends are in it).
	e.exec("UPDATE campaigns SET started_at = $1 WHERE id = $2", now.Add(-2*time.Minute), c.ID)
	if st, _ = e.svc.Stats(ctx, c.ID); st.Rate < 0.49 || st.Rate > 0.51 {
		t.Fatalf("2 min old campaign, 30 sent in the last minute: rate %.2f/s, want 0.5/s", st.Rate)
	}
	// Finished 20 s after its start, long ago: the average, 30/20 s.
	e.exec("UPDATE campaigns SET state = 'done', started_at = $1, finished_at = $2 WHERE id = $3",
		now.Add(-time.Hour), now.Add(-time.Hour+20*time.Second), c.ID)
	if st, _ = e.svc.Stats(ctx, c.ID); st.Rate < 1.49 || st.Rate > 1.51 {
		t.Fatalf("finished campaign: rate %.2f/s, want its average 1.5/s", st.Rate)
	}
}

// TestUnfillableCampaignCancelled: a campaign whose segment no longer
// compiles when its turn comes (here: a scheduled one, its expression made
// invalid behind the service's back, as a scenario change can) is cancelled
// once by the workers instead of being retried every tick for ever.
func TestUnfillableCampaignCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.seed(messenger.Telegram, 0, 2)
	at := time.Now().Add(time.Hour)
	c := e.create(broadcast.Campaign{StartAt: &at})
	e.exec(`UPDATE campaigns SET segment = 'agee > 3', start_at = now() - interval '1 minute' WHERE id = $1`, c.ID)
	e.workers(nil, telegramChannel(t, telegramtest.New(t)))
	e.waitState(c.ID, broadcast.Cancelled, 10*time.Second)
	if n := e.count(`SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'queued'`, c.ID); n != 0 {
		t.Fatalf("%d rows still queued", n)
	}
}
