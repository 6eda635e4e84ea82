package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

var _ dialog.ClientStore = (*Store)(nil)

// TestStore runs the shared suite on every backend.
func TestStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			if s.Dialect() != b.name {
				t.Fatalf("Dialect() = %q, want %q", s.Dialect(), b.name)
			}
			runSuite(t, s)
		})
	}
}

// runSuite runs every store case as a parallel subtest of one store; cases
// isolate themselves with chat keys and platforms of their own.
func runSuite(t *testing.T, s *Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"CreateOnFirstChange", testCreate},
		{"LastSeenPrecision", testLastSeenPrecision},
		{"RecordChangesWritesTheSame", testRecordChanges},
		{"ProfileRules", testProfile},
		{"SetTypes", testSetTypes},
		{"SetRejects", testSetRejects},
		{"AttributesMerge", testAttributes},
		{"Tags", testTags},
		{"Answers", testAnswers},
		{"Subscription", testSubscription},
		{"SourceFirstTouch", testSource},
		{"HandoffAndNote", testHandoffAndNote},
		{"UpdateOnce", testUpdateOnce},
		{"UpdateOncePerClient", testUpdateOncePerClient},
		{"UpdateOnceKinds", testUpdateOnceKinds},
		{"UpdateOnceRejected", testUpdateOnceRejected},
		{"Concurrent", testConcurrent},
		{"RoundTripUnchanged", testRoundTrip},
		{"ListClients", testListClients},
		{"Versions", testVersions},
		{"BadKey", testBadKey},
		{"ForgetDeletesEverything", testForget},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, s)
		})
	}
}

