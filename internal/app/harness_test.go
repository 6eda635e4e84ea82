package app

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/store/storetest"
)

// surveyV1 is the test scenario. Line numbers matter: the invalid-edit tests
// expect errors at known positions (line 14 is age's say:, line 18 age's next:).
const surveyV1 = `id: survey
title: Анкета
triggers:
  commands: [start]
start: name
steps:
  name:
    say: "Как вас зовут?"
    input: text
    validate: { min_len: 2, max_len: 60, regex: "^[А-Яа-яЁёA-Za-z -]+$", error: "Напишите имя буквами" }
    save: first_name
    next: age
  age:
    say: "Сколько вам лет?"
    input: number
    validate: { min: 14, max: 100, error: "Напишите возраст числом от 14 до 100" }
    save: age
    next: city
  city:
    say: "Из какого вы города?"
    input: text
    validate: { min_len: 2, max_len: 60, regex: "^[А-Яа-яЁёA-Za-z -]+$", error: "Напишите город буквами" }
    save: city
    next: birth
  birth:
    say: "Когда у вас день рождения? (ДД.ММ.ГГГГ)"
    input: date
    validate: { min_date: "1900-01-01", max_date: today }
    save: birth_date
    next: bye
  bye:
    say: "Спасибо!"
    end: true
`

// Texts of surveyV1 (and of surveyV2 where they are the same).
const (
	askName   = "Как вас зовут?"
	askAge    = "Сколько вам лет?"
	askCityV1 = "Из какого вы города?"
	askCityV2 = "В каком городе вы живёте?"
	askHobby  = "Чем увлекаетесь?"
	askBirth  = "Когда у вас день рождения? (ДД.ММ.ГГГГ)"
	sayBye    = "Спасибо!"
	badCity   = "Напишите город буквами"
)

// surveyV2 changes a later question's text (city) and adds a step (hobby)
// between city and birth.
var surveyV2 = mustReplace(surveyV1,
	`say: "`+askCityV1+`"`, `say: "`+askCityV2+`"`,
	"    save: city\n    next: birth\n",
	"    save: city\n    next: hobby\n  hobby:\n    say: \""+askHobby+"\"\n    input: text\n    save: attributes.hobby\n    next: birth\n",
)

