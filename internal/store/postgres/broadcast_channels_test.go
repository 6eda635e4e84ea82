package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// TestBroadcastUpkeep runs the queries behind no_channel, the quiet-hours
// re-check and the dry run's recipients on every backend.
func TestBroadcastUpkeep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"ChannelRegistryAndSkip", testChannelRegistry},
		{"QuietHoldsMove", testQuietHolds},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b.open(t))
				})
			}
		})
	}
}

func testChannelRegistry(t *testing.T, s *Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	tg := broadcast.ChannelKey{Platform: messenger.Telegram}
	vk := broadcast.ChannelKey{Platform: messenger.VK, Bot: "shop"}
	if err := s.RegisterChannels(ctx, "a:1", []broadcast.ChannelKey{tg}, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterChannels(ctx, "b:2", []broadcast.ChannelKey{tg, vk}, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterChannels(ctx, "a:1", []broadcast.ChannelKey{tg}, now); err != nil { // a stamps again
		t.Fatal(err)
	}
	for _, tc := range []struct {
		since time.Time
		want  []broadcast.ChannelKey
	}{
		{now.Add(-2 * time.Hour), []broadcast.ChannelKey{tg, vk}},
		{now.Add(-time.Minute), []broadcast.ChannelKey{tg}},
		{now.Add(time.Second), nil},
	} {
		got, err := s.LiveChannels(ctx, tc.since)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("LiveChannels(%s) = %v, %v; want %v", tc.since, got, err, tc.want)
		}
	}

	w := newLedgerWorld(t, s, 3)
	key := newKey()
	key.Platform, key.Bot = vk.Platform, vk.Bot
	c := apply(t, s, key, nil)
	if err := s.AddEntries(ctx, w.campaign, []broadcast.Entry{{ClientID: c.ID, Platform: vk.Platform, Bot: vk.Bot,
		PlatformUserID: key.ID, Status: broadcast.StatusQueued}}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, err := s.QueuedChannels(ctx, w.campaign); err != nil || !slices.Equal(got, []broadcast.ChannelKey{tg, vk}) {
		t.Fatalf("QueuedChannels = %v, %v; want telegram and vk/shop", got, err)
	}
	if n, err := s.SkipQueuedChannel(ctx, w.campaign, vk, broadcast.ReasonNoChannel); err != nil || n != 1 {
		t.Fatalf("SkipQueuedChannel = %d, %v; want 1", n, err)
	}
	if got, err := s.QueuedChannels(ctx, w.campaign); err != nil || !slices.Equal(got, []broadcast.ChannelKey{tg}) {
		t.Fatalf("QueuedChannels after the skip = %v, %v; want telegram", got, err)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM deliveries WHERE client_id = ? AND status = 'skipped' AND reason = 'no_channel'", c.ID); n != 1 {
		t.Fatal("the vk row is not skipped no_channel")
	}

	last := now.Add(-24 * time.Hour).Truncate(time.Second)
	if err := s.db.Exec("UPDATE clients SET last_broadcast_at = ? WHERE id = ?", last, w.clients[0]).Error; err != nil {
		t.Fatal(err)
	}
	rs, err := s.RecipientsByID(ctx, []int64{w.clients[0], w.clients[1]})
	if err != nil || len(rs) != 2 || rs[w.clients[0]].LastBroadcastAt == nil || !rs[w.clients[0]].LastBroadcastAt.Equal(last) ||
		rs[w.clients[1]].LastBroadcastAt != nil {
		t.Fatalf("RecipientsByID = %+v, %v; want the first with last broadcast %s", rs, err, last)
	}
}

func testQuietHolds(t *testing.T, s *Store) {
	ctx := context.Background()
	w := newLedgerWorld(t, s, 1)
	morning := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Minute)
	var entries []broadcast.Entry
	var held []int64
	for range 3 {
		key := newKey()
		c := apply(t, s, key, nil)
		held = append(held, c.ID)
		entries = append(entries, broadcast.Entry{ClientID: c.ID, Platform: key.Platform, PlatformUserID: key.ID,
			Status: broadcast.StatusQueued, Reason: broadcast.ReasonQuietHours, NotBefore: morning})
	}
	if err := s.AddEntries(ctx, w.campaign, entries, held[2], true); err != nil {
		t.Fatal(err)
	}
	page, err := s.QuietHolds(ctx, w.campaign, 0, 2)
	if err != nil || len(page) != 2 || page[0].ClientID != held[0] || !page[0].NotBefore.Equal(morning) {
		t.Fatalf("QuietHolds page 1 = %+v, %v", page, err)
	}
	if page, err = s.QuietHolds(ctx, w.campaign, page[1].ClientID, 2); err != nil || len(page) != 1 || page[0].ClientID != held[2] {
		t.Fatalf("QuietHolds page 2 = %+v, %v", page, err)
	}
	// A claimed row keeps its hold: its worker settles it.
	if err := s.db.Exec("UPDATE deliveries SET claimed_by = 'x', claimed_at = ? WHERE client_id = ?", time.Now().UTC(), held[2]).Error; err != nil {
		t.Fatal(err)
	}
	now, earlier := time.Now().UTC().Truncate(time.Second), morning.Add(-time.Hour)
	holds := []broadcast.Hold{{Recipient: broadcast.Recipient{ClientID: held[0]}}, {Recipient: broadcast.Recipient{ClientID: held[1]}, NotBefore: earlier},
		{Recipient: broadcast.Recipient{ClientID: held[2]}}}
	if err := s.MoveHolds(ctx, w.campaign, holds, now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client int64
		reason string
		at     time.Time
	}{
		{held[0], "", now},
		{held[1], broadcast.ReasonQuietHours, earlier},
		{held[2], broadcast.ReasonQuietHours, morning},
	} {
		var reason string
		var at time.Time
		if _, err := queryOne(s.db, "SELECT reason, next_attempt_at FROM deliveries WHERE campaign_id = ? AND client_id = ?",
			[]any{w.campaign, tc.client}, &reason, timeScanner{v: &at}); err != nil {
			t.Fatal(err)
		}
		if reason != tc.reason || !at.Equal(tc.at) {
			t.Errorf("client %d: reason %q, next attempt %s; want %q, %s", tc.client, reason, at, tc.reason, tc.at)
		}
	}
}
