package app

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// TestConversationStaysOnItsVersion: a hot-reloaded file does not change a
// conversation that is already running; new conversations get the new file.
func TestConversationStaysOnItsVersion(t *testing.T) {
	t.Parallel()
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.cfg(t)
			p := open(t, cfg)
			p.watch()
			v1 := p.version()
			old, fresh := chatKey("100"), chatKey("200")

			p.expect(old, "/start", askName)
			p.expect(old, "Анна", askAge)

			writeScenario(t, scenarioPath(cfg), surveyV2)
			v2 := versionOf(t, scenarioPath(cfg), surveyV2)
			if v2 == v1 {
				t.Fatal("surveyV2 has the version of surveyV1")
			}
			p.waitVersion(v2)

			// The running conversation keeps v1: old text, no new step.
			p.expect(old, "43", askCityV1)
			if st := p.state(old); st.Version != v1 || st.Step != "city" {
				t.Fatalf("running conversation state = %+v, want version %s at city", st, v1)
			}
			// New chats start on v2, by /start or by Begin.
			begun := chatKey("300")
			if err := p.h.Begin(context.Background(), begun, "survey", &messenger.Profile{FirstName: "Вера"}); err != nil {
				t.Fatalf("Begin: %v", err)
			}
			if got := p.out.take(); len(got) != 1 || got[0].Text != askName {
				t.Fatalf("Begin replied %+v, want %q", got, askName)
			}
			if st := p.state(begun); st.Version != v2 || st.Step != "name" {
				t.Errorf("begun conversation state = %+v, want version %s at name", st, v2)
			}
			p.expect(fresh, "/start", askName)
			p.expect(fresh, "Борис", askAge)
			p.expect(fresh, "35", askCityV2)

			p.expect(old, "Самара", askBirth) // v1 has no hobby step
			p.expect(fresh, "Казань", askHobby)
			p.expect(fresh, "Шахматы", askBirth)
			p.expect(old, birth43(), sayBye)
			p.expect(fresh, "01.02.1990", sayBye)

			for chat, want := range map[messenger.ChatKey]string{old: v1, fresh: v2} {
				list := p.answers(chat)
				if len(list) < 4 {
					t.Fatalf("%s: %d answers recorded, want ≥ 4: %+v", chat, len(list), list)
				}
				for _, a := range list {
					if a.Version != want {
						t.Errorf("%s: answer at %s recorded on version %s, want %s", chat, a.Step, a.Version, want)
					}
				}
			}
			if c := p.client(fresh); c.Attributes["hobby"] != "Шахматы" {
				t.Errorf("fresh client attributes = %v, want hobby", c.Attributes)
			}
			if c := p.client(old); c.Attributes["hobby"] != nil || c.City != "Самара" || c.FirstName != "Анна" {
				t.Errorf("old client = %+v", c)
			}

			// Once the old conversation has ended, the next one starts on v2.
			if st := p.state(old); st.Active() {
				t.Fatalf("ended conversation still has state %+v", st)
			}
			p.expect(old, "/start", askName)
			p.expect(old, "Анна", askAge)
			p.expect(old, "43", askCityV2)
		})
	}
}

