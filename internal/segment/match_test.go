package segment

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

func ptr[T any](v T) *T { return &v }

// marina is DOMAIN.md's Марина, 27, Москва, a client manager who finished
// the portrait survey and is into fitness.
func marina() *crm.Client {
	return &crm.Client{
		ID: 1, Platform: messenger.Telegram, FirstName: "Марина", Gender: "female", Age: ptr(27), City: "Москва",
		Occupation: "клиентский менеджер", IncomeLevel: "economy", Subscribed: true,
		ConsentAt:  ptr(testNow.Add(-40 * 24 * time.Hour)),
		Tags:       []string{"portrait_done", "survey"},
		Attributes: map[string]any{"interests": []string{"fitness", "beauty"}, "csat": "2", "nps": 9, "b2b": false, "note": ""},
		LastSeenAt: testNow.Add(-5 * 24 * time.Hour), CreatedAt: testNow.Add(-40 * 24 * time.Hour),
	}
}

// unknown is a client who shared nothing.
func unknown() *crm.Client {
	return &crm.Client{ID: 2, Platform: messenger.VK, LastSeenAt: testNow.Add(-100 * 24 * time.Hour)}
}

var marinaActivity = &Activity{
	Answers: []crm.Answer{
		{Scenario: "portrait", Step: "city", Field: "city", CreatedAt: testNow.Add(-40 * 24 * time.Hour)},
		{Scenario: "feedback", Step: "csat", Field: "attributes.csat", CreatedAt: testNow.Add(-3 * 24 * time.Hour)},
	},
	Completions: []crm.Completion{{Scenario: "portrait", Step: "thanks", CreatedAt: testNow.Add(-40 * 24 * time.Hour)}},
	Waiting: []Waiting{
		{Scenario: "feedback", Version: "f2", Step: "comment", Run: testNow.Add(-3 * time.Hour).UnixMicro(), EnteredAt: testNow.Add(-2 * time.Hour)},
		{Scenario: "feedback", Version: "f1", Step: "csat", Run: testNow.Add(-50 * 24 * time.Hour).UnixMicro(), EnteredAt: testNow.Add(-50 * 24 * time.Hour), Left: true},
		{Scenario: "portrait", Version: "p1", Step: "age", Run: testNow.Add(-31 * 24 * time.Hour).UnixMicro(), EnteredAt: testNow.Add(-31 * 24 * time.Hour)},
		// Dropped at city, then completed the portrait in a later conversation.
		{Scenario: "portrait", Version: "p1", Step: "city", Run: testNow.Add(-45 * 24 * time.Hour).UnixMicro(), EnteredAt: testNow.Add(-45 * 24 * time.Hour), Left: true},
	},
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src             string
		marina, unknown bool
	}{
		{`city == "Москва" and age >= 25 and "fitness" in attributes.interests and subscribed and last_seen_at > ago("30d")`, true, false},
		// Two-valued logic: a comparison with an unknown value is false, not negates it.
		{`age >= 25`, true, false},
		{`age < 25`, false, false},
		{`not (age >= 25)`, false, true},
		{`age != 27`, false, true},
		{`age == nil`, false, true},
		{`gender != "male"`, true, true},
		{`gender == "female"`, true, false},
		{`city != "Москва"`, false, true},
		{`city == "москва"`, false, false}, // exact and case-sensitive
		{`city == nil`, false, true},
		{`not ("minor" in tags)`, true, true},
		{`"survey" in tags`, true, false},
		{`"fitness" in attributes.interests`, true, false},
		{`"fitness" not in attributes.interests`, false, true},
		{`attributes.csat <= 3`, true, false},       // "2" is numeric text
		{`not (attributes.csat <= 3)`, false, true}, // unknown csat
		{`attributes.csat == 2 and attributes.csat == "2"`, true, false},
		{`attributes.nps >= 9 and attributes.nps in 9..10`, true, false},
		{`attributes.b2b == false`, true, false},
		{`attributes.b2b`, false, false},
		{`attributes.note == nil and attributes.missing == nil`, true, true},
		{`attributes.interests != nil`, true, false},
		{`occupation contains "менеджер" and occupation startsWith "клиент" and occupation endsWith "ер"`, true, false},
		{`consent_at > ago("6w") and consent_at != nil`, true, false},
		{`last_seen_at < ago("90d")`, false, true},
		{`created_at >= date("2026-01-01")`, true, false},
		{`platform == "vk"`, false, true},
		{`bot == nil`, true, true},
		{`bot == "shop"`, false, false},
		{`blocked`, false, false},
		{`not blocked and subscribed`, true, false},
		{`income_level in ["economy", "middle"]`, true, false},
		{`city in []`, false, false},
		{`true`, true, true},
		{`completed("portrait")`, true, false},
		{`completed("portrait", "declined")`, false, false},
		{`completed("portrait", ago("30d"))`, false, false},
		{`answered("feedback", "csat", ago("7d"))`, true, false},
		{`answered("feedback", "attributes.csat")`, true, false},
		{`answered("portrait", "age")`, false, false},
		{`answered("b2b")`, false, false},
		{`stuck("feedback", "comment")`, true, false},
		{`stuck("feedback", "csat")`, false, false},
		{`dropped("feedback", "csat")`, true, false},
		{`dropped("feedback", "comment")`, false, false},
		{`stuck("portrait", "age")`, false, false}, // idle past OpenFor
		{`dropped("portrait", "age")`, true, false},
		// Dropped, but completed the scenario since: not dropped any more.
		{`dropped("portrait", "city")`, false, false},
		// The funnel's filters: period (conversation start), version, platform, source.
		{`stuck("feedback", "comment", ago("1d"))`, true, false},
		{`stuck("feedback", "comment", ago("2h"))`, false, false}, // the conversation started 3 h ago
		{`stuck("feedback", "comment", {since: ago("1d"), version: "f2", platform: "telegram"})`, true, false},
		{`stuck("feedback", "comment", {version: "f1"})`, false, false},
		{`stuck("feedback", "comment", {platform: "vk"})`, false, false},
		{`stuck("feedback", "comment", {source: "promo"})`, false, false},
		{`dropped("feedback", "csat", {since: date("2026-05-01")})`, false, false},
		{`dropped("feedback", "csat", {since: date("2026-04-01")})`, true, false},
		{`dropped("portrait", "age", {version: "p1"})`, true, false},
		{`dropped("portrait", "age", ago("30d"))`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			s := mustCompile(t, tt.src)
			for _, c := range []struct {
				client *crm.Client
				act    *Activity
				want   bool
			}{{marina(), marinaActivity, tt.marina}, {unknown(), &Activity{}, tt.unknown}} {
				got, err := s.Match(c.client, c.act)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("Match(%s) = %t, want %t", c.client.FirstName+"#"+string(c.client.Platform), got, c.want)
				}
			}
		})
	}
}