// testRecordChanges: RecordChanges (no client read back) stores exactly
// what ApplyChanges stores, and records an update's answers once too.
func testRecordChanges(t *testing.T, s *Store) {
	steps := []*crm.Changes{
		{Now: at(1), UpdateID: "1", Profile: &messenger.Profile{FirstName: "Анна", Username: "anna"}, Source: "promo"},
		{Now: at(2), UpdateID: "2", Set: []crm.FieldValue{{Field: "city", Value: "Самара"}}, AddTags: []string{"lead", "survey"},
			Answers: []crm.Answer{{Scenario: "portrait", Version: "v1", Step: "city", Field: "city", Value: "Самара"}}},
		{Now: at(3), UpdateID: "2", Set: []crm.FieldValue{{Field: "city", Value: "Самара"}}, // the same update again
			Answers: []crm.Answer{{Scenario: "portrait", Version: "v1", Step: "city", Field: "city", Value: "Самара"}}},
		{Now: at(4), UpdateID: "3", Attributes: []crm.FieldValue{{Field: "interests", Value: []string{"fitness"}}}, RemoveTags: []string{"lead"},
			Note: &crm.Note{Author: "bot", Text: "позвонить"}},
	}
	applied, recorded := newKey(), newKey()
	for i, ch := range steps {
		cp := *ch
		apply(t, s, applied, ch)
		if err := s.RecordChanges(context.Background(), recorded, &cp); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	a, r := get(t, s, applied), get(t, s, recorded)
	if r == nil {
		t.Fatal("RecordChanges created no client")
	}
	r.ID, r.PlatformUserID = a.ID, a.PlatformUserID
	if !reflect.DeepEqual(a, r) {
		t.Errorf("RecordChanges stored\n%+v\nApplyChanges stored\n%+v", r, a)
	}
	for key, c := range map[string]*crm.Client{"applied": get(t, s, applied), "recorded": get(t, s, recorded)} {
		if n := count(t, s, "SELECT COUNT(*) FROM answers WHERE client_id = ?", c.ID); n != 1 {
			t.Errorf("%s: %d answers, want 1 (update 2 recorded once)", key, n)
		}
	}
}

// testLastSeenPrecision: on PostgreSQL a write less than lastSeenPrecision
// after the stored last_seen_at keeps it (so the update can be HOT), a
// later one or one before it moves it; SQLite keeps the exact time.
func testLastSeenPrecision(t *testing.T, s *Store) {
	key := newKey()
	base := at(0)
	apply(t, s, key, &crm.Changes{Now: base})
	steps := []struct {
		name   string
		now    time.Time
		coarse time.Time // PostgreSQL's last_seen_at after the write
	}{
		{"within the minute", base.Add(59 * time.Second), base},
		{"still within the first minute", base.Add(59*time.Second + 999*time.Millisecond), base},
		{"a minute later", base.Add(time.Minute), base.Add(time.Minute)},
		{"half a minute on", base.Add(90 * time.Second), base.Add(time.Minute)},
		{"clock set back", base.Add(-time.Hour), base.Add(-time.Hour)},
		{"far later", base.Add(48 * time.Hour), base.Add(48 * time.Hour)},
	}
	for _, st := range steps {
		c := apply(t, s, key, &crm.Changes{Now: st.now})
		want := st.now
		if s.pg() {
			want = st.coarse
		}
		if !c.LastSeenAt.Equal(want) || !c.UpdatedAt.Equal(st.now) {
			t.Errorf("%s: last_seen_at %v updated_at %v, want %v and %v", st.name, c.LastSeenAt, c.UpdatedAt, want, st.now)
		}
	}
}

func testCreate(t *testing.T, s *Store) {
	key := newKey()
	if c := get(t, s, key); c != nil {
		t.Fatalf("GetClient before any change = %+v, want nil", c)
	}
	c := apply(t, s, key, nil)
	if c.ID == 0 || c.Platform != key.Platform || c.PlatformUserID != key.ID {
		t.Fatalf("created client identity = %d %s %s", c.ID, c.Platform, c.PlatformUserID)
	}
	c = apply(t, s, key, &crm.Changes{Now: at(1)})
	c2 := apply(t, s, key, &crm.Changes{Now: at(2)})
	if c2.ID != c.ID || !c2.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("second change made a new client: id %d→%d", c.ID, c2.ID)
	}
	if !c2.LastSeenAt.Equal(at(2)) || !c2.UpdatedAt.Equal(at(2)) {
		t.Errorf("last_seen_at %v updated_at %v, want %v", c2.LastSeenAt, c2.UpdatedAt, at(2))
	}
	if c2.Subscribed || c2.Tags != nil || len(c2.Attributes) != 0 || len(c2.Confirmed) != 0 || c2.Age != nil {
		t.Errorf("fresh client not empty: %+v", c2)
	}
	if got := get(t, s, key); !reflect.DeepEqual(got, c2) {
		t.Errorf("GetClient =\n%+v\nApplyChanges returned\n%+v", got, c2)
	}
}