// TestInvalidEditKeepsLastGoodVersion: a broken edit is reported with its
// position and does not disturb anything; a fixed file is picked up.
func TestInvalidEditKeepsLastGoodVersion(t *testing.T) {
	t.Parallel()
	edits := []struct {
		name string
		src  string
		// pos is the expected "line:col:" of the first error; msg a part of it.
		pos, msg string
	}{
		{
			name: "yaml syntax error",
			src:  mustReplace(surveyV1, `    say: "Сколько вам лет?"`, `    say: "Сколько вам лет?`),
			pos:  "14:1:", msg: "YAML syntax error",
		},
		{
			name: "unknown step reference",
			src:  mustReplace(surveyV1, "    save: age\n    next: city\n", "    save: age\n    next: ctiy\n"),
			pos:  "18:11:", msg: `unknown step "ctiy"`,
		},
	}
	const invalidMsg = "scenario file invalid; keeping the last good version"
	for _, b := range keyBackends {
		for _, edit := range edits {
			t.Run(b.name+"/"+edit.name, func(t *testing.T) {
				t.Parallel()
				cfg := b.cfg(t)
				p := open(t, cfg)
				p.watch()
				v1 := p.version()
				running, later := chatKey("100"), chatKey("200")
				p.expect(running, "/start", askName)
				p.expect(running, "Анна", askAge)

				path := scenarioPath(cfg)
				writeScenario(t, path, edit.src)
				var rec map[string]any
				waitFor(t, "the registry logs the invalid file", func() bool {
					recs := p.logRecords(invalidMsg)
					if len(recs) > 0 {
						rec = recs[0]
					}
					return rec != nil
				})
				if rec["level"] != "WARN" {
					t.Errorf("invalid file logged at level %v, want WARN", rec["level"])
				}
				if rec["file"] != path || rec["id"] != "survey" || rec["kept_version"] != v1 {
					t.Errorf("log record = %v, want file %s, id survey, kept_version %s", rec, path, v1)
				}
				errs, _ := rec["errors"].([]any)
				if len(errs) == 0 {
					t.Fatalf("log record has no errors: %v", rec)
				}
				first, _ := errs[0].(string)
				if !strings.HasPrefix(first, path+":"+edit.pos) || !strings.Contains(first, edit.msg) {
					t.Errorf("first error = %q, want %s:%s… containing %q", first, path, edit.pos, edit.msg)
				}

				if got := p.version(); got != v1 {
					t.Fatalf("after an invalid edit Get returns version %s, want the last good %s", got, v1)
				}
				// The running conversation continues, and new ones start, on v1.
				p.expect(running, "43", askCityV1)
				p.expect(later, "/start", askName)
				if st := p.state(later); st.Version != v1 {
					t.Errorf("conversation started after the invalid edit is on %s, want %s", st.Version, v1)
				}
				p.expect(later, "Борис", askAge)
				p.expect(later, "35", askCityV1)

				// Fixing the file makes it current again.
				writeScenario(t, path, surveyV2)
				p.waitVersion(versionOf(t, path, surveyV2))
				p.expect(running, "Самара", askBirth)
				p.expect(later, "Казань", askBirth)
				if n := len(p.logRecords(invalidMsg)); n != 1 {
					t.Errorf("invalid file logged %d times, want once", n)
				}
			})
		}
	}
}