func TestMatchNeedsActivity(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `subscribed and (completed("portrait") or answered("feedback", "csat"))`)
	if !s.NeedsActivity() {
		t.Fatal("NeedsActivity = false")
	}
	if got := s.Scenarios(); len(got) != 2 || got[0] != "feedback" || got[1] != "portrait" {
		t.Errorf("Scenarios = %v", got)
	}
	if _, err := s.Match(marina(), nil); !errors.Is(err, ErrNoActivity) {
		t.Errorf("Match without activity: %v, want ErrNoActivity", err)
	}
	plain := mustCompile(t, `subscribed`)
	if ok, err := plain.Match(marina(), nil); err != nil || !ok || plain.NeedsActivity() {
		t.Errorf("Match(subscribed) without activity = %t, %v", ok, err)
	}
}

func TestAtPinsRelativeTimes(t *testing.T) {
	t.Parallel()
	s, err := Compile(`last_seen_at > ago("7d")`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pinned() {
		t.Fatal("a fresh segment is pinned")
	}
	c := marina() // seen 5 days before testNow
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{{testNow, true}, {testNow.Add(3 * 24 * time.Hour), false}} {
		p := s.At(tt.now)
		if !p.Pinned() || !p.Now().Equal(tt.now) {
			t.Fatalf("At(%v).Now() = %v", tt.now, p.Now())
		}
		if got, _ := p.Match(c, nil); got != tt.want {
			t.Errorf("at %v: Match = %t, want %t", tt.now, got, tt.want)
		}
		w, _ := p.SQL(Postgres)
		if want := tt.now.Add(-7 * 24 * time.Hour); !w.Args[0].(time.Time).Equal(want) {
			t.Errorf("at %v: SQL arg %v, want %v", tt.now, w.Args[0], want)
		}
	}
	if got := s.At(time.Date(2026, 1, 1, 0, 0, 0, 1500, time.FixedZone("MSK", 3*3600))).Now(); got.Nanosecond() != 1000 || got.Location() != time.UTC {
		t.Errorf("At keeps %v; want UTC truncated to microseconds", got)
	}
}

func TestCatalogueCoversCRM(t *testing.T) {
	t.Parallel()
	for _, name := range crm.FieldNames() {
		if catalogue[name] == nil {
			t.Errorf("crm field %q has no segment column: add its accessor in fields.go", name)
		}
	}
	for name, col := range catalogue {
		if col.sql == "" || col.name != name {
			t.Errorf("column %q is malformed: %+v", name, col)
		}
	}
}

// TestStuckFollowsOpenFor: how long a waiting conversation counts as stuck
// is Config.OpenFor (STATE_TTL), in Match and in the SQL's bound alike.
func TestStuckFollowsOpenFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		openFor        time.Duration
		stuck, dropped bool // of marina's feedback "comment", entered 2 h ago
		bound          time.Time
	}{
		{0, true, false, testNow.Add(-OpenFor)}, // the default: 30 days
		{3 * time.Hour, true, false, testNow.Add(-3 * time.Hour)},
		{time.Hour, false, true, testNow.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.openFor.String(), func(t *testing.T) {
			t.Parallel()
			c, err := NewCompiler(Config{OpenFor: tt.openFor})
			if err != nil {
				t.Fatal(err)
			}
			for src, want := range map[string]bool{`stuck("feedback", "comment")`: tt.stuck, `dropped("feedback", "comment")`: tt.dropped} {
				s, err := c.Compile(context.Background(), src)
				if err != nil {
					t.Fatal(err)
				}
				s = s.At(testNow)
				if got, err := s.Match(marina(), marinaActivity); err != nil || got != want {
					t.Errorf("%s with OpenFor %s: %t, %v; want %t", src, tt.openFor, got, err, want)
				}
				w, err := s.SQL(Postgres)
				if err != nil || !slices.ContainsFunc(w.Args, func(a any) bool { at, ok := a.(time.Time); return ok && at.Equal(tt.bound) }) {
					t.Errorf("%s with OpenFor %s: SQL args %v (%v); want the bound %s", src, tt.openFor, w.Args, err, tt.bound)
				}
			}
		})
	}
	if _, err := NewCompiler(Config{OpenFor: -time.Second}); err == nil {
		t.Error("a negative OpenFor was accepted")
	}
}
