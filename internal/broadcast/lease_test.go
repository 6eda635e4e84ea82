package broadcast_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// stallSender holds the send to one chat until released, whatever its
// context says: a process frozen mid-send (a GC pause, a stopped VM).
type stallSender struct {
	messenger.Sender
	chat    string
	held    chan struct{} // closed when the send to chat is being held
	release chan struct{}
	once    sync.Once
	freed   sync.Once
}

// free lets the held send go on (once).
func (s *stallSender) free() { s.freed.Do(func() { close(s.release) }) }

func newStallSender(s messenger.Sender, chat string) *stallSender {
	return &stallSender{Sender: s, chat: chat, held: make(chan struct{}), release: make(chan struct{})}
}

func (s *stallSender) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	if msg.Chat.ID == s.chat {
		s.once.Do(func() { close(s.held) })
		<-s.release
	}
	return s.Sender.Send(ctx, msg)
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestStalledWorkerPastItsLease: worker A freezes mid-send past its lease;
// B takes the rows over and is still sending them when A wakes up. A's
// frozen send is cut by its deadline (3/4 of the lease), A sends nothing
// more and does not hand B's rows back, so no third claim sends them again:
// everyone gets exactly one message.
func TestStalledWorkerPastItsLease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	fake := telegramtest.New(t)
	const n = 20
	e.telegramUsers(fake, n)
	c := e.started(broadcast.Campaign{})
	const lease = 2 * time.Second
	one := func(id string) func(*broadcast.WorkersConfig) {
		return func(cfg *broadcast.WorkersConfig) {
			cfg.ID, cfg.Workers, cfg.ClaimSize, cfg.Lease, cfg.PollInterval = id, 1, n, lease, 10*time.Millisecond
		}
	}
	chA, chB := telegramChannel(t, fake), telegramChannel(t, fake)
	stallA := newStallSender(chA.Sender, "1")
	chA.Sender = stallA
	stallB := newStallSender(chB.Sender, "2")
	chB.Sender = stallB
	e.workers(one("a"), chA)
	t.Cleanup(stallA.free) // before the workers' Stop: a failed test must not hang in it
	waitClosed(t, stallA.held, "worker a to send to chat 1")
	time.Sleep(lease + 200*time.Millisecond)
	e.workers(one("b"), chB)
	t.Cleanup(stallB.free)
	waitClosed(t, stallB.held, "worker b to take the rows over")
	if got := e.count("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND claimed_by = 'b:0'", c.ID); got != n {
		t.Fatalf("b holds %d rows, want all %d", got, n)
	}
	stallA.free()
	// A records its send, gives up the rest, and polls again for rows.
	time.Sleep(300 * time.Millisecond)
	if got := e.count("SELECT COUNT(*) FROM deliveries WHERE campaign_id = $1 AND status = 'queued' AND claimed_by IS NULL", c.ID); got != 0 {
		t.Fatalf("a handed back %d rows b is sending", got)
	}
	stallB.free()
	e.waitState(c.ID, broadcast.Done, 20*time.Second)
	for i := 1; i <= n; i++ {
		if got := len(fake.Messages(int64(i))); got != 1 {
			t.Fatalf("user %d got %d messages", i, got)
		}
	}
	if st, _ := e.svc.Stats(context.Background(), c.ID); st.Sent != n {
		t.Fatalf("stats %+v, want %d sent", st, n)
	}
}
