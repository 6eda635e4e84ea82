package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
	"github.com/chathub/chathub/internal/platformtest/vktest"
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

// poisonPlatform is a fake platform the poison test drives.
type poisonPlatform struct {
	name  string
	env   func(t *testing.T) []string
	ready func()           // returns once the bot polls
	start func(user int64) // the user starts the bot (/start)
	send  func(user int64, text string)
	wait  func(user int64, n int) []string // the user's reply texts, at least n
	users int64                            // first user id
}

func telegramPoison(t *testing.T) poisonPlatform {
	fake := telegramtest.New(t)
	return poisonPlatform{name: "telegram long polling", users: 1000,
		env: func(*testing.T) []string {
			return []string{"TELEGRAM_TOKEN=" + fake.Token(), "TELEGRAM_API_URL=" + fake.URL()}
		},
		ready: func() {},
		start: func(u int64) { fake.SendText(u, "/start") },
		send:  func(u int64, text string) { fake.SendText(u, text) },
		wait:  func(u int64, n int) []string { return texts(fake.WaitMessages(u, n, 60*time.Second)) },
	}
}

func vkPoison(t *testing.T) poisonPlatform {
	fake := vktest.New(t)
	return poisonPlatform{name: "vk long poll", users: 1000,
		env: func(*testing.T) []string {
			return []string{"VK_TOKEN=" + fake.Token(), "VK_API_URL=" + fake.URL(), "VK_GROUP_ID=" + strconv.Itoa(fake.GroupID())}
		},
		ready: func() {
			// Events pushed before the bot's first long poll are not
			// delivered to it.
			for deadline := time.Now().Add(30 * time.Second); fake.Calls("groups.getLongPollServer") == 0; {
				if time.Now().After(deadline) {
					t.Fatal("the bot never asked for a long poll server")
				}
				time.Sleep(20 * time.Millisecond)
			}
		},
		start: func(u int64) { fake.Start(int(u), "") },
		send:  func(u int64, text string) { fake.SendText(int(u), text, "") },
		wait: func(u int64, n int) []string {
			var out []string
			for _, m := range fake.WaitMessages(int(u), n, 60*time.Second) {
				out = append(out, m.Text)
			}
			return out
		},
	}
}

// TestPoisonUpdateDoesNotStopOtherChats runs a real `chathub run` (long
// polling the fake Bot API or VK's Bots Long Poll, on PostgreSQL and
// Redis). One client answers the age question with 99999999999, which the
// age column cannot hold; then more clients than a getUpdates answer holds
// (100) write. Before the fix the database's "integer out of range" was
// retried as transient and pinned the getUpdates offset: after 99 newer
// updates nobody was answered, for ever. Now the value is re-asked in
// Russian, and every other chat is answered.
func TestPoisonUpdateDoesNotStopOtherChats(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real process")
	}
	storetest.SkipUnlessServices(t)
	for name, mk := range map[string]func(*testing.T) poisonPlatform{"telegram": telegramPoison, "vk": vkPoison} {
		t.Run(name, func(t *testing.T) { testPoison(t, mk(t)) })
	}
}

func testPoison(t *testing.T, p poisonPlatform) {
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
	c := &child{t: t, log: logf, env: append([]string{
		childEnv + "=1",
		"DATABASE_URL=" + storetest.PostgresURL(t), "REDIS_URL=" + storetest.RedisURL(), "REDIS_PREFIX=" + prefix,
		"SCENARIOS_DIR=" + scenarios, "HTTP_ADDR=127.0.0.1:" + freePort(t),
		"HANDLE_TIMEOUT=2s", "LOG_LEVEL=info", "LOG_FORMAT=json",
	}, p.env(t)...)}
	c.start()
	defer func() {
		if t.Failed() {
			logs, _ := os.ReadFile(logf.Name())
			t.Logf("chathub run log (tail):\n%s", tail(string(logs), 4000))
		}
	}()

	p.ready()
	poisoned := p.users
	p.start(poisoned)
	p.wait(poisoned, 1)
	p.send(poisoned, "99999999999")
	const others = 150
	for i := range others {
		p.start(p.users + 1 + int64(i))
	}
	for i := range others {
		if got := p.wait(p.users+1+int64(i), 1); len(got) != 1 || got[0] != "Сколько вам лет?" {
			t.Fatalf("client %d (of %d written after the poison update): replies %q", i+1, others, got)
		}
	}
	got := p.wait(poisoned, 2)
	if len(got) != 2 || !strings.Contains(got[1], "от 0 до 150") {
		t.Fatalf("the poisoned chat's replies %q; want the age re-asked with its range", got)
	}
	// The poisoned chat goes on: a sane answer is taken.
	p.send(poisoned, "43")
	if got := p.wait(poisoned, 3); len(got) != 3 || got[2] != "Записали." {
		t.Fatalf("the poisoned chat after a sane answer: %q", got)
	}
	c.stop()
}
