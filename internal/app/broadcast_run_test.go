package app

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
)

// TestRunDeliversCampaign: a campaign created and started through the
// management service is sent by the running `chathub run`, one message per
// recipient, through the bot's shared budget; with TELEGRAM_PAID_BROADCAST
// every broadcast message carries allow_paid_broadcast and replies do not.
func TestRunDeliversCampaign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		paid bool
	}{
		{"free", false},
		{"paid broadcast", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newCastEnv(t, func(c *config.Config) { c.Telegram.PaidBroadcast = tt.paid })
			e.start(t)
			const n = 40
			e.seed(t, n)
			c := e.launch(t, "{{ .client.first_name }}, у нас новости")
			st := e.waitState(t, c.ID, broadcast.Done)
			if st.Sent != n || st.Failed != 0 {
				t.Fatalf("stats %+v, want %d sent", st, n)
			}
			e.exactlyOnce(t, n)
			if m := e.fake.Messages(7)[0]; m.Text != "Имя7, у нас новости" {
				t.Fatalf("user 7 got %q", m.Text)
			}
			reqs := e.fake.Requests("sendMessage")
			for _, r := range reqs {
				if got, want := r.Params["allow_paid_broadcast"] == "true", tt.paid; got != want {
					t.Fatalf("allow_paid_broadcast=%q on a broadcast with TELEGRAM_PAID_BROADCAST=%v", r.Params["allow_paid_broadcast"], tt.paid)
				}
			}
			// A reply of the same runtime is never a paid broadcast.
			e.fake.SendText(1, "/start")
			msgs := e.fake.WaitMessages(1, 2, castTimeout)
			reqs = e.fake.Requests("sendMessage")
			if last := reqs[len(reqs)-1]; last.Params["allow_paid_broadcast"] != "" {
				t.Fatalf("reply %q carries allow_paid_broadcast", msgs[1].Text)
			}
		})
	}
}

// TestRunStopDrainsBroadcast stops `chathub run` while a campaign is sending
// at 30 msg/s: Stop returns with every send recorded and every claimed row
// handed back, nothing is sent after it; a new runtime finishes the
// campaign and each recipient has exactly one message.
func TestRunStopDrainsBroadcast(t *testing.T) {
	t.Parallel()
	e := newCastEnv(t, nil)
	rt := e.start(t)
	const n = 200
	e.seed(t, n)
	c := e.launch(t, "Новости недели")
	deadline := time.Now().Add(castTimeout)
	for len(e.fake.Accepted()) < 30 && e.fake.Calls("sendMessage") < 30 {
		if time.Now().After(deadline) {
			t.Fatal("the broadcaster sends nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := time.Now()
	if err := rt.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %s", time.Since(stopped).Round(time.Millisecond))
	sent := e.fake.Calls("sendMessage")
	if sent >= n {
		t.Fatalf("all %d sent before Stop: the test shows nothing", n)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'", c.ID); got != sent {
		t.Fatalf("%d messages sent, %d recorded sent after the drain", sent, got)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND claimed_by IS NOT NULL", c.ID); got != 0 {
		t.Fatalf("%d rows still claimed after the drain", got)
	}
	time.Sleep(600 * time.Millisecond) // longer than a poll interval
	if got := e.fake.Calls("sendMessage"); got != sent {
		t.Fatalf("%d messages sent after Stop", got-sent)
	}
	e.start(t)
	st := e.waitState(t, c.ID, broadcast.Done)
	if st.Sent != n {
		t.Fatalf("stats %+v, want %d sent", st, n)
	}
	e.exactlyOnce(t, n)
	t.Logf("%d sent before the stop, %d after the restart", sent, n-sent)
}

// TestRunFinishesWithTerminalClients: a segment that also holds clients of
// `chathub chat` (platform terminal, no bot reaches them) is sent to the
// others and finishes; the terminal rows end skipped (no_channel).
func TestRunFinishesWithTerminalClients(t *testing.T) {
	t.Parallel()
	e := newCastEnv(t, nil)
	e.start(t)
	const n = 5
	e.seed(t, n)
	e.exec(t, `INSERT INTO clients (platform, platform_user_id, first_name, subscribed, created_at, updated_at)
		VALUES ('terminal', 'local', 'Консоль', TRUE, now(), now())`)
	c := e.launch(t, "Новости недели")
	st := e.waitState(t, c.ID, broadcast.Done)
	if st.Sent != n || st.Skipped != 1 || st.SkippedByReason[broadcast.ReasonNoChannel] != 1 {
		t.Fatalf("stats %+v, want %d sent and the terminal client skipped no_channel", st, n)
	}
	e.exactlyOnce(t, n)
}