// TestRestartResumesOnStoredVersion: conversations started by one process
// continue on their versions in the next one, which finds those versions only
// in the scenario_versions table (the file on disk has changed meanwhile).
// Process A loads v1 at start and hot-reloads v2; B starts with v3 on disk.
func TestRestartResumesOnStoredVersion(t *testing.T) {
	t.Parallel()
	const askCityV3 = "Ваш город?"
	surveyV3 := mustReplace(surveyV2, `say: "`+askCityV2+`"`, `say: "`+askCityV3+`"`)
	for _, b := range []backend{postgresRedis, sqliteRedis} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.cfg(t)
			path := scenarioPath(cfg)
			onV1, onV2, fresh := chatKey("100"), chatKey("200"), chatKey("300")

			a := open(t, cfg)
			a.watch()
			v1 := a.version()
			a.expect(onV1, "/start", askName)
			a.expect(onV1, "Анна", askAge)
			writeScenario(t, path, surveyV2)
			v2 := versionOf(t, path, surveyV2)
			a.waitVersion(v2)
			a.expect(onV2, "/start", askName)
			a.expect(onV2, "Борис", askAge)
			a.close()

			writeScenario(t, path, surveyV3)

			bp := open(t, cfg)
			if got, want := bp.version(), versionOf(t, path, surveyV3); got != want {
				t.Fatalf("process B serves version %s, want the file's %s", got, want)
			}
			for v, want := range map[string]string{v1: surveyV1, v2: surveyV2} {
				file, src, err := bp.stores.CRM.LoadVersion(context.Background(), "survey", v)
				if err != nil || string(src) != want || file != path {
					t.Errorf("scenario_versions row of %s: file %q, err %v, source matches: %v", v, file, err, string(src) == want)
				}
			}
			bp.expect(onV1, "43", askCityV1)
			bp.expect(onV2, "35", askCityV2)
			bp.expect(fresh, "/start", askName)
			bp.expect(fresh, "Вера", askAge)
			bp.expect(fresh, "29", askCityV3)
			bp.expect(onV1, "Самара", askBirth)
			bp.expect(onV2, "Казань", askHobby)
			bp.expect(onV1, birth43(), sayBye)
			for chat, want := range map[messenger.ChatKey]string{onV1: v1, onV2: v2} {
				for _, a := range bp.answers(chat) {
					if a.Version != want {
						t.Errorf("%s: answer at %s recorded on version %s, want %s", chat, a.Step, a.Version, want)
					}
				}
			}
			if len(bp.logRecords("conversation version unavailable, using current")) > 0 {
				t.Error("process B fell back to the current version")
			}
			c := bp.client(onV1)
			if c.FirstName != "Анна" || c.Age == nil || *c.Age != 43 || c.City != "Самара" || c.BirthDate == nil {
				t.Errorf("client after restart = %+v", c)
			}
		})
	}
	// On the embedded default Redis lives in the process: the conversation's
	// place is lost on exit (documented), the CRM record is not.
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		cfg := embedded.cfg(t)
		chat := chatKey("100")
		a := open(t, cfg)
		a.expect(chat, "/start", askName)
		a.expect(chat, "Анна", askAge)
		a.close()
		bp := open(t, cfg)
		if st := bp.state(chat); st.Active() {
			t.Fatalf("in-process Redis kept state across a restart: %+v", st)
		}
		if c := bp.client(chat); c.FirstName != "Анна" {
			t.Errorf("client after restart = %+v", c)
		}
		bp.expect(chat, "43", dialog.DefaultTexts().Fallback)
		bp.expect(chat, "/start", askName)
	})
}

// TestBadInputLosesNothing: wrong answers are re-asked and leave the CRM
// record and the answer history exactly as they were.
func TestBadInputLosesNothing(t *testing.T) {
	t.Parallel()
	tx := dialog.DefaultTexts()
	type bad struct {
		name string
		upd  messenger.Update
		want string // a part of the re-ask
	}
	msg := func(s string) messenger.Update { return messenger.Update{Kind: messenger.KindMessage, Text: s} }
	future := time.Now().AddDate(0, 0, 2).Format("02.01.2006") // 2 days: safe across time zones
	atCity := []bad{
		{"10000 characters", msg(strings.Repeat("я", 10000)), badCity},
		{"emoji", msg("😀🏙️"), badCity},
		{"empty", msg(""), badCity},
		{"blank", msg(" \n\t "), badCity},
		{"sql quote", msg("'; DROP TABLE clients; --"), badCity},
		{"sql union", msg(`Москва" UNION SELECT * FROM answers --`), badCity},
		{"number", msg("12345"), badCity},
		{"stale button", messenger.Update{Kind: messenger.KindButton, Value: "yes", Text: "Да"}, badCity},
		{"sticker", messenger.Update{Kind: messenger.KindUnsupported}, "понимаю только текст"},
	}
	atBirth := []bad{
		{"future date", msg(future), "Дата не может быть позже"},
		{"before min_date", msg("01.01.1800"), "Дата не может быть раньше"},
		{"no such day", msg("31.02.1990"), tx.BadDate},
		{"words", msg("пятнадцатое апреля"), tx.BadDate},
		{"10000 digits", msg(strings.Repeat("1", 10000)), tx.BadDate},
		{"sql", msg("1990-01-01'); DELETE FROM clients; --"), tx.BadDate},
	}
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			p := open(t, b.cfg(t))
			chat := chatKey("100")
			p.expect(chat, "/start", askName)
			p.expect(chat, "Анна", askAge)
			p.expect(chat, "43", askCityV1)

			battery := func(step string, cases []bad) {
				t.Helper()
				before, history := comparable(p.client(chat)), len(p.answers(chat))
				for i, c := range cases {
					got := p.handle(chat, c.upd)
					if len(got) != 1 || !strings.Contains(got[0], c.want) {
						t.Errorf("%s: %s: replies %q, want one re-ask containing %q", step, c.name, got, c.want)
					}
					if i >= 2 && len(got) == 1 && !strings.Contains(got[0], tx.RetryHint) {
						t.Errorf("%s: %s: wrong answer #%d lacks the retry hint: %q", step, c.name, i+1, got[0])
					}
					if after := comparable(p.client(chat)); !reflect.DeepEqual(after, before) {
						t.Errorf("%s: %s changed the client:\nbefore %+v\nafter  %+v", step, c.name, before, after)
					}
					if n := len(p.answers(chat)); n != history {
						t.Errorf("%s: %s: answer history grew from %d to %d", step, c.name, history, n)
					}
					if st := p.state(chat); st.Step != step || st.Retries != i+1 {
						t.Errorf("%s: %s: state = %+v, want step %s with %d retries", step, c.name, st, step, i+1)
					}
				}
			}
			battery("city", atCity)
			p.expect(chat, "Самара", askBirth)
			if c := p.client(chat); c.City != "Самара" || c.FirstName != "Анна" || c.Age == nil || *c.Age != 43 {
				t.Fatalf("client after a valid answer = %+v", c)
			}
			battery("birth", atBirth)
			p.expect(chat, birth43(), sayBye)

			c := p.client(chat)
			if c.FirstName != "Анна" || c.Age == nil || *c.Age != 43 || c.City != "Самара" ||
				c.BirthDate == nil || c.BirthDate.Format("02.01.2006") != birth43() {
				t.Errorf("final client = %+v (birth %v)", c, c.BirthDate)
			}
			var steps []string
			for _, a := range p.answers(chat) {
				steps = append(steps, a.Step+"="+a.Value)
			}
			if want := []string{"name=Анна", "age=43", "city=Самара", "birth=" + birth43()}; !slices.Equal(steps, want) {
				t.Errorf("answer history = %q, want %q", steps, want)
			}
		})
	}
}

