package postgres

import (
	"context"
	"maps"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestReminderLog: a reminder sent is recorded once per key with its
// message in the transcript; an answer after it stamps it; the funnel
// counts both; erasing the client takes its reminders along.
func TestReminderLog(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			cases := []struct {
				name string
				run  func(t *testing.T, s *Store)
			}{
				{"OncePerKeyWithTranscript", testReminderOnce},
				{"UnknownClient", testReminderUnknownClient},
				{"AnsweredSinceTheConversation", testReminderAnswered},
				{"Funnel", testReminderFunnel},
				{"ErasedWithTheClient", testReminderErased},
				{"ConversationRecordedAndMatched", testReminderRun},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, s)
				})
			}
		})
	}
}

func reminderRec(scenario, step string, n int, key string, minute int) crm.Reminder {
	return crm.Reminder{Scenario: scenario, Version: "v1", Step: step, N: n, Key: key, Text: "Продолжим анкету?", SentAt: at(minute)}
}

func recordReminder(t *testing.T, s *Store, key messenger.ChatKey, r crm.Reminder) {
	t.Helper()
	if err := s.RecordReminder(context.Background(), key, r); err != nil {
		t.Fatalf("RecordReminder: %v", err)
	}
}

func clientReminders(t *testing.T, s *Store, clientID int64) []crm.Reminder {
	t.Helper()
	rs, err := s.ClientReminders(context.Background(), clientID)
	if err != nil {
		t.Fatalf("ClientReminders: %v", err)
	}
	return rs
}

func testReminderOnce(t *testing.T, s *Store) {
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: at(0)})
	r := reminderRec("portrait", "name", 1, "remind:1:100", 5)
	recordReminder(t, s, key, r)
	recordReminder(t, s, key, r) // the reminder's turn repeated its send
	rs := clientReminders(t, s, c.ID)
	if len(rs) != 1 || rs[0].Scenario != "portrait" || rs[0].Step != "name" || rs[0].N != 1 || rs[0].Version != "v1" ||
		rs[0].Key != r.Key || !rs[0].SentAt.Equal(at(5)) || rs[0].AnsweredAt != nil || rs[0].ClientID != c.ID {
		t.Fatalf("reminders = %+v; want the one, unanswered", rs)
	}
	msgs := storedMessages(t, s, c.ID)
	if len(msgs) != 1 || msgs[0] != (storedMessage{dir: crm.DirectionOut, kind: crm.AuthorReminder, text: r.Text}) {
		t.Fatalf("transcript = %+v; want the reminder's message once", msgs)
	}
	if got := get(t, s, key); !got.LastSeenAt.Equal(at(0)) {
		t.Errorf("last_seen_at = %s; a reminder is not the client being seen", got.LastSeenAt)
	}
}

func testReminderUnknownClient(t *testing.T, s *Store) {
	key := newKey()
	recordReminder(t, s, key, reminderRec("portrait", "name", 1, "remind:1:1", 1))
	if n := count(t, s, "SELECT COUNT(*) FROM reminders WHERE reminder_key = ?", "remind:1:1"); n != 0 {
		t.Fatalf("%d rows for a client not stored", n)
	}
}

