package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestHandoffSkippedAtSend: a client whose chat went to a manager after the
// fill is skipped at send time (in_handoff); the others get the broadcast,
// written into their transcripts.
func TestHandoffSkippedAtSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 5
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	e.exec("INSERT INTO handoffs (client_id, reason, created_at, waiting_since, last_activity_at) " +
		"SELECT id, 'manager', now(), now(), now() FROM clients WHERE platform_user_id = '3'")
	e.workers(nil, telegramChannel(t, fake))
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	for i := 1; i <= n; i++ {
		want := 1
		if i == 3 {
			want = 0
		}
		if got := len(fake.Messages(int64(i))); got != want {
			t.Errorf("user %d got %d messages, want %d", i, got, want)
		}
	}
	st, err := e.svc.Stats(context.Background(), c.ID)
	if err != nil || st.Sent != n-1 || st.SkippedByReason[broadcast.ReasonInHandoff] != 1 {
		t.Fatalf("stats %+v, %v; want %d sent, 1 skipped in_handoff", st, err, n-1)
	}
	if got := e.count("SELECT COUNT(*) FROM messages WHERE author_kind = 'broadcast' AND direction = 'out' AND text <> ''"); got != n-1 {
		t.Errorf("%d broadcasts in the transcripts, want %d", got, n-1)
	}
}
