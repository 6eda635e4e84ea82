package postgres

import (
	"context"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// testForget: Changes with Forget (a client's /forget) delete the client and
// every row attached to it, write nothing else back, touch no other client,
// and are idempotent.
func testForget(t *testing.T, s *Store) {
	ctx := context.Background()
	key, other := newKey(), newKey()
	full := func(k messenger.ChatKey) *crm.Client {
		return apply(t, s, k, &crm.Changes{Now: at(1), UpdateID: "1",
			Profile:    &messenger.Profile{FirstName: "Анна"},
			Set:        []crm.FieldValue{{Field: "city", Value: "Самара"}},
			Attributes: []crm.FieldValue{{Field: "interests", Value: []string{"fitness"}}},
			AddTags:    []string{"survey"}, Consent: true,
			Answers:    []crm.Answer{{Scenario: "portrait", Step: "city", Field: "city", Value: "Самара"}},
			Note:       &crm.Note{Author: "bot", Text: "позвонить"},
			Handoff:    &crm.Handoff{Scenario: "portrait", Step: "city", Reason: "просит менеджера"},
			Completion: &crm.Completion{Scenario: "portrait", Version: "v1", Step: "done"},
			Messages: []crm.Message{{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "позовите менеджера"},
				{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot, Text: "зову"}},
		})
	}
	c, o := full(key), full(other)
	ch := &crm.Changes{Now: at(2), UpdateID: "2", Forget: true, Profile: &messenger.Profile{FirstName: "Анна"},
		Set: []crm.FieldValue{{Field: "city", Value: "Москва"}}}
	for range 2 { // a retried update deletes nothing more and does not fail
		if err := s.RecordChanges(ctx, key, ch); err != nil {
			t.Fatalf("RecordChanges(Forget): %v", err)
		}
	}
	if got := get(t, s, key); got != nil {
		t.Fatalf("client still stored after Forget: %+v", got)
	}
	for _, table := range []string{"client_tags", "answers", "notes", "handoffs", "completions", "messages"} {
		if n := count(t, s, "SELECT COUNT(*) FROM "+table+" WHERE client_id = ?", c.ID); n != 0 {
			t.Errorf("%s keeps %d rows of the deleted client", table, n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM "+table+" WHERE client_id = ?", o.ID); n == 0 {
			t.Errorf("%s lost the other client's rows", table)
		}
	}
	if got := get(t, s, other); got == nil || got.City != "Самара" {
		t.Errorf("the other client changed: %+v", got)
	}
	if found, err := s.DeleteClient(ctx, other); err != nil || !found {
		t.Errorf("DeleteClient(other) = %v, %v", found, err)
	}
	if found, err := s.DeleteClient(ctx, other); err != nil || found {
		t.Errorf("DeleteClient of a missing client = %v, %v; want false, nil", found, err)
	}
	if _, err := s.DeleteClient(ctx, messenger.ChatKey{}); err == nil {
		t.Error("DeleteClient accepted an empty key")
	}
}