func testProfile(t *testing.T, s *Store) {
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: t0, Profile: &messenger.Profile{
		FirstName: "Анна", LastName: "Петровна", Username: "anna", Language: "ru",
		Gender: "female", BirthDate: "5.3.1982", City: "Самара",
	}})
	want := []string{"Анна", "Петровна", "anna", "ru", "female", "Самара"}
	got := []string{c.FirstName, c.LastName, c.Username, c.Language, c.Gender, c.City}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile on create = %q, want %q", got, want)
	}
	if c.BirthDate == nil || !c.BirthDate.Equal(date(1982, 3, 5)) || c.Age == nil || *c.Age != 43 {
		t.Errorf("profile birth date %v age %v, want 1982-03-05 and 43", c.BirthDate, c.Age)
	}
	if len(c.Confirmed) != 0 {
		t.Errorf("profile stamped confirmed: %v", c.Confirmed)
	}
	apply(t, s, key, &crm.Changes{Now: at(1), Set: []crm.FieldValue{{Field: "first_name", Value: "Аня"}}})
	c = apply(t, s, key, &crm.Changes{Now: at(2), Profile: &messenger.Profile{
		FirstName: "Anna", LastName: "P", Username: "anna2", Language: "en", City: "Москва", BirthDate: "1.1.1990",
	}})
	got = []string{c.FirstName, c.LastName, c.Username, c.Language, c.City}
	want = []string{"Аня", "Петровна", "anna", "ru", "Самара"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile refresh overwrote saved values: %q, want %q", got, want)
	}
	if !c.BirthDate.Equal(date(1982, 3, 5)) || *c.Age != 43 {
		t.Errorf("profile refresh overwrote birth date %v / age %d", c.BirthDate, *c.Age)
	}

	// Missing values are filled from a later profile; unusable ones ignored.
	key2 := newKey()
	apply(t, s, key2, &crm.Changes{Now: t0, Profile: &messenger.Profile{FirstName: "Олег", Gender: "other", BirthDate: "5.3"}})
	c = apply(t, s, key2, &crm.Changes{Now: at(1), Profile: &messenger.Profile{FirstName: "Oleg", LastName: "Иванов", Username: "oleg"}})
	if c.FirstName != "Олег" || c.LastName != "Иванов" || c.Username != "oleg" || c.Gender != "" || c.BirthDate != nil {
		t.Errorf("profile fill = %q %q %q gender %q birth %v", c.FirstName, c.LastName, c.Username, c.Gender, c.BirthDate)
	}

	// A name typed in the same update beats the profile, even on create.
	c = apply(t, s, newKey(), &crm.Changes{Now: t0, Profile: &messenger.Profile{FirstName: "Maria"},
		Set: []crm.FieldValue{{Field: "first_name", Value: "Мария"}}})
	if c.FirstName != "Мария" {
		t.Errorf("Set with Profile: first_name %q, want Мария", c.FirstName)
	}
}

func testSetTypes(t *testing.T, s *Store) {
	cases := []struct {
		name  string
		set   []crm.FieldValue
		check func(c *crm.Client) bool
	}{
		{"text", []crm.FieldValue{{Field: "city", Value: "Москва"}},
			func(c *crm.Client) bool { return c.City == "Москва" }},
		{"text phone", []crm.FieldValue{{Field: "phone", Value: "+79991234567"}},
			func(c *crm.Client) bool { return c.Phone == "+79991234567" }},
		{"int", []crm.FieldValue{{Field: "children_count", Value: 2}},
			func(c *crm.Client) bool { return c.ChildrenCount != nil && *c.ChildrenCount == 2 }},
		{"int64 age", []crm.FieldValue{{Field: "age", Value: int64(27)}},
			func(c *crm.Client) bool { return c.Age != nil && *c.Age == 27 && c.BirthDate == nil }},
		{"date sets age", []crm.FieldValue{{Field: "birth_date", Value: date(1997, 6, 15)}},
			func(c *crm.Client) bool {
				return c.BirthDate != nil && c.BirthDate.Equal(date(1997, 6, 15)) && c.Age != nil && *c.Age == 27
			}},
		{"date with explicit age", []crm.FieldValue{{Field: "age", Value: 30}, {Field: "birth_date", Value: date(1997, 6, 15)}},
			func(c *crm.Client) bool { return *c.Age == 30 }},
		{"enum", []crm.FieldValue{{Field: "gender", Value: "male"}, {Field: "income_level", Value: "premium"}},
			func(c *crm.Client) bool { return c.Gender == "male" && c.IncomeLevel == "premium" }},
		{"bool", []crm.FieldValue{{Field: "subscribed", Value: true}},
			func(c *crm.Client) bool { return c.Subscribed }},
		{"all text columns", allTextFields(),
			func(c *crm.Client) bool {
				return c.LastName == "v-last_name" && c.Occupation == "v-occupation" && c.Timezone == "v-timezone" &&
					c.AssignedManager == "v-assigned_manager" && c.LifecycleStage == "lead" && c.Temperature == "hot"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := newKey()
			c := apply(t, s, key, &crm.Changes{Now: t0, Set: tc.set})
			if !tc.check(c) {
				t.Errorf("returned client wrong: %+v", c)
			}
			for _, fv := range tc.set {
				if !c.Confirmed[fv.Field].Equal(t0) {
					t.Errorf("confirmed[%s] = %v, want %v", fv.Field, c.Confirmed[fv.Field], t0)
				}
			}
			if got := get(t, s, key); !reflect.DeepEqual(got, c) {
				t.Errorf("GetClient differs:\n%+v\n%+v", got, c)
			}
		})
	}
	t.Run("nil clears", func(t *testing.T) {
		t.Parallel()
		key := newKey()
		apply(t, s, key, &crm.Changes{Now: t0, Set: []crm.FieldValue{
			{Field: "city", Value: "Самара"}, {Field: "age", Value: 43}, {Field: "subscribed", Value: true}}})
		c := apply(t, s, key, &crm.Changes{Now: at(1), Set: []crm.FieldValue{
			{Field: "city", Value: nil}, {Field: "age", Value: nil}, {Field: "subscribed", Value: nil}}})
		if c.City != "" || c.Age != nil || c.Subscribed {
			t.Errorf("nil did not clear: city %q age %v subscribed %v", c.City, c.Age, c.Subscribed)
		}
	})
}