func testReminderAnswered(t *testing.T, s *Store) {
	ctx := context.Background()
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: at(0)})
	recordReminder(t, s, key, reminderRec("portrait", "name", 1, "remind:1:a", 10)) // an earlier conversation's
	recordReminder(t, s, key, reminderRec("portrait", "name", 1, "remind:1:b", 70))
	recordReminder(t, s, key, reminderRec("portrait", "name", 2, "remind:2:b", 130))
	recordReminder(t, s, key, reminderRec("portrait", "age", 1, "remind:1:c", 140))
	// The conversation started at minute 60; the client answers name at 150.
	if err := s.ReminderAnswered(ctx, key, "portrait", "name", at(60), at(150)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReminderAnswered(ctx, key, "portrait", "name", at(60), at(160)); err != nil {
		t.Fatal(err) // a later answer keeps the first time
	}
	answered := map[string]bool{}
	for _, r := range clientReminders(t, s, c.ID) {
		if r.AnsweredAt != nil {
			if !r.AnsweredAt.Equal(at(150)) {
				t.Errorf("%s answered at %s; want %s", r.Key, r.AnsweredAt, at(150))
			}
			answered[r.Key] = true
		}
	}
	if len(answered) != 2 || !answered["remind:1:b"] || !answered["remind:2:b"] {
		t.Fatalf("answered = %v; want the two name reminders of this conversation", answered)
	}
	if err := s.ReminderAnswered(ctx, newKey(), "portrait", "name", at(0), at(1)); err != nil {
		t.Fatalf("an answer of a client without reminders: %v", err)
	}
}

func testReminderFunnel(t *testing.T, s *Store) {
	ctx := context.Background()
	scenario := "funnel_" + newKey().ID // the store is shared by the cases
	for i := range 3 {
		key := newKey()
		apply(t, s, key, &crm.Changes{Now: at(0)})
		recordReminder(t, s, key, reminderRec(scenario, "name", 1, "remind:1:x", 10))
		if i == 0 {
			if err := s.ReminderAnswered(ctx, key, scenario, "name", at(0), at(20)); err != nil {
				t.Fatal(err)
			}
		}
		if i == 2 {
			recordReminder(t, s, key, reminderRec(scenario, "name", 2, "remind:2:x", 30))
		}
	}
	got, err := s.ReminderFunnel(ctx, scenario, at(0))
	if err != nil {
		t.Fatal(err)
	}
	want := []crm.ReminderStat{{Scenario: scenario, Step: "name", N: 1, Sent: 3, Answered: 1}, {Scenario: scenario, Step: "name", N: 2, Sent: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("funnel = %+v; want %+v", got, want)
	}
	if got, err := s.ReminderFunnel(ctx, scenario, at(20)); err != nil || len(got) != 1 || got[0].N != 2 {
		t.Fatalf("funnel since minute 20 = %+v, %v; want only the second reminder", got, err)
	}
}

func testReminderErased(t *testing.T, s *Store) {
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: at(0)})
	recordReminder(t, s, key, reminderRec("portrait", "name", 1, "remind:1:e", 1))
	if _, err := s.DeleteClient(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM reminders WHERE client_id = ?", c.ID); n != 0 {
		t.Fatalf("%d reminders left after /forget", n)
	}
}

// testReminderRun: a reminder keeps its conversation (run); migration 30
// matches a row written without one to the visit of its step open when it
// was sent, and leaves a row with no such visit unknown.
func testReminderRun(t *testing.T, s *Store) {
	key := newKey()
	run := at(0).UnixMicro()
	c := apply(t, s, key, &crm.Changes{Now: at(0), Visits: []crm.StepVisit{
		{Scenario: "portrait", Version: "v1", Run: run, Step: "name", Event: crm.VisitEnter}}})
	r := reminderRec("portrait", "name", 1, "remind:1:run", 5)
	r.Run = run
	recordReminder(t, s, key, r)
	recordReminder(t, s, key, reminderRec("portrait", "name", 2, "remind:2:old", 6))     // written before migration 30
	recordReminder(t, s, key, reminderRec("portrait", "city", 1, "remind:1:nowhere", 7)) // no visit of city
	if err := s.db.Exec(remindersRun[1]+" WHERE client_id = ?", c.ID).Error; err != nil {
		t.Fatalf("migration 30's match: %v", err)
	}
	got := map[string]int64{}
	for _, r := range clientReminders(t, s, c.ID) {
		got[r.Key] = r.Run
	}
	want := map[string]int64{"remind:1:run": run, "remind:2:old": run, "remind:1:nowhere": 0}
	if !maps.Equal(got, want) {
		t.Fatalf("runs = %v; want %v", got, want)
	}
}
