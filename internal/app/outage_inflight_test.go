package app

import (
	"reflect"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// Outages that begin while an update is being handled (the chat's turn
// taken in Redis, the handler waiting for PostgreSQL).

// prompt bounds how long the pipeline may take to catch up once the stores
// are back: one retry round and one adapter backoff (well under a second).
const prompt = 5 * time.Second

// TestStoresLostWhileAnUpdateIsInFlight: PostgreSQL is slow; while the
// handler waits for it in the middle of a client's answer, Redis and then
// PostgreSQL become unreachable; then both come back. The process never
// died, so the answer must be handled promptly once the stores are back,
// with one reply and the answer recorded once, and the other chats must not
// wait either.
func TestStoresLostWhileAnUpdateIsInFlight(t *testing.T) {
	t.Parallel()
	cfg := outageConfig(t)
	pg := proxyDatabase(t, &cfg)
	rd := proxyRedis(t, &cfg)
	o := startOutageRuntime(t, cfg, telegramtest.New(t), false)
	const user, other = 6301, 6302
	o.converse(t, user, portraitTurns[:3]...)

	pg.Delay(time.Second)
	stats := o.rt.Dispatcher().Stats()
	failed := stats.Failed()
	o.send(t, user, "43")
	eventually(t, "the handler waits for PostgreSQL", func() bool { return pg.Held() > 0 })
	rd.Cut()
	pg.Cut()
	eventually(t, "the update failed a delivery round", func() bool { return stats.Failed() > failed })
	if n := len(o.fake.Messages(user)); n != 3 {
		t.Fatalf("%d replies went out while the stores were down", n-3)
	}

	pg.Delay(0)
	pg.Restore()
	rd.Restore()
	back := time.Now()
	o.send(t, other, "/start")
	waitMessages(t, o.fake, other, 1, prompt, "another client's /start is answered within "+prompt.String()+" of the stores coming back")
	waitMessages(t, o.fake, user, 4, prompt, "the answer is handled within "+prompt.String()+" of the stores coming back")
	t.Logf("answer handled %s after the stores came back", time.Since(back).Round(time.Millisecond))
	o.expectReply(t, user, 3, portraitCity)
	if got := o.answerFields(t, user); !reflect.DeepEqual(got, portraitFields[:3]) {
		t.Fatalf("answers recorded: %v, want %v", got, portraitFields[:3])
	}
}

// TestRedisLostAfterTheCRMWrite: Redis becomes unreachable while the
// handler writes a client's answer to PostgreSQL, so the answer is
// committed but the conversation state cannot be saved; the update is
// retried. Once Redis is back the answer must be in the CRM once (the retry
// re-runs the same step from the old state).
func TestRedisLostAfterTheCRMWrite(t *testing.T) {
	t.Parallel()
	cfg := outageConfig(t)
	pg := proxyDatabase(t, &cfg)
	rd := proxyRedis(t, &cfg)
	o := startOutageRuntime(t, cfg, telegramtest.New(t), false)
	const user = 6401
	o.converse(t, user, portraitTurns[:3]...)

	pg.Delay(200 * time.Millisecond)
	stats := o.rt.Dispatcher().Stats()
	failed := stats.Failed()
	o.send(t, user, "43")
	eventually(t, "the handler waits for PostgreSQL", func() bool { return pg.Held() > 0 })
	rd.Cut() // PostgreSQL stays up: the CRM write completes, the state save fails
	eventually(t, "the update failed a delivery round", func() bool { return stats.Failed() > failed })
	pg.Delay(0)
	rd.Restore()
	waitMessages(t, o.fake, user, 4, prompt, "the answer is handled within "+prompt.String()+" of Redis coming back")
	o.expectReply(t, user, 3, portraitCity)
	if got := o.answerFields(t, user); !reflect.DeepEqual(got, portraitFields[:3]) {
		t.Fatalf("answers recorded: %v, want each once: %v", got, portraitFields[:3])
	}
}

// waitMessages waits up to d for the user's n-th message; what says why it
// should have come.
func waitMessages(t *testing.T, fake *telegramtest.Server, user int64, n int, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for len(fake.Messages(user)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s (the chat has %d messages, want %d)", what, len(fake.Messages(user)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