// allTextFields sets every text column and two enums.
func allTextFields() []crm.FieldValue {
	var set []crm.FieldValue
	for _, name := range crm.FieldNames() {
		if f, _ := crm.LookupField(name); f.Type == crm.TypeText {
			set = append(set, crm.FieldValue{Field: name, Value: "v-" + name})
		}
	}
	return append(set, crm.FieldValue{Field: "lifecycle_stage", Value: "lead"},
		crm.FieldValue{Field: "temperature", Value: "hot"})
}

func testSetRejects(t *testing.T, s *Store) {
	const secret = "alien-value-4815"
	cases := []struct {
		name string
		ch   crm.Changes
	}{
		{"unknown column", crm.Changes{Set: []crm.FieldValue{{Field: "password", Value: secret}}}},
		{"id column", crm.Changes{Set: []crm.FieldValue{{Field: "id", Value: 1}}}},
		{"attributes via Set", crm.Changes{Set: []crm.FieldValue{{Field: "attributes.x", Value: secret}}}},
		{"injection in name", crm.Changes{Set: []crm.FieldValue{{Field: "city = 'x', phone", Value: secret}}}},
		{"enum value", crm.Changes{Set: []crm.FieldValue{{Field: "gender", Value: secret}}}},
		{"int from string", crm.Changes{Set: []crm.FieldValue{{Field: "age", Value: secret}}}},
		{"date from string", crm.Changes{Set: []crm.FieldValue{{Field: "birth_date", Value: secret}}}},
		{"bool from string", crm.Changes{Set: []crm.FieldValue{{Field: "subscribed", Value: secret}}}},
		{"int out of range", crm.Changes{Set: []crm.FieldValue{{Field: "children_count", Value: int64(1) << 40}}}},
		{"text from int", crm.Changes{Set: []crm.FieldValue{{Field: "city", Value: 5}}}},
		{"attribute type", crm.Changes{Attributes: []crm.FieldValue{{Field: "x", Value: map[string]string{"a": secret}}}}},
		{"attribute name", crm.Changes{Attributes: []crm.FieldValue{{Field: "", Value: secret}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := newKey()
			// Valid changes ride along: nothing of them may be written.
			tc.ch.Now = t0
			tc.ch.AddTags = []string{"x"}
			tc.ch.Answers = []crm.Answer{{Scenario: "s", Step: "a", Value: secret}}
			_, err := s.ApplyChanges(context.Background(), key, &tc.ch)
			if err == nil {
				t.Fatal("ApplyChanges accepted an invalid change")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the value: %v", err)
			}
			if !strings.Contains(err.Error(), key.String()) {
				t.Errorf("error does not name the key: %v", err)
			}
			if c := get(t, s, key); c != nil {
				t.Errorf("invalid change created a client")
			}
		})
	}
}

func testAttributes(t *testing.T, s *Store) {
	key := newKey()
	apply(t, s, key, &crm.Changes{Now: t0, Attributes: []crm.FieldValue{
		{Field: "interests", Value: []string{"fitness", "travel"}},
		{Field: "role", Value: "ЛПР"},
	}})
	apply(t, s, key, &crm.Changes{Now: at(1), Attributes: []crm.FieldValue{
		{Field: "employees", Value: 50}, {Field: "b2b", Value: true},
		{Field: "attributes.since", Value: date(2020, 1, 2)}, {Field: "score", Value: 4.5},
		{Field: "empty", Value: []string{}},
	}})
	c := apply(t, s, key, &crm.Changes{Now: at(2), Attributes: []crm.FieldValue{
		{Field: "interests", Value: []string{"education"}},
	}})
	want := map[string]any{
		"interests": []string{"education"}, "role": "ЛПР", "employees": 50, "b2b": true,
		"since": "2020-01-02", "score": 4.5, "empty": []string{},
	}
	if !reflect.DeepEqual(c.Attributes, want) {
		t.Errorf("attributes = %#v\nwant %#v", c.Attributes, want)
	}
	if !c.Confirmed["attributes.interests"].Equal(at(2)) || !c.Confirmed["attributes.role"].Equal(t0) ||
		!c.Confirmed["attributes.since"].Equal(at(1)) {
		t.Errorf("confirmed = %v", c.Confirmed)
	}
	if got := get(t, s, key); !reflect.DeepEqual(got, c) {
		t.Errorf("GetClient differs:\n%+v\n%+v", got, c)
	}
}

func testTags(t *testing.T, s *Store) {
	key := newKey()
	steps := []struct {
		add, rm []string
		want    []string
	}{
		{add: []string{"vip", "survey"}, want: []string{"survey", "vip"}},
		{add: []string{"vip", "new", "", "new"}, want: []string{"new", "survey", "vip"}},
		{rm: []string{"survey", "missing"}, want: []string{"new", "vip"}},
		{rm: []string{"survey"}, want: []string{"new", "vip"}},
		{add: []string{"x", "y"}, rm: []string{"x", "vip"}, want: []string{"new", "y"}},
		{want: []string{"new", "y"}},
		{rm: []string{"new", "y"}, want: nil},
	}
	for i, st := range steps {
		c := apply(t, s, key, &crm.Changes{Now: at(i), AddTags: st.add, RemoveTags: st.rm})
		if !reflect.DeepEqual(c.Tags, st.want) {
			t.Errorf("step %d: returned tags %q, want %q", i, c.Tags, st.want)
		}
		if got := get(t, s, key); !reflect.DeepEqual(got.Tags, st.want) {
			t.Errorf("step %d: stored tags %q, want %q", i, got.Tags, st.want)
		}
	}
}

func testAnswers(t *testing.T, s *Store) {
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: t0, Answers: []crm.Answer{
		{Scenario: "portrait", Version: "v1", Step: "name", Field: "first_name", Value: "Марина"},
		{Scenario: "portrait", Version: "v1", Step: "age", Field: "age", Value: "27"},
	}})
	apply(t, s, key, &crm.Changes{Now: at(1), Answers: []crm.Answer{
		{Scenario: "feedback", Version: "v2", Step: "csat", Value: "3"},
	}})
	got, err := s.Answers(context.Background(), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Answers = %d rows, want 3", len(got))
	}
	want := crm.Answer{ClientID: c.ID, Scenario: "feedback", Version: "v2", Step: "csat", Value: "3", CreatedAt: at(1)}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("newest answer = %+v, want %+v", got[0], want)
	}
	for _, a := range got[1:] {
		if a.ClientID != c.ID || a.Scenario != "portrait" || !a.CreatedAt.Equal(t0) {
			t.Errorf("older answer = %+v", a)
		}
	}
	if got, _ := s.Answers(context.Background(), c.ID, 1); len(got) != 1 {
		t.Errorf("Answers limit 1 = %d rows", len(got))
	}
}

