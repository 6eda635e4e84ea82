// Package segmenttest generates CRM data and segment expressions for tests
// of the segment language: DOMAIN.md's persona fixtures, random clients
// (with unknown fields, tags, attributes, answers and completions) and
// random well-typed expressions over the same values, so that a property
// test can compare the SQL and in-memory answers of internal/segment.
package segmenttest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Client is a generated client: its chat key and the changes that build
// it, oldest first (apply them in order; each Now is its last_seen_at).
type Client struct {
	Key     messenger.ChatKey
	Changes []crm.Changes
}

// Base is the reference time of generated data: use it as the segment's
// evaluation time (Segment.At) and as RandomClient's base.
var Base = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Value pools shared by the clients and the expressions.
var (
	Cities     = []string{"Москва", "Самара", "Санкт-Петербург", "Екатеринбург", "москва"}
	Tags       = []string{"vip", "minor", "survey", "complaint", "portrait_done", "promoter"}
	Interests  = []string{"fitness", "travel", "education", "beauty", "kids"}
	Roles      = []string{"owner", "manager", "accountant"}
	Scenarios  = []string{"portrait", "feedback", "b2b"}
	Steps      = []string{"city", "age", "csat", "nps", "role", "thanks", "declined"}
	Genders    = []string{"male", "female"}
	Incomes    = []string{"economy", "middle", "premium"}
	Families   = []string{"single", "married", "divorced", "widowed"}
	Platforms  = []messenger.Platform{messenger.Telegram, messenger.VK}
	Sources    = []string{"promo", "ads_spring"}
	Versions   = []string{"v1", "v2"}
	Bots       = []string{"", "shop", "club"} // "": the bot of the environment variables
	Occupation = []string{"главный бухгалтер", "владелец малого бизнеса", "клиентский менеджер", "барбершоп", "пенсионер", ""}
)

// Personas are DOMAIN.md's persona fixtures (seeds 000, 001) as of base:
// Анна Петровна, Олег, Марина, Марина Зотова, Сергей and Мария.
func Personas(base time.Time) []Client {
	day := func(n int) time.Time { return base.Add(-time.Duration(n) * 24 * time.Hour) }
	set := func(kv ...any) []crm.FieldValue {
		var out []crm.FieldValue
		for i := 0; i < len(kv); i += 2 {
			out = append(out, crm.FieldValue{Field: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	persona := func(id string, changes ...crm.Changes) Client {
		return Client{Key: messenger.ChatKey{Platform: messenger.Telegram, ID: "persona-" + id}, Changes: changes}
	}
	return []Client{
		persona("anna", crm.Changes{Now: day(60), Consent: true, Set: set("first_name", "Анна", "last_name", "Петровна",
			"gender", "female", "age", 43, "city", "Самара", "occupation", "главный бухгалтер", "income_level", "middle"),
			Attributes: set("income", 50000, "interests", []string{"education"})}),
		persona("oleg", crm.Changes{Now: day(10), Consent: true, Set: set("first_name", "Олег", "gender", "male", "age", 27,
			"city", "Санкт-Петербург", "occupation", "владелец малого бизнеса", "income_level", "premium"),
			Attributes: set("income", 170000, "role", "owner"), AddTags: []string{"vip"}}),
		persona("marina", crm.Changes{Now: day(5), Consent: true, Set: set("first_name", "Марина", "gender", "female",
			"age", 27, "city", "Москва", "occupation", "клиентский менеджер", "income_level", "economy"),
			Attributes: set("income", 40000, "interests", []string{"fitness", "beauty"}), AddTags: []string{"survey", "portrait_done"},
			Answers:    []crm.Answer{{Scenario: "portrait", Version: "v1", Step: "city", Field: "city", Value: "Москва"}},
			Completion: &crm.Completion{Scenario: "portrait", Version: "v1", Step: "thanks"}}),
		persona("marina-zotova", crm.Changes{Now: day(40), Set: set("first_name", "Марина", "last_name", "Зотова",
			"gender", "female", "age", 35, "region", "Свердловская область", "children_count", 2, "family_status", "married"),
			Attributes: set("income", 50000, "interests", []string{"kids"})}),
		persona("sergey", crm.Changes{Now: day(2), Consent: true, Set: set("first_name", "Сергей", "gender", "male", "age", 28,
			"occupation", "барбершоп")},
			crm.Changes{Now: day(1), Unsubscribe: true, Attributes: set("csat", "2"), AddTags: []string{"complaint"},
				Answers:    []crm.Answer{{Scenario: "feedback", Version: "v1", Step: "csat", Field: "attributes.csat", Value: "2"}},
				Completion: &crm.Completion{Scenario: "feedback", Version: "v1", Step: "thanks"}}),
		persona("maria", crm.Changes{Now: day(20), Consent: true, Set: set("first_name", "Мария", "gender", "female", "age", 65,
			"city", "Москва", "occupation", "пенсионер", "birth_date", time.Date(1960, 5, 17, 0, 0, 0, 0, time.UTC)),
			Attributes: set("interests", []string{"fitness"})}),
	}
}

// RandomClient generates client number i as of base: every field may be
// missing, and its history spans the 90 days before base.
func RandomClient(r *rand.Rand, i int, base time.Time) Client {
	c := Client{Key: messenger.ChatKey{Platform: pick(r, Platforms), Bot: pick(r, Bots), ID: fmt.Sprintf("random-%d", i)}}
	n := 1 + r.IntN(3)
	at := base.Add(-time.Duration(r.IntN(90*24*60)) * time.Minute)
	var open []crm.StepVisit
	for range n {
		ch := randomChanges(r, at)
		open = randomVisits(r, &ch, open)
		c.Changes = append(c.Changes, ch)
		at = at.Add(time.Duration(1+r.IntN(20*24*60)) * time.Minute)
		if at.After(base) {
			at = base.Add(-time.Minute)
		}
	}
	return c
}

// randomChanges is one random turn's worth of changes at now.
func randomChanges(r *rand.Rand, now time.Time) crm.Changes {
	ch := crm.Changes{Now: now}
	maybe := func(p float64) bool { return r.Float64() < p }
	if maybe(0.5) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "city", Value: pick(r, Cities)})
	}
	if maybe(0.6) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "age", Value: 14 + r.IntN(60)})
	}
	if maybe(0.4) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "gender", Value: pick(r, Genders)})
	}
	if maybe(0.3) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "income_level", Value: pick(r, Incomes)})
	}
	if maybe(0.2) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "family_status", Value: pick(r, Families)})
	}
	if maybe(0.2) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "children_count", Value: r.IntN(4)})
	}
	if maybe(0.3) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "occupation", Value: pick(r, Occupation)})
	}
	if maybe(0.2) {
		ch.Set = append(ch.Set, crm.FieldValue{Field: "birth_date", Value: time.Date(1950+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)})
	}
	ch.Attributes = randomAttributes(r)
	randomStatus(r, &ch)
	if maybe(0.2) {
		ch.Source = pick(r, Sources)
	}
	for _, t := range Tags {
		if maybe(0.15) {
			ch.AddTags = append(ch.AddTags, t)
		} else if maybe(0.05) {
			ch.RemoveTags = append(ch.RemoveTags, t)
		}
	}
	randomActivity(r, &ch)
	return ch
}

