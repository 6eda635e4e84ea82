package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestUnreachableRowsAreSkipped: a segment with terminal clients (chathub
// chat) and VK clients while only a Telegram bot runs. The terminal rows are
// skipped at the fill, the VK rows once the process has run long enough to
// know no process sends through VK; the campaign finishes and the dry run
// says so.
func TestUnreachableRowsAreSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	e.svc = e.service(func(c *broadcast.Config) { c.Registry, c.ChannelTTL = e.db, time.Second })
	fake := telegramtest.New(t)
	e.telegramUsers(fake, 3)
	e.seed(messenger.Terminal, 100, 2)
	e.seed(messenger.VK, 200, 2)
	c := e.started(broadcast.Campaign{})
	if st, _ := e.svc.Stats(ctx, c.ID); st.SkippedByReason[broadcast.ReasonNoChannel] != 2 {
		t.Fatalf("after the fill: stats %+v, want the 2 terminal rows skipped no_channel", st)
	}
	e.workers(nil, telegramChannel(t, fake))
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	st, err := e.svc.Stats(ctx, c.ID)
	if err != nil || st.Sent != 3 || st.Skipped != 4 || st.SkippedByReason[broadcast.ReasonNoChannel] != 4 || st.Queued != 0 {
		t.Fatalf("stats %+v, %v; want 3 sent, 4 skipped no_channel", st, err)
	}

	c2 := e.create(broadcast.Campaign{})
	previews, err := e.svc.DryRun(ctx, c2.ID, 50)
	if err != nil || len(previews) != 7 {
		t.Fatalf("DryRun = %+v, %v", previews, err)
	}
	for _, p := range previews {
		want := broadcast.ReasonNoChannel
		if p.Platform == messenger.Telegram {
			want = broadcast.ReasonFrequencyCap
		}
		if p.Skipped != want {
			t.Errorf("preview of a %s client: skipped %q, want %q", p.Platform, p.Skipped, want)
		}
	}
}

// TestRowsOfAnotherProcessWait: VK rows stay queued while another process
// has registered a VK bot, and are skipped once its registration expires.
func TestRowsOfAnotherProcessWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	const ttl = 5 * time.Second
	e.svc = e.service(func(c *broadcast.Config) { c.Registry, c.ChannelTTL = e.db, ttl })
	fake := telegramtest.New(t)
	e.telegramUsers(fake, 2)
	e.seed(messenger.VK, 200, 3)
	registered := time.Now()
	vkBot := []broadcast.ChannelKey{{Platform: messenger.VK}}
	if err := e.db.RegisterChannels(ctx, "other-host:1", vkBot, registered); err != nil {
		t.Fatal(err)
	}
	c := e.started(broadcast.Campaign{})
	e.workers(nil, telegramChannel(t, fake))
	// Telegram is sent; wait past this process's start-up grace (TTL/10).
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := e.svc.Stats(ctx, c.ID)
		if st.Sent == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("telegram rows not sent: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(ttl / 5)
	st, _ := e.svc.Stats(ctx, c.ID)
	if time.Since(registered) < ttl { // the other process still counts as running
		if st.Queued != 3 || st.Skipped != 0 {
			t.Fatalf("while another process has a VK bot: stats %+v, want the 3 VK rows queued", st)
		}
		got, _ := e.svc.Get(ctx, c.ID)
		if got.State != broadcast.Running {
			t.Fatalf("campaign %s while VK rows wait", got.State)
		}
	}
	e.waitState(c.ID, broadcast.Done, ttl+20*time.Second)
	st, _ = e.svc.Stats(ctx, c.ID)
	if st.SkippedByReason[broadcast.ReasonNoChannel] != 3 {
		t.Fatalf("after the VK registration expired: stats %+v", st)
	}
}