// TestAcceptedTextStoredVerbatim: answers a step accepts reach the CRM as
// typed (cleaned of control characters), whatever SQL or JSON they contain.
func TestAcceptedTextStoredVerbatim(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, typed, stored string }{
		{"sql", "'; DROP TABLE clients; --", "'; DROP TABLE clients; --"},
		{"json", `{"hobby": null}\u0000"]`, `{"hobby": null}\u0000"]`},
		{"emoji", "🎸 и 🏄‍♀️", "🎸 и 🏄‍♀️"},
		{"control characters", " шах\x00маты\x1b\xff ", "шахматы"},
		{"2000 characters", strings.Repeat("ж", 2000), strings.Repeat("ж", 2000)},
	}
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.cfg(t)
			writeScenario(t, scenarioPath(cfg), surveyV2)
			p := open(t, cfg)
			for i, c := range cases {
				chat := chatKey(fmt.Sprint(100 + i))
				p.expect(chat, "/start", askName)
				p.expect(chat, "Анна", askAge)
				p.expect(chat, "43", askCityV2)
				p.expect(chat, "Самара", askHobby)
				p.expect(chat, c.typed, askBirth)
				cl := p.client(chat)
				if got := cl.Attributes["hobby"]; got != c.stored {
					t.Errorf("%s: attributes.hobby = %.60q, want %.60q", c.name, got, c.stored)
				}
				list := p.answers(chat)
				if last := list[len(list)-1]; last.Step != "hobby" || last.Value != c.stored {
					t.Errorf("%s: last answer = %s=%.60q, want hobby=%.60q", c.name, last.Step, last.Value, c.stored)
				}
			}
		})
	}
}

// comparable is the part of a client a re-ask must not change: everything
// but the touch stamps.
func comparable(c *crm.Client) crm.Client {
	cp := *c
	cp.UpdatedAt, cp.LastSeenAt = time.Time{}, time.Time{}
	return cp
}