// mustReplace replaces each old/new pair exactly once and panics when an old
// string is missing, so a scenario edit can never silently not happen.
func mustReplace(s string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.Count(s, pairs[i]) != 1 {
			panic(fmt.Sprintf("mustReplace: %q occurs %d times", pairs[i], strings.Count(s, pairs[i])))
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// ---- backends ----

// backend prepares a configuration: its own scenario directory, database and
// Redis key space.
type backend struct {
	name string
	// external is true when state lives in a Redis outside the process (it
	// survives Close and can be inspected).
	external bool
	cfg      func(t *testing.T) config.Config
}

var (
	postgresRedis = backend{name: "postgres+redis", external: true, cfg: func(t *testing.T) config.Config {
		storetest.SkipUnlessServices(t)
		cfg := baseConfig(t)
		cfg.DatabaseURL = storetest.PostgresURL(t)
		cfg.RedisURL = storetest.RedisURL()
		cfg.RedisPrefix = storetest.Name(t, "t")
		cleanRedisPrefix(t, cfg.RedisPrefix)
		return cfg
	}}
	sqliteRedis = backend{name: "sqlite-file+redis", external: true, cfg: func(t *testing.T) config.Config {
		storetest.SkipUnlessServices(t)
		cfg := baseConfig(t)
		cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
		cfg.RedisURL = storetest.RedisURL()
		cfg.RedisPrefix = storetest.Name(t, "t")
		cleanRedisPrefix(t, cfg.RedisPrefix)
		return cfg
	}}
	// embedded is the zero-config default: a SQLite file and in-process Redis.
	embedded = backend{name: "embedded", cfg: func(t *testing.T) config.Config {
		cfg := baseConfig(t)
		cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
		cfg.RedisURL = ""
		return cfg
	}}
	// postgresCluster is PostgreSQL with a three-master Redis Cluster
	// (storetest.RedisClusterURL: started locally for the test binary).
	// Not external: redisClient reaches one server, not the cluster.
	postgresCluster = backend{name: "postgres+redis-cluster", cfg: func(t *testing.T) config.Config {
		storetest.SkipUnlessServices(t)
		cfg := baseConfig(t)
		cfg.DatabaseURL = storetest.PostgresURL(t)
		cfg.RedisURL = storetest.RedisClusterURL(t)
		cfg.RedisPrefix = storetest.RedisClusterPrefix(t)
		return cfg
	}}
	// keyBackends are the production setup and the embedded default.
	keyBackends = []backend{postgresRedis, embedded}
)

// baseConfig is a valid configuration with a fresh scenario directory that
// holds surveyV1 as survey.yaml.
func baseConfig(t *testing.T) config.Config {
	t.Helper()
	dir := t.TempDir()
	writeScenario(t, filepath.Join(dir, "survey.yaml"), surveyV1)
	cfg := config.Default()
	cfg.ScenariosDir, cfg.StateTTL = dir, time.Hour
	cfg.LogLevel, cfg.LogFormat = slog.LevelDebug, "json"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// scenarioPath is the test scenario's file in cfg's directory.
func scenarioPath(cfg config.Config) string { return filepath.Join(cfg.ScenariosDir, "survey.yaml") }

// writeScenario replaces path atomically (write a hidden temporary file,
// rename it), the way editors and ConfigMap updates do.
func writeScenario(t *testing.T, path, src string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// versionOf is the version the registry will give src at path.
func versionOf(t *testing.T, path, src string) string {
	t.Helper()
	g, err := scenario.Load(path, []byte(src))
	if err != nil {
		t.Fatalf("test scenario does not load: %v", err)
	}
	return g.Version
}

// redisClient connects to the test Redis.
func redisClient(t *testing.T) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// cleanRedisPrefix deletes every key under prefix when the test ends.
func cleanRedisPrefix(t *testing.T, prefix string) {
	t.Helper()
	c := redisClient(t)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
}

// stateKey is the Redis key of a chat's conversation state
// (internal/store/redis/keys.go).
func stateKey(prefix string, chat messenger.ChatKey) string {
	return prefix + ":{" + string(chat.Platform) + ":" + chat.ID + "}:state"
}

// ---- process ----

// proc is one running chathub "process": opened stores, a handler and a
// recording sender.
type proc struct {
	t      *testing.T
	cfg    config.Config
	logs   *syncBuffer
	stores *Stores
	h      *dialog.Handler
	out    *recorder
	closed bool
}

// open opens the stores for cfg (Open, then Handler) and closes them when
// the test ends.
func open(t *testing.T, cfg config.Config) *proc {
	t.Helper()
	p := &proc{t: t, cfg: cfg, logs: &syncBuffer{}, out: &recorder{}}
	logger := slog.New(logtest.UniqueKeys(t, slog.NewJSONHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	stores, err := Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	p.stores = stores
	t.Cleanup(p.close)
	if p.h, err = stores.Handler(cfg, p.out); err != nil {
		t.Fatalf("Handler: %v", err)
	}
	return p
}

// watch starts hot reload.
func (p *proc) watch() {
	p.t.Helper()
	if err := p.stores.Scenarios.Start(context.Background()); err != nil {
		p.t.Fatalf("Scenarios.Start: %v", err)
	}
}

// close stops watching and closes the stores (a process exit).
func (p *proc) close() {
	if p.closed {
		return
	}
	p.closed = true
	p.stores.Scenarios.Stop()
	if err := p.stores.Close(); err != nil {
		p.t.Errorf("Stores.Close: %v", err)
	}
}

// version is the registry's current version of the test scenario.
func (p *proc) version() string {
	p.t.Helper()
	g, ok := p.stores.Scenarios.Get("survey")
	if !ok {
		p.t.Fatal("scenario survey is not loaded")
	}
	return g.Version
}

// waitVersion polls (≤ 5 s) until the registry serves version.
func (p *proc) waitVersion(version string) {
	p.t.Helper()
	waitFor(p.t, "registry serves version "+version, func() bool {
		g, ok := p.stores.Scenarios.Get("survey")
		return ok && g.Version == version
	})
}

// handle sends upd for chat and returns the texts of the replies.
func (p *proc) handle(chat messenger.ChatKey, upd messenger.Update) []string {
	p.t.Helper()
	upd.Chat = chat
	upd.ID = strconv.FormatInt(p.out.nextID(), 10)
	// As the pipeline does: the chat's turn around the handler, left as handled.
	ctx := context.Background()
	leave, _, err := p.stores.State.Enter(ctx, chat, upd.ID, time.Minute)
	if err != nil {
		p.t.Fatalf("Enter(%s): %v", chat, err)
	}
	if err := p.h.Handle(ctx, &upd); err != nil {
		_ = leave(ctx, false)
		p.t.Fatalf("Handle(%s, %q): %v", chat, upd.Text, err)
	}
	if err := leave(ctx, true); err != nil {
		p.t.Fatalf("leave(%s): %v", chat, err)
	}
	msgs := p.out.take()
	texts := make([]string, len(msgs))
	for i, m := range msgs {
		if m.Chat != chat {
			p.t.Fatalf("reply to %s went to %s: %q", chat, m.Chat, m.Text)
		}
		texts[i] = m.Text
	}
	return texts
}

// say sends a text message and returns the reply texts.
func (p *proc) say(chat messenger.ChatKey, text string) []string {
	p.t.Helper()
	return p.handle(chat, messenger.Update{Kind: messenger.KindMessage, Text: text})
}

// expect sends text and checks that the only reply is want.
func (p *proc) expect(chat messenger.ChatKey, text, want string) {
	p.t.Helper()
	if got := p.say(chat, text); len(got) != 1 || got[0] != want {
		p.t.Fatalf("%s says %.40q: replies %q, want [%q]", chat, text, got, want)
	}
}

// client reads the chat's CRM record.
func (p *proc) client(chat messenger.ChatKey) *crm.Client {
	p.t.Helper()
	c, err := p.stores.CRM.GetClient(context.Background(), chat)
	if err != nil {
		p.t.Fatalf("GetClient(%s): %v", chat, err)
	}
	if c == nil {
		p.t.Fatalf("GetClient(%s): no client", chat)
	}
	return c
}

// answers reads the chat's answer history, oldest first.
func (p *proc) answers(chat messenger.ChatKey) []crm.Answer {
	p.t.Helper()
	c := p.client(chat)
	list, err := p.stores.CRM.Answers(context.Background(), c.ID, 1000)
	if err != nil {
		p.t.Fatalf("Answers(%s): %v", chat, err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// state reads the chat's conversation state from the state store; the zero
// State when there is none.
func (p *proc) state(chat messenger.ChatKey) dialog.State {
	p.t.Helper()
	stored, err := p.stores.State.LoadState(context.Background(), chat)
	if err != nil {
		p.t.Fatalf("LoadState(%s): %v", chat, err)
	}
	var st dialog.State
	if len(stored.Data) > 0 {
		if err := json.Unmarshal(stored.Data, &st); err != nil {
			p.t.Fatalf("state of %s: %v", chat, err)
		}
	}
	return st
}

// logRecords returns the JSON log records with message msg.
func (p *proc) logRecords(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// birth43 is a birth date (dd.mm.yyyy) of someone who is 43 today: saving
// birth_date also sets age, so it agrees with the age answered earlier.
func birth43() string { return time.Now().AddDate(-43, 0, -10).Format("02.01.2006") }

// chatKey is a Telegram chat of user id.
func chatKey(id string) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: id}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5s waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- fakes ----

// recorder is a messenger.Sender that records what it is asked to send.
type recorder struct {
	mu   sync.Mutex
	msgs []messenger.OutMessage
	ids  int64 // message ids of the sends
}

func (r *recorder) Send(_ context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
	r.ids++
	return messenger.Sent{MessageID: strconv.FormatInt(r.ids, 10)}, nil
}

// take returns the messages sent since the last take.
func (r *recorder) take() []messenger.OutMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

// updateIDs numbers the harness's updates across all procs, as a platform
// numbers a bot's updates: a restarted process gets new ids, not repeats.
var updateIDs atomic.Int64

func (r *recorder) nextID() int64 { return updateIDs.Add(1) }

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = logtest.Buffer