// randomAttributes writes some of the attribute keys expressions test,
// with values of every shape (lists, numeric text, numbers, booleans, "").
func randomAttributes(r *rand.Rand) []crm.FieldValue {
	var out []crm.FieldValue
	add := func(p float64, key string, v func() any) {
		if r.Float64() < p {
			out = append(out, crm.FieldValue{Field: key, Value: v()})
		}
	}
	add(0.4, "interests", func() any {
		if r.IntN(5) == 0 {
			return pick(r, Interests) // a single choice saved as text
		}
		var l []string
		for _, s := range Interests {
			if r.IntN(3) == 0 {
				l = append(l, s)
			}
		}
		return l
	})
	add(0.4, "csat", func() any {
		switch r.IntN(4) {
		case 0:
			return 1 + r.IntN(5)
		case 1:
			return "0" + fmt.Sprint(1+r.IntN(5)) // not numeric text: leading zero
		}
		return fmt.Sprint(1 + r.IntN(5))
	})
	add(0.3, "nps", func() any { return float64(r.IntN(21)) / 2 })
	add(0.3, "role", func() any { return pick(r, Roles) })
	add(0.2, "b2b", func() any { return r.IntN(2) == 0 })
	add(0.2, "note", func() any { return pick(r, []string{"", "позвонить вечером", "fitness"}) })
	return out
}

// randomStatus sets consent, unsubscribe, block and hand-off stamps.
func randomStatus(r *rand.Rand, ch *crm.Changes) {
	switch r.IntN(6) {
	case 0, 1:
		ch.Consent = true
	case 2:
		ch.Unsubscribe = true
	}
	switch r.IntN(8) {
	case 0:
		ch.Blocked = true
	case 1:
		ch.Unblocked = true
	}
	if r.IntN(8) == 0 {
		ch.Handoff = &crm.Handoff{Scenario: "b2b", Step: "role", Reason: "call"}
	}
}

// randomActivity adds answers and maybe a completion.
func randomActivity(r *rand.Rand, ch *crm.Changes) {
	for range r.IntN(3) {
		sc, step := pick(r, Scenarios), pick(r, Steps)
		field := pick(r, []string{"", step, "attributes." + step})
		ch.Answers = append(ch.Answers, crm.Answer{Scenario: sc, Version: "v1", Step: step, Field: field, Value: "x"})
	}
	if r.IntN(4) == 0 {
		ch.Completion = &crm.Completion{Scenario: pick(r, Scenarios), Version: "v1", Step: pick(r, []string{"thanks", "declined"})}
	}
}

func pick[T any](r *rand.Rand, vs []T) T { return vs[r.IntN(len(vs))] }

// randomVisits records step visits in ch (the funnel's, read by stuck(...)
// and dropped(...)): each of the open ones (entered by earlier turns) is
// answered, dropped or left waiting, and new ones are entered or passed,
// in conversations that started up to two days before ch.Now. It returns
// the visits still open.
func randomVisits(r *rand.Rand, ch *crm.Changes, open []crm.StepVisit) []crm.StepVisit {
	var still []crm.StepVisit
	for _, v := range open {
		switch r.IntN(3) {
		case 0:
			v.Event = crm.VisitAnswer
			ch.Visits = append(ch.Visits, v)
		case 1:
			v.Event = crm.VisitDrop
			ch.Visits = append(ch.Visits, v)
		default:
			still = append(still, v)
		}
	}
	for range r.IntN(3) {
		v := crm.StepVisit{Scenario: pick(r, Scenarios), Version: pick(r, Versions), Step: pick(r, Steps),
			Run: ch.Now.Add(-time.Duration(r.IntN(2*24*60)) * time.Minute).UnixMicro(), Event: crm.VisitEnter}
		if r.IntN(4) == 0 {
			v.Event = crm.VisitPass
		} else {
			still = append(still, v)
		}
		ch.Visits = append(ch.Visits, v)
	}
	return still
}
