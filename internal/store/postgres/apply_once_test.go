package postgres

import (
	"context"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

// updateStep is a change with every append-only part (two answers, a note,
// a hand-off, a completion) and idempotent ones (a column, an attribute, a
// tag), as one handled update of updateID records.
func updateStep(updateID string, minute int) *crm.Changes {
	return &crm.Changes{
		Now:        at(minute),
		UpdateID:   updateID,
		Set:        []crm.FieldValue{{Field: "city", Value: "Казань"}},
		Attributes: []crm.FieldValue{{Field: "interests", Value: []string{"fitness"}}},
		AddTags:    []string{"lead"},
		Answers: []crm.Answer{
			{Scenario: "portrait", Version: "v1", Step: "city", Field: "city", Value: "Казань"},
			{Scenario: "portrait", Version: "v1", Step: "interests", Field: "attributes.interests", Value: "fitness"},
		},
		Note:       &crm.Note{Author: "system", Text: "анкета заполнена"},
		Handoff:    &crm.Handoff{Scenario: "portrait", Step: "done", Reason: "просит менеджера"},
		Completion: &crm.Completion{Scenario: "portrait", Version: "v1", Step: "done"},
	}
}

// appendCounts is how many rows of each append-only kind a client has.
type appendCounts struct{ answers, notes, handoffs, completions int64 }

func countAppends(t *testing.T, s *Store, id int64) appendCounts {
	t.Helper()
	return appendCounts{
		answers:     count(t, s, "SELECT COUNT(*) FROM answers WHERE client_id = ?", id),
		notes:       count(t, s, "SELECT COUNT(*) FROM notes WHERE client_id = ?", id),
		handoffs:    count(t, s, "SELECT COUNT(*) FROM handoffs WHERE client_id = ?", id),
		completions: count(t, s, "SELECT COUNT(*) FROM completions WHERE client_id = ?", id),
	}
}

// times is the counts of updateStep applied n times: each records its
// answers, note and completion, but a client has at most one live hand-off
// request, so the repeated requests add nothing.
func times(n int64) appendCounts { return appendCounts{2 * n, n, min(n, 1), n} }

func testUpdateOnce(t *testing.T, s *Store) {
	cases := []struct {
		name    string
		updates []string // the UpdateID of each updateStep applied in turn
		want    appendCounts
	}{
		{"same update twice", []string{"u1", "u1"}, times(1)},
		{"same update three times", []string{"u1", "u1", "u1"}, times(1)},
		{"two updates", []string{"u1", "u2"}, times(2)},
		{"two updates, the second repeated", []string{"u1", "u2", "u2"}, times(2)},
		{"no update id", []string{"", ""}, times(2)},
		{"update after an update-less write", []string{"", "u1", "u1"}, times(2)},
		{"update-less write in between", []string{"u1", "", "u1"}, times(3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			key := newKey()
			var cl *crm.Client
			for i, id := range c.updates {
				cl = apply(t, s, key, updateStep(id, i))
			}
			if got := countAppends(t, s, cl.ID); got != c.want {
				t.Errorf("rows %+v, want %+v", got, c.want)
			}
			// The idempotent parts are applied on every write and the row
			// returned reflects them, repeated update or not.
			last := len(c.updates) - 1
			if cl.City != "Казань" || !cl.HasTag("lead") || !cl.LastSeenAt.Equal(at(last)) ||
				!eqTime(cl.HandoffRequestedAt, at(last)) || cl.Confirmed["city"].IsZero() {
				t.Errorf("returned client city %q tags %v last seen %v handoff %v confirmed %v",
					cl.City, cl.Tags, cl.LastSeenAt, cl.HandoffRequestedAt, cl.Confirmed)
			}
		})
	}
}

// testUpdateOncePerClient: update ids are deduplicated per client, so two
// clients whose updates share an id both record theirs.
func testUpdateOncePerClient(t *testing.T, s *Store) {
	a, b := newKey(), newKey()
	ca := apply(t, s, a, updateStep("42", 0))
	cb := apply(t, s, b, updateStep("42", 0))
	apply(t, s, a, updateStep("42", 1))
	for _, c := range []*crm.Client{ca, cb} {
		if got := countAppends(t, s, c.ID); got != times(1) {
			t.Errorf("client %d rows %+v, want %+v", c.ID, got, times(1))
		}
	}
}

// testUpdateOnceKinds repeats an update that records one append-only kind
// at a time, so that each kind is checked on its own.
func testUpdateOnceKinds(t *testing.T, s *Store) {
	full := updateStep("", 0)
	cases := []struct {
		name string
		ch   crm.Changes
		want appendCounts
	}{
		{"answers", crm.Changes{Answers: full.Answers}, appendCounts{answers: 2}},
		{"note", crm.Changes{Note: full.Note}, appendCounts{notes: 1}},
		{"handoff", crm.Changes{Handoff: full.Handoff}, appendCounts{handoffs: 1}},
		{"completion", crm.Changes{Completion: full.Completion}, appendCounts{completions: 1}},
		{"tags only", crm.Changes{AddTags: []string{"vip"}}, appendCounts{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			key := newKey()
			var cl *crm.Client
			for i := range 2 {
				ch := c.ch
				ch.Now, ch.UpdateID = at(i), "7"
				cl = apply(t, s, key, &ch)
			}
			if got := countAppends(t, s, cl.ID); got != c.want {
				t.Errorf("rows %+v, want %+v", got, c.want)
			}
		})
	}
}

// testUpdateOnceRejected: a change that fails validation records nothing,
// so the update's retry (with the change fixed) still records its rows.
func testUpdateOnceRejected(t *testing.T, s *Store) {
	key := newKey()
	bad := updateStep("9", 0)
	bad.Set = []crm.FieldValue{{Field: "age", Value: "сорок"}}
	if _, err := s.ApplyChanges(context.Background(), key, bad); err == nil {
		t.Fatal("ApplyChanges accepted a text age")
	}
	cl := apply(t, s, key, updateStep("9", 1))
	if got := countAppends(t, s, cl.ID); got != times(1) {
		t.Errorf("rows %+v, want %+v", got, times(1))
	}
}
