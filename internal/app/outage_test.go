package app

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/platformtest/faultproxy"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// portraitFields are the fields the portrait scenario records, one answer
// each, in order.
var portraitFields = []string{"consent", "first_name", "age", "city", "family_status", "attributes.interests", "phone"}

// storeOutage names a store the outage tests take away and how.
type storeOutage struct {
	check string // its /readyz check
	name  string // as the outage's log lines name it
	proxy func(t *testing.T, cfg *config.Config) *faultproxy.Proxy
}

var (
	postgresOutage = storeOutage{check: "postgres", name: "PostgreSQL", proxy: proxyDatabase}
	redisOutage    = storeOutage{check: "redis", name: "Redis", proxy: proxyRedis}
)

// TestStoreOutageMidConversation: a client is in the middle of the portrait
// survey when PostgreSQL (or Redis) becomes unreachable, and answers. The
// update is retried with backoff and not acknowledged (long polling: the
// offset stays before it and the adapter delivers it again; webhook: a
// non-2xx answer, so Telegram sends it again), no reply goes out, /readyz
// answers 503 naming the store. Once the store is back the same answer is
// recorded exactly once and the conversation goes on with the next question:
// one reply per client message, every answer in the CRM once.
func TestStoreOutageMidConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		store   storeOutage
		webhook bool
	}{
		{"postgres/long polling", postgresOutage, false},
		{"postgres/webhook", postgresOutage, true},
		{"redis/long polling", redisOutage, false},
		{"redis/webhook", redisOutage, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := outageConfig(t)
			proxy := tt.store.proxy(t, &cfg)
			o := startOutageRuntime(t, cfg, telegramtest.New(t), tt.webhook)
			user := int64(6101 + i)
			o.converse(t, user, portraitTurns[:3]...) // the age question is open
			o.waitReadiness(t, http.StatusOK, map[string]string{"postgres": "ok", "redis": "ok"})

			atCut := len(o.logs.String())
			proxy.Cut()
			o.waitReadiness(t, http.StatusServiceUnavailable, otherOK(tt.store.check))
			id := o.answerWhileDown(t, user, "43", 2)
			if n := len(o.fake.Messages(user)); n != 3 {
				t.Fatalf("%d replies went out while %s was down", n-3, tt.store.check)
			}

			proxy.Restore()
			if o.webhook != "" {
				// Telegram's next attempt.
				if status := o.post(t, id); status != http.StatusOK {
					t.Fatalf("webhook answered %d after %s came back", status, tt.store.check)
				}
			}
			o.expectReply(t, user, 3, portraitCity)
			o.waitReadiness(t, http.StatusOK, map[string]string{"postgres": "ok", "redis": "ok"})
			eventually(t, "the recovery is logged", func() bool {
				return strings.Contains(o.logs.String()[atCut:], `"msg":"`+tt.store.name+` recovered"`)
			})
			// One line each way, not one per failed attempt or webhook call;
			// /readyz's failing check is a warning of its own.
			checkOutageLogs(t, o.logs.String()[atCut:], tt.store.name, otherWarnings)
			o.converse(t, user, portraitTurns[4:]...)

			if n := len(o.fake.Messages(user)); n != len(portraitTurns) {
				t.Fatalf("%d replies to %d client messages", n, len(portraitTurns))
			}
			if got := o.answerFields(t, user); !reflect.DeepEqual(got, portraitFields) {
				t.Fatalf("answers recorded: %v, want each once: %v", got, portraitFields)
			}
			c := o.client(t, user)
			if c.FirstName != "Анна" || c.Age == nil || *c.Age != 43 || c.City != "Самара" || c.Phone != "+79123456789" {
				t.Fatalf("client card = %+v", c)
			}
			o.noPersonalData(t, "Анна", "Самара", "+79123456789")
		})
	}
}

// otherOK is the /readyz picture with only the named check failing.
func otherOK(failing string) map[string]string {
	checks := map[string]string{"postgres": "ok", "redis": "ok"}
	checks[failing] = "unreachable"
	return checks
}