// TestStateTTL: the conversation state key in Redis expires after
// cfg.StateTTL of inactivity; every save refreshes it; the end deletes it.
func TestStateTTL(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{time.Minute, 90 * time.Minute, 720 * time.Hour} {
		t.Run(ttl.String(), func(t *testing.T) {
			t.Parallel()
			cfg := postgresRedis.cfg(t)
			cfg.StateTTL = ttl
			p := open(t, cfg)
			rdb := redisClient(t)
			ctx := context.Background()
			chat := chatKey("100")
			key := stateKey(cfg.RedisPrefix, chat)
			pttl := func() time.Duration {
				t.Helper()
				d, err := rdb.PTTL(ctx, key).Result()
				if err != nil {
					t.Fatalf("PTTL %s: %v", key, err)
				}
				return d
			}
			inRange := func(what string, d time.Duration) {
				t.Helper()
				if d > ttl || d < ttl-5*time.Second {
					t.Errorf("%s: PTTL %s = %v, want within 5s below %v", what, key, d, ttl)
				}
			}

			p.expect(chat, "/start", askName)
			inRange("after /start", pttl())
			if rev, err := rdb.HGet(ctx, key, "rev").Result(); err != nil || rev != "1" {
				t.Errorf("HGET %s rev = %q, %v; want 1", key, rev, err)
			}

			time.Sleep(300 * time.Millisecond)
			aged := pttl()
			if aged > ttl-250*time.Millisecond {
				t.Fatalf("PTTL did not run down: %v after 0.3s of %v", aged, ttl)
			}
			p.expect(chat, "Анна", askAge)
			if d := pttl(); d <= aged {
				t.Errorf("an answer did not refresh the TTL: %v, was %v", d, aged)
			} else {
				inRange("after an answer", d)
			}
			time.Sleep(300 * time.Millisecond)
			aged = pttl()
			if got := p.say(chat, "много"); len(got) != 1 || !strings.Contains(got[0], "Напишите возраст") {
				t.Errorf("re-ask = %q", got)
			}
			// a re-ask saves the retry count, so it refreshes the TTL too
			if d := pttl(); d <= aged {
				t.Errorf("a re-ask did not refresh the TTL: %v, was %v", d, aged)
			}

			// Every key chathub wrote under the prefix expires.
			iter := rdb.Scan(ctx, 0, cfg.RedisPrefix+":*", 100).Iterator()
			n := 0
			for iter.Next(ctx) {
				n++
				if d := rdb.PTTL(ctx, iter.Val()).Val(); d <= 0 {
					t.Errorf("key %s has no TTL (PTTL %v)", iter.Val(), d)
				}
			}
			if n == 0 {
				t.Errorf("no keys under prefix %s", cfg.RedisPrefix)
			}

			p.expect(chat, "43", askCityV1)
			p.expect(chat, "Самара", askBirth)
			p.expect(chat, birth43(), sayBye)
			if n := rdb.Exists(ctx, key).Val(); n != 0 {
				t.Errorf("state key %s still exists after the conversation ended (PTTL %v)", key, pttl())
			}
		})
	}
}

// TestIdleConversationExpires: after StateTTL without a message the
// conversation has lost its place; the client's record stays. (StateTTL is
// below config.Validate's 1m minimum here to keep the test fast; Open does not
// validate the configuration.)
func TestIdleConversationExpires(t *testing.T) {
	t.Parallel()
	for _, b := range keyBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.cfg(t)
			// 1s, not less: on a loaded machine a shorter state outlived
			// by one turn's load and save ended the conversation mid-turn.
			cfg.StateTTL = time.Second
			p := open(t, cfg)
			chat := chatKey("100")
			p.expect(chat, "/start", askName)
			p.expect(chat, "Анна", askAge)
			time.Sleep(2500 * time.Millisecond)
			if st := p.state(chat); st.Active() {
				t.Fatalf("state still there after 2.5×StateTTL idle: %+v", st)
			}
			p.expect(chat, "43", dialog.DefaultTexts().Fallback)
			if c := p.client(chat); c.FirstName != "Анна" {
				t.Errorf("client after expiry = %+v", c)
			}
			p.expect(chat, "/start", askName)
		})
	}
}