func testSubscription(t *testing.T, s *Store) {
	key := newKey()
	steps := []struct {
		name  string
		ch    crm.Changes
		check func(c *crm.Client) bool
	}{
		{"consent", crm.Changes{Consent: true}, func(c *crm.Client) bool {
			return c.Subscribed && eqTime(c.ConsentAt, at(0)) && c.UnsubscribedAt == nil
		}},
		{"consent again keeps first", crm.Changes{Consent: true}, func(c *crm.Client) bool {
			return c.Subscribed && eqTime(c.ConsentAt, at(0))
		}},
		{"unsubscribe", crm.Changes{Unsubscribe: true}, func(c *crm.Client) bool {
			return !c.Subscribed && eqTime(c.UnsubscribedAt, at(2)) && eqTime(c.ConsentAt, at(0))
		}},
		{"consent after unsubscribe", crm.Changes{Consent: true}, func(c *crm.Client) bool {
			return c.Subscribed && c.UnsubscribedAt == nil && eqTime(c.ConsentAt, at(0))
		}},
		{"blocked", crm.Changes{Blocked: true}, func(c *crm.Client) bool {
			return c.Subscribed && eqTime(c.BlockedAt, at(4))
		}},
		{"unblocked", crm.Changes{Unblocked: true}, func(c *crm.Client) bool {
			return c.BlockedAt == nil && c.Subscribed
		}},
		{"unsubscribe wins over consent", crm.Changes{Consent: true, Unsubscribe: true}, func(c *crm.Client) bool {
			return !c.Subscribed && eqTime(c.UnsubscribedAt, at(6))
		}},
	}
	for i, st := range steps {
		st.ch.Now = at(i)
		c := apply(t, s, key, &st.ch)
		if !st.check(c) {
			t.Errorf("%s: subscribed %v consent %v unsubscribed %v blocked %v", st.name,
				c.Subscribed, c.ConsentAt, c.UnsubscribedAt, c.BlockedAt)
		}
		if got := get(t, s, key); !reflect.DeepEqual(got, c) {
			t.Errorf("%s: GetClient differs", st.name)
		}
	}
}

