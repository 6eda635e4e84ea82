package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/store/storetest"
)

// poisonScenario asks for an age with no validate: the answer goes to the
// age column (a PostgreSQL INTEGER) as the client typed it.
const poisonScenario = `id: ages
triggers: { commands: [start] }
start: age
steps:
  age: { say: "Сколько вам лет?", input: number, save: age, next: done }
  done: { say: "Записали.", end: true }
`

// TestPoisonUpdateDoesNotStopOtherChats runs a real `chathub run` (long
// polling the fake Bot API, on PostgreSQL and Redis). One client answers
// the age question with 99999999999, which the age column cannot hold;
// then more clients than a getUpdates answer holds (100) write. Before the
// fix the database's "integer out of range" was retried as transient and
// pinned the getUpdates offset: after 99 newer updates nobody was answered,
// for ever. Now the value is re-asked in Russian, and every other chat is
// answered.
func TestPoisonUpdateDoesNotStopOtherChats(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real process")
	}
	storetest.SkipUnlessServices(t)
	fake := telegramtest.New(t)
	prefix := storetest.Name(t, "poison")
	t.Cleanup(func() { cleanRedisPrefix(t, prefix) })
	dir := t.TempDir()
	scenarios := filepath.Join(dir, "scenarios")
	if err := os.Mkdir(scenarios, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scenarios, "ages.yaml"), []byte(poisonScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	c := &child{t: t, log: logf, env: []string{
		childEnv + "=1",
		"TELEGRAM_TOKEN=" + fake.Token(), "TELEGRAM_API_URL=" + fake.URL(),
		"DATABASE_URL=" + storetest.PostgresURL(t), "REDIS_URL=" + storetest.RedisURL(), "REDIS_PREFIX=" + prefix,
		"SCENARIOS_DIR=" + scenarios, "HTTP_ADDR=127.0.0.1:" + freePort(t),
		"HANDLE_TIMEOUT=2s", "LOG_LEVEL=info", "LOG_FORMAT=json",
	}}
	c.start()
	defer func() {
		if t.Failed() {
			logs, _ := os.ReadFile(logf.Name())
			t.Logf("chathub run log (tail):\n%s", tail(string(logs), 4000))
		}
	}()

	const poisoned = int64(900)
	walk(t, fake, poisoned, []string{"/start"}, 0)
	fake.SendText(poisoned, "99999999999")
	const others = 150
	for i := range others {
		fake.SendText(int64(1000+i), "/start")
	}
	for i := range others {
		u := int64(1000 + i)
		if got := texts(fake.WaitMessages(u, 1, 60*time.Second)); len(got) != 1 || got[0] != "Сколько вам лет?" {
			t.Fatalf("client %d (of %d written after the poison update): replies %q", i+1, others, got)
		}
	}
	got := texts(fake.WaitMessages(poisoned, 2, 30*time.Second))
	if len(got) != 2 || !strings.Contains(got[1], "от 0 до 150") {
		t.Fatalf("the poisoned chat's replies %q; want the age re-asked with its range", got)
	}
	// The poisoned chat goes on: a sane answer is taken.
	fake.SendText(poisoned, "43")
	if got := texts(fake.WaitMessages(poisoned, 3, 30*time.Second)); len(got) != 3 || got[2] != "Записали." {
		t.Fatalf("the poisoned chat after a sane answer: %q", got)
	}
	c.stop()
}
