package broadcast_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// quietWindow is a quiet-hours setting that holds now (Moscow time, the
// service's default zone) and ends in `ends`.
func quietWindow(ends time.Duration) string {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		loc = time.FixedZone("MSK", 3*3600)
	}
	now := time.Now().In(loc)
	from, to := now.Add(-time.Hour), now.Add(ends)
	return fmt.Sprintf("%02d:%02d-%02d:%02d", from.Hour(), from.Minute(), to.Hour(), to.Minute())
}

// TestQuietHoldsFollowTheSetting: rows held for quiet hours are re-checked
// against the setting as it is when the campaign is resumed, and when a
// process (re)starts its workers: turned off, they are sent at once; a
// window that ends earlier moves their hold earlier.
func TestQuietHoldsFollowTheSetting(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"resume", "restart", "shorter window"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "")
			ctx := context.Background()
			fake := telegramtest.New(t)
			e.telegramUsers(fake, 3)
			e.svc = e.service(func(c *broadcast.Config) { c.QuietHours = quietWindow(3 * time.Hour) })
			c := e.started(broadcast.Campaign{})
			if st, _ := e.svc.Stats(ctx, c.ID); st.QueuedByReason[broadcast.ReasonQuietHours] != 3 {
				t.Fatalf("after the fill: %+v, want 3 rows held for quiet hours", st)
			}
			switch how {
			case "resume":
				if err := e.svc.Pause(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
				e.svc = e.service(func(c *broadcast.Config) { c.QuietHours = "off" })
				if err := e.svc.Resume(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
				if st, _ := e.svc.Stats(ctx, c.ID); st.QueuedByReason[broadcast.ReasonQuietHours] != 0 {
					t.Fatalf("after resume with quiet hours off: %+v, want no row held", st)
				}
			case "restart":
				e.svc = e.service(func(c *broadcast.Config) { c.QuietHours = "off" })
			case "shorter window":
				e.svc = e.service(func(c *broadcast.Config) { c.QuietHours = quietWindow(time.Hour) })
				if _, err := e.svc.RecheckQuietHours(ctx, c); err != nil {
					t.Fatal(err)
				}
				late := e.count(`SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND reason = 'quiet_hours'
					AND next_attempt_at BETWEEN now() + interval '55 minutes' AND now() + interval '61 minutes'`, c.ID)
				if late != 3 {
					t.Fatalf("%d of 3 holds moved to the shorter window's end", late)
				}
				return
			}
			e.workers(nil, telegramChannel(t, fake))
			e.waitState(c.ID, broadcast.Done, 20*time.Second)
			for i := int64(1); i <= 3; i++ {
				if n := len(fake.Messages(i)); n != 1 {
					t.Errorf("user %d got %d messages, want 1", i, n)
				}
			}
		})
	}
}