func eqTime(p *time.Time, want time.Time) bool { return p != nil && p.Equal(want) }

func testSource(t *testing.T, s *Store) {
	key := newKey()
	if c := apply(t, s, key, &crm.Changes{Now: t0}); c.Source != "" {
		t.Fatalf("source %q without a deep link", c.Source)
	}
	if c := apply(t, s, key, &crm.Changes{Now: at(1), Source: "ads_vk_1"}); c.Source != "ads_vk_1" {
		t.Errorf("first source = %q", c.Source)
	}
	if c := apply(t, s, key, &crm.Changes{Now: at(2), Source: "ads_tg_2"}); c.Source != "ads_vk_1" {
		t.Errorf("second deep link replaced the first: %q", c.Source)
	}
	c := apply(t, s, newKey(), &crm.Changes{Now: t0, Source: "qr_shop"})
	if c.Source != "qr_shop" {
		t.Errorf("source on create = %q", c.Source)
	}
}

func testHandoffAndNote(t *testing.T, s *Store) {
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: t0,
		Handoff: &crm.Handoff{Scenario: "b2b", Step: "call_time", Reason: "просит менеджера"},
		Note:    &crm.Note{Author: "system", Text: "lead qualified"},
	})
	if !eqTime(c.HandoffRequestedAt, t0) {
		t.Errorf("handoff_requested_at = %v", c.HandoffRequestedAt)
	}
	n := count(t, s, "SELECT COUNT(*) FROM handoffs WHERE client_id = ? AND scenario = ? AND step = ? "+
		"AND reason = ? AND status = 'open'", c.ID, "b2b", "call_time", "просит менеджера")
	if n != 1 {
		t.Errorf("handoff rows = %d, want 1", n)
	}
	n = count(t, s, "SELECT COUNT(*) FROM notes WHERE client_id = ? AND author = ? AND text = ?",
		c.ID, "system", "lead qualified")
	if n != 1 {
		t.Errorf("note rows = %d, want 1", n)
	}
}