// answerWhileDown sends the client's answer while a store is down and
// checks that the update is retried with backoff and not acknowledged
// (long polling: through at least rounds failed delivery rounds); it
// returns the update id.
func (o *outageRuntime) answerWhileDown(t *testing.T, user int64, text string, rounds int) int {
	t.Helper()
	stats := o.rt.Dispatcher().Stats()
	failed, retries := stats.Failed(), stats.Retries()
	id, status := o.send(t, user, text)
	if o.webhook != "" {
		// The pipeline retried, gave up, and the webhook refused the update.
		if status/100 == 2 {
			t.Fatalf("webhook answered %d while a store was down: Telegram would not retry", status)
		}
		// Telegram retries; the store is still down: refused again.
		if status := o.post(t, id); status/100 == 2 {
			t.Fatalf("webhook answered %d to Telegram's retry while a store was down", status)
		}
	} else {
		// Long polling: the poller confirms an update to Telegram once it
		// is in the bot's Redis queue (internal/relay). With PostgreSQL down
		// it is queued and its handling fails round after round, each
		// followed by another, and it stays in the queue; with Redis down it
		// cannot be queued and stays pending at Telegram, the offset before it.
		sent := time.Now()
		eventually(t, fmt.Sprintf("the update failed %d delivery rounds or stayed at Telegram", rounds), func() bool {
			return stats.Failed()-failed >= int64(rounds) ||
				time.Since(sent) > 3*time.Second && slices.Contains(o.fake.Pending(), id)
		})
		if slices.Contains(o.fake.Pending(), id) {
			for _, r := range o.fake.Requests("getUpdates") {
				if off, _ := strconv.Atoi(r.Params["offset"]); off > id {
					t.Fatalf("getUpdates offset %d moved past update %d while a store was down", off, id)
				}
			}
		} else if o.rt.intakes[0].relay.Status().Pending == 0 {
			t.Fatalf("update %d was confirmed to Telegram and is not in the bot's queue while a store was down", id)
		}
		if stats.Failed() == failed {
			return id // it never reached the pipeline: no retries to count
		}
	}
	// Every round retries with backoff before it gives up.
	if r := stats.Retries() - retries; r < 2 {
		t.Fatalf("%d retries while a store was down", r)
	}
	return id
}

// TestRedisRestartMidConversation: the Redis holding conversation state is
// killed mid-conversation and started again while the client answers.
// Until it is back the answer is retried and not acknowledged, with no
// reply. Then:
//
//   - Redis with its data (append-only file, fsync always): the conversation
//     continues exactly where it was.
//   - Redis empty (no persistence; DESIGN.md: "Losing Redis loses only
//     in-flight dialogue position"): the update is still answered, with the
//     fallback that says how to start; the answer is not recorded (no
//     question is open any more); the CRM keeps every answer given before;
//     /start restarts the survey, which then completes normally.
//
// In both cases every client message gets exactly one reply.
func TestRedisRestartMidConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		persistent bool
	}{
		{"with its data", true},
		{"empty", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			redis := startRedisServer(t, tt.persistent)
			cfg := outageConfig(t)
			cfg.RedisURL = redis.URL()
			o := startOutageRuntime(t, cfg, telegramtest.New(t), false)
			user := int64(6201 + i)
			o.converse(t, user, portraitTurns[:3]...)

			redis.kill()
			o.waitReadiness(t, http.StatusServiceUnavailable, otherOK("redis"))
			// One round: with Redis gone, go-redis spends about half a second
			// redialling per command, so a round takes seconds.
			o.answerWhileDown(t, user, "43", 1)
			if n := len(o.fake.Messages(user)); n != 3 {
				t.Fatalf("%d replies went out while Redis was down", n-3)
			}

			redis.start()
			if tt.persistent {
				o.expectReply(t, user, 3, portraitCity)
				o.converse(t, user, portraitTurns[4:]...)
				if got := o.answerFields(t, user); !reflect.DeepEqual(got, portraitFields) {
					t.Fatalf("answers recorded: %v, want %v", got, portraitFields)
				}
				if n := len(o.fake.Messages(user)); n != len(portraitTurns) {
					t.Fatalf("%d replies to %d client messages", n, len(portraitTurns))
				}
				return
			}
			o.expectReply(t, user, 3, fallbackText)
			if got, want := o.answerFields(t, user), portraitFields[:2]; !reflect.DeepEqual(got, want) {
				t.Fatalf("answers after Redis came back empty: %v, want the ones given before: %v", got, want)
			}
			if c := o.client(t, user); c.FirstName != "Анна" || c.ConsentAt == nil {
				t.Fatalf("client card lost what was answered: %+v", c)
			}
			o.converse(t, user, portraitTurns...) // the client starts over
			if n := len(o.fake.Messages(user)); n != 3+1+len(portraitTurns) {
				t.Fatalf("%d replies to %d client messages", n, 3+1+len(portraitTurns))
			}
			want := append(append([]string(nil), portraitFields[:2]...), portraitFields...)
			if got := o.answerFields(t, user); !reflect.DeepEqual(got, want) {
				t.Fatalf("answers recorded: %v, want %v", got, want)
			}
		})
	}
}
