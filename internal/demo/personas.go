package demo

import (
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Persona is a seeded demo client: a Telegram user of the in-process fake
// and the CRM changes that build their card, oldest first.
type Persona struct {
	// UserID is the Telegram user (and private chat) id on the fake.
	UserID    int64
	FirstName string
	LastName  string
	Username  string
	Changes   []crm.Changes
}

// Key is the persona's chat key (the environment's Telegram bot).
func (p Persona) Key() messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(p.UserID, 10)}
}

// firstPersonaID is the first persona's Telegram user id; the others follow.
const firstPersonaID int64 = 7100001

// Personas are the demo's clients as of now: DOMAIN.md's persona fixtures
// (seeds 000, 001: Анна Петровна, Олег, Марина, Марина Зотова, Сергей,
// Мария) and four more of the same kind, with portrait fields, tags,
// interests and some questionnaire answers. Every one consented to
// mailings, so a campaign to "subscribed" reaches all of them.
func Personas(now time.Time) []Persona {
	day := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour).Truncate(time.Minute) }
	set := func(kv ...any) []crm.FieldValue {
		var out []crm.FieldValue
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, crm.FieldValue{Field: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	answers := func(at time.Time, scenario string, kv ...string) []crm.Answer {
		var out []crm.Answer
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, crm.Answer{Scenario: scenario, Version: "demo", Step: kv[i], Field: kv[i], Value: kv[i+1], CreatedAt: at})
		}
		return out
	}
	ps := []Persona{
		{FirstName: "Анна", LastName: "Петровна", Username: "anna_petrovna", Changes: []crm.Changes{{
			Now: day(45), Consent: true, Source: "vk_ads",
			Set: set("gender", "female", "age", 43, "city", "Самара", "region", "Самарская область",
				"family_status", "married", "children_count", 1, "occupation", "главный бухгалтер",
				"income_level", "middle", "lifecycle_stage", "customer", "temperature", "warm"),
			Attributes: set("income", 50000, "interests", []string{"education", "travel"}),
			AddTags:    []string{"survey", "portrait_done"},
			Answers:    answers(day(45), "portrait", "age", "43", "city", "Самара", "family_status", "married"),
			Completion: &crm.Completion{Scenario: "portrait", Version: "demo", Step: "thanks", CreatedAt: day(45)},
		}}},
		{FirstName: "Олег", LastName: "Смирнов", Username: "oleg_spb", Changes: []crm.Changes{{
			Now: day(12), Consent: true, Source: "site",
			Set: set("gender", "male", "age", 27, "city", "Санкт-Петербург", "phone", "+79211234567",
				"occupation", "владелец малого бизнеса", "income_level", "premium", "lifecycle_stage", "lead",
				"temperature", "hot"),
			Attributes: set("income", 170000, "role", "owner", "interests", []string{"fitness", "travel"}),
			AddTags:    []string{"vip", "b2b"},
		}}},
		{FirstName: "Марина", LastName: "Орлова", Username: "marina_msk", Changes: []crm.Changes{{
			Now: day(4), Consent: true, Source: "instagram",
			Set: set("gender", "female", "age", 27, "city", "Москва", "occupation", "клиентский менеджер",
				"family_status", "single", "income_level", "economy", "lifecycle_stage", "new", "temperature", "warm"),
			Attributes: set("income", 40000, "interests", []string{"fitness", "beauty"}),
			AddTags:    []string{"survey", "portrait_done"},
			Answers:    answers(day(4), "portrait", "age", "27", "city", "Москва", "family_status", "single"),
			Completion: &crm.Completion{Scenario: "portrait", Version: "demo", Step: "thanks", CreatedAt: day(4)},
		}}},
		{FirstName: "Марина", LastName: "Зотова", Username: "zotova_ekb", Changes: []crm.Changes{{
			Now: day(30), Consent: true, Source: "vk_ads",
			Set: set("gender", "female", "age", 35, "city", "Екатеринбург", "region", "Свердловская область",
				"family_status", "married", "children_count", 2, "income_level", "middle", "lifecycle_stage", "regular"),
			Attributes: set("income", 50000, "interests", []string{"kids", "education"}),
			AddTags:    []string{"survey"},
		}}},
		{FirstName: "Сергей", LastName: "Волков", Username: "barber_sergey", Changes: []crm.Changes{
			{Now: day(9), Consent: true, Source: "site",
				Set: set("gender", "male", "age", 28, "city", "Москва", "occupation", "барбершоп",
					"lifecycle_stage", "customer", "temperature", "cold")},
			{Now: day(8), Attributes: set("csat", "2", "why", "долго ждал ответа"), AddTags: []string{"complaint"},
				Answers:    answers(day(8), "feedback", "csat", "2"),
				Completion: &crm.Completion{Scenario: "feedback", Version: "demo", Step: "thanks", CreatedAt: day(8)}},
		}},
		{FirstName: "Мария", LastName: "Иванова", Username: "maria_fit", Changes: []crm.Changes{{
			Now: day(20), Consent: true, Source: "flyer",
			Set: set("gender", "female", "age", 65, "city", "Москва", "occupation", "пенсионер",
				"family_status", "widowed", "birth_date", time.Date(1961, 5, 17, 0, 0, 0, 0, time.UTC),
				"lifecycle_stage", "regular", "temperature", "warm"),
			Attributes: set("interests", []string{"fitness"}),
		}}},
		{FirstName: "Дмитрий", LastName: "Кузнецов", Username: "dkuznetsov", Changes: []crm.Changes{{
			Now: day(2), Consent: true, Source: "site",
			Set: set("gender", "male", "age", 34, "city", "Москва", "occupation", "разработчик",
				"income_level", "premium", "family_status", "married", "children_count", 1,
				"lifecycle_stage", "customer", "temperature", "hot", "email", "d.kuznetsov@example.ru"),
			Attributes: set("interests", []string{"fitness", "travel"}),
			AddTags:    []string{"vip", "survey", "portrait_done"},
			Answers:    answers(day(2), "portrait", "age", "34", "city", "Москва"),
			Completion: &crm.Completion{Scenario: "portrait", Version: "demo", Step: "thanks", CreatedAt: day(2)},
		}}},
		{FirstName: "Екатерина", LastName: "Соколова", Username: "katya_kzn", Changes: []crm.Changes{{
			Now: day(16), Consent: true, Source: "instagram",
			Set: set("gender", "female", "age", 31, "city", "Казань", "region", "Татарстан", "occupation", "маркетолог",
				"income_level", "middle", "lifecycle_stage", "lead", "temperature", "warm"),
			Attributes: set("interests", []string{"beauty", "travel"}),
		}}},
		{FirstName: "Игорь", LastName: "Николаев", Username: "igor_nsk", Changes: []crm.Changes{{
			Now: day(6), Consent: true, Source: "b2b_expo",
			Set: set("gender", "male", "age", 46, "city", "Новосибирск", "occupation", "директор по закупкам",
				"income_level", "premium", "lifecycle_stage", "lead", "temperature", "hot"),
			Attributes: set("role", "decision_maker", "industry", "розничная торговля", "employees", "50-250",
				"needs", "рассылки клиентам в Telegram"),
			AddTags: []string{"b2b"},
			Answers: answers(day(6), "b2b", "role", "decision_maker", "industry", "розничная торговля"),
			Handoff: &crm.Handoff{Scenario: "b2b", Step: "call_time", Reason: "перезвонить после 15:00", CreatedAt: day(6)},
		}}},
		{FirstName: "Ольга", LastName: "Морозова", Username: "olga_student", Changes: []crm.Changes{{
			Now: day(1), Consent: true, Source: "vk_ads",
			Set: set("gender", "female", "age", 22, "city", "Санкт-Петербург", "occupation", "студентка",
				"family_status", "single", "income_level", "economy", "lifecycle_stage", "new", "temperature", "cold"),
			Attributes: set("interests", []string{"education", "fitness"}),
		}}},
	}
	for i := range ps {
		p := &ps[i]
		p.UserID = firstPersonaID + int64(i)
		first := &p.Changes[0]
		first.Profile = &messenger.Profile{FirstName: p.FirstName, LastName: p.LastName, Username: p.Username, Language: "ru"}
		first.Set = append(first.Set, set("timezone", timezoneOf(first.Set))...)
	}
	return ps
}

// timezoneOf is the IANA zone of the city among fields (Moscow time when
// none is known).
func timezoneOf(fields []crm.FieldValue) string {
	zones := map[string]string{"Самара": "Europe/Samara", "Екатеринбург": "Asia/Yekaterinburg", "Новосибирск": "Asia/Novosibirsk"}
	for _, f := range fields {
		if f.Field == "city" {
			if z, ok := zones[f.Value.(string)]; ok {
				return z
			}
		}
	}
	return "Europe/Moscow"
}