func testConcurrent(t *testing.T, s *Store) {
	const workers, rounds = 16, 4
	key := newKey()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := range rounds {
				_, err := s.ApplyChanges(context.Background(), key, &crm.Changes{
					Now:        at(r),
					Profile:    &messenger.Profile{FirstName: "Сергей"},
					Attributes: []crm.FieldValue{{Field: fmt.Sprintf("k%d_%d", w, r), Value: w}},
					AddTags:    []string{fmt.Sprintf("t%d_%d", w, r)},
					Answers:    []crm.Answer{{Scenario: "c", Step: "s", Value: "v"}},
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent ApplyChanges: %v", err)
	}
	c := get(t, s, key)
	if len(c.Attributes) != workers*rounds || len(c.Tags) != workers*rounds {
		t.Errorf("lost updates: %d attributes, %d tags, want %d", len(c.Attributes), len(c.Tags), workers*rounds)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM clients WHERE platform = ? AND platform_user_id = ?",
		string(key.Platform), key.ID); n != 1 {
		t.Errorf("%d client rows for one key", n)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM answers WHERE client_id = ?", c.ID); n != workers*rounds {
		t.Errorf("%d answers, want %d", n, workers*rounds)
	}
}

// nasty are values that break naive SQL or encoding; long is 10,000 characters.
var (
	long  = strings.Repeat("Ё'\"\\🦔", 2000)
	nasty = []string{
		"'; DROP TABLE clients; --",
		`Robert"); DELETE FROM answers WHERE (1=1`,
		`$1 ? ?| @name :x %s %% \x00 \n`,
		"emoji 👩‍💻🎉🇷🇺 and\ttab\nnewline",
		`{"json": [1, 2]} || '{}'::jsonb`,
	}
)

func testRoundTrip(t *testing.T, s *Store) {
	if n := len([]rune(long)); n != 10000 {
		t.Fatalf("long value has %d characters", n)
	}
	// The group returns only when its parallel subtests are done, so the
	// count below sees what they wrote.
	t.Run("values", func(t *testing.T) { roundTripValues(t, s) })
	if n := count(t, s, "SELECT COUNT(*) FROM clients"); n == 0 {
		t.Error("clients table lost")
	}
}

func roundTripValues(t *testing.T, s *Store) {
	for i, v := range append(nasty, long) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			key := messenger.ChatKey{Platform: messenger.VK, ID: fmt.Sprintf("%s-%d", nasty[0], keySeq.Add(1))}
			tag, core := v, v
			if v == long {
				tag = "long" // tags are short labels in a btree index
				// Core text columns take crm.MaxTextLen characters: a set
				// value must fit, a platform's value (profile, source) is cut.
				core = string([]rune(long)[:crm.MaxTextLen])
			}
			c := apply(t, s, key, &crm.Changes{Now: t0,
				Profile:    &messenger.Profile{LastName: v},
				Set:        []crm.FieldValue{{Field: "first_name", Value: core}, {Field: "occupation", Value: core}},
				Attributes: []crm.FieldValue{{Field: v, Value: v}, {Field: "list", Value: []string{v, v}}},
				AddTags:    []string{tag},
				Answers:    []crm.Answer{{Scenario: "s", Step: v, Value: v}},
				Source:     v,
				Note:       &crm.Note{Author: "t", Text: v},
			})
			got := get(t, s, key)
			if !reflect.DeepEqual(got, c) {
				t.Errorf("GetClient differs from ApplyChanges")
			}
			if got.PlatformUserID != key.ID || got.FirstName != core || got.LastName != core || got.Occupation != core ||
				got.Source != core || got.Attributes[v] != v || !reflect.DeepEqual(got.Attributes["list"], []string{v, v}) ||
				!reflect.DeepEqual(got.Tags, []string{tag}) || !got.Confirmed["attributes."+v].Equal(t0) {
				t.Errorf("value changed on the way through the database")
			}
			answers, err := s.Answers(context.Background(), got.ID, 1)
			if err != nil || len(answers) != 1 || answers[0].Value != v || answers[0].Step != v {
				t.Errorf("answer changed: %v", err)
			}
			if n := count(t, s, "SELECT COUNT(*) FROM notes WHERE client_id = ? AND text = ?", got.ID, v); n != 1 {
				t.Errorf("note changed")
			}
			id := fmt.Sprintf("rt-%d", i)
			if err := s.SaveVersion(context.Background(), id, v, v, []byte(v)); err != nil {
				t.Fatal(err)
			}
			file, src, err := s.LoadVersion(context.Background(), id, v)
			if err != nil || file != v || string(src) != v {
				t.Errorf("scenario version changed: %v", err)
			}
		})
	}
}

func testListClients(t *testing.T, s *Store) {
	platform := messenger.Platform(fmt.Sprintf("list%d", keySeq.Add(1)))
	var ids []int64
	for i := range 5 {
		c := apply(t, s, messenger.ChatKey{Platform: platform, ID: fmt.Sprint(i)},
			&crm.Changes{Now: t0, AddTags: []string{fmt.Sprint("tag", i)}})
		ids = append(ids, c.ID)
	}
	all, err := s.ListClients(context.Background(), ListOptions{Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("ListClients = %d clients, want 5", len(all))
	}
	page, err := s.ListClients(context.Background(), ListOptions{Platform: platform, Limit: 2, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the page after the newest is ids[3], ids[2].
	if len(page) != 2 || page[0].ID != ids[3] || page[1].ID != ids[2] {
		t.Fatalf("page = %v, want ids %v", []int64{page[0].ID, page[len(page)-1].ID}, []int64{ids[3], ids[2]})
	}
	if all[0].ID != ids[4] || all[4].ID != ids[0] {
		t.Errorf("ListClients order = %d … %d, want newest first (%d … %d)", all[0].ID, all[4].ID, ids[4], ids[0])
	}
	if !reflect.DeepEqual(page[0].Tags, []string{"tag3"}) || page[0].Platform != platform {
		t.Errorf("listed client = %+v", page[0])
	}
	if got := get(t, s, page[1].Key()); !reflect.DeepEqual(*got, page[1]) {
		t.Errorf("listed client differs from GetClient")
	}
	if some, err := s.ListClients(context.Background(), ListOptions{Limit: 3}); err != nil || len(some) != 3 {
		t.Errorf("ListClients without platform = %d, %v", len(some), err)
	}
}

func testVersions(t *testing.T, s *Store) {
	ctx := context.Background()
	src := []byte("id: portrait\nstart: consent\nsteps: {}\n")
	if err := s.SaveVersion(ctx, "portrait", "v1", "scenarios/portrait.yaml", src); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveVersion(ctx, "portrait", "v1", "other.yaml", []byte("changed")); err != nil {
		t.Fatalf("duplicate SaveVersion: %v", err)
	}
	file, got, err := s.LoadVersion(ctx, "portrait", "v1")
	if err != nil || file != "scenarios/portrait.yaml" || string(got) != string(src) {
		t.Errorf("LoadVersion = %q, %q, %v", file, got, err)
	}
	_, _, err = s.LoadVersion(ctx, "portrait", "v404")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadVersion of a missing version: %v, want ErrNotFound", err)
	}
}

func testBadKey(t *testing.T, s *Store) {
	for _, key := range []messenger.ChatKey{{}, {Platform: messenger.Telegram}, {ID: "1"}} {
		if _, err := s.ApplyChanges(context.Background(), key, nil); err == nil {
			t.Errorf("ApplyChanges accepted key %q", key)
		}
	}
}
