package postgres

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

// TestApplyTranscript: the messages of an update are written with the
// client's other changes, once per update, each with the live request.
func TestApplyTranscript(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			cases := []struct {
				name string
				run  func(t *testing.T, s *Store)
			}{
				{"OncePerUpdate", testTranscriptOnce},
				{"HandoffID", testTranscriptHandoffID},
				{"Activity", testHandoffActivity},
				{"BadText", testTranscriptBadText},
				{"Order", testTranscriptOrder},
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

// storedMessage is a transcript row as the tests check it.
type storedMessage struct {
	dir, kind, text string
	handoff         int64 // 0 for NULL
}

func storedMessages(t *testing.T, s *Store, clientID int64) []storedMessage {
	t.Helper()
	rows, err := s.db.Raw("SELECT direction, author_kind, text, handoff_id FROM messages WHERE client_id = ? ORDER BY id", clientID).Rows()
	if err != nil {
		t.Fatalf("read messages: %v", err)
	}
	defer rows.Close()
	var out []storedMessage
	for rows.Next() {
		var m storedMessage
		var h sql.NullInt64
		if err := rows.Scan(&m.dir, &m.kind, &m.text, &h); err != nil {
			t.Fatalf("scan message: %v", err)
		}
		m.handoff = h.Int64
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func inMsg(text string) crm.Message {
	return crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: text}
}

func botMsg(text string) crm.Message {
	return crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot, Text: text}
}

func testTranscriptOnce(t *testing.T, s *Store) {
	cases := []struct {
		name    string
		updates []string
		want    int
	}{
		{"one update", []string{"1"}, 2},
		{"redelivered", []string{"1", "1"}, 2},
		{"redelivered thrice", []string{"1", "1", "1"}, 2},
		{"two updates", []string{"1", "2"}, 4},
		{"no update ids", []string{"", ""}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			key := newKey()
			var cl *crm.Client
			for i, id := range c.updates {
				cl = apply(t, s, key, &crm.Changes{Now: at(i), UpdateID: id,
					Messages: []crm.Message{inMsg("вопрос " + id), botMsg("ответ " + id)}})
			}
			got := storedMessages(t, s, cl.ID)
			if len(got) != c.want {
				t.Fatalf("%d messages, want %d: %+v", len(got), c.want, got)
			}
			for i, m := range got {
				if wantDir := []string{crm.DirectionIn, crm.DirectionOut}[i%2]; m.dir != wantDir || m.handoff != 0 {
					t.Errorf("message %d = %+v, want direction %s and no request", i, m, wantDir)
				}
			}
		})
	}
}

// testTranscriptOrder: the messages of an update are numbered in their
// order, whatever their number.
func testTranscriptOrder(t *testing.T, s *Store) {
	for n := 1; n <= 5; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			var msgs []crm.Message
			var want []string
			for i := range n {
				m := botMsg("ответ " + strconv.Itoa(i))
				if i == 0 {
					m = inMsg("вопрос")
				}
				msgs = append(msgs, m)
				want = append(want, m.Text)
			}
			cl := apply(t, s, newKey(), &crm.Changes{Now: at(0), UpdateID: "1", Messages: msgs})
			got := storedMessages(t, s, cl.ID)
			var texts []string
			for _, m := range got {
				texts = append(texts, m.text)
			}
			if !slices.Equal(texts, want) {
				t.Errorf("stored in id order %q, want %q", texts, want)
			}
		})
	}
}

// testTranscriptHandoffID: a message belongs to the live request, the
// request recorded by the same update included; none once it is closed.
func testTranscriptHandoffID(t *testing.T, s *Store) {
	ctx := context.Background()
	key := newKey()
	cl := apply(t, s, key, &crm.Changes{Now: at(0), UpdateID: "1", Messages: []crm.Message{inMsg("привет")}})
	apply(t, s, key, &crm.Changes{Now: at(1), UpdateID: "2", Handoff: &crm.Handoff{Reason: "manager"},
		Messages: []crm.Message{inMsg("/manager"), botMsg("зову менеджера")}})
	apply(t, s, key, &crm.Changes{Now: at(2), UpdateID: "3", Messages: []crm.Message{inMsg("алло")}})
	var hid int64
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT id FROM handoffs WHERE client_id = ?", []any{cl.ID}, &hid); err != nil || hid == 0 {
		t.Fatalf("handoff id %d: %v", hid, err)
	}
	if err := s.db.Exec("UPDATE handoffs SET status = 'closed' WHERE id = ?", hid).Error; err != nil {
		t.Fatal(err)
	}
	apply(t, s, key, &crm.Changes{Now: at(3), UpdateID: "4", Messages: []crm.Message{inMsg("спасибо")}})
	got := storedMessages(t, s, cl.ID)
	want := []int64{0, hid, hid, hid, 0}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].handoff != want[i] {
			t.Errorf("message %d (%q) request %d, want %d", i, got[i].text, got[i].handoff, want[i])
		}
	}
}

// testHandoffActivity: a client's message during a hand-off stamps the live
// request: waiting_since only when unset, last activity always, the
// question only while empty.
func testHandoffActivity(t *testing.T, s *Store) {
	key := newKey()
	cl := apply(t, s, key, &crm.Changes{Now: at(0), UpdateID: "1", Handoff: &crm.Handoff{Reason: "manager"}})
	read := func() (question string, waiting, last sql.NullTime) {
		t.Helper()
		if _, err := queryOne(s.db, "SELECT question, waiting_since, last_activity_at FROM handoffs WHERE client_id = ?",
			[]any{cl.ID}, &question, &waiting, &last); err != nil {
			t.Fatal(err)
		}
		return
	}
	apply(t, s, key, &crm.Changes{Now: at(1), UpdateID: "2", HandoffActivity: &crm.HandoffActivity{Question: "где заказ?", At: at(1)}})
	q, w, l := read()
	if q != "где заказ?" || !w.Valid || !w.Time.Equal(at(0)) || !l.Time.Equal(at(1)) {
		t.Errorf("after the first message: question %q waiting %v last %v", q, w.Time, l.Time)
	}
	// The manager answered: the clock stops until the client writes again.
	if err := s.db.Exec("UPDATE handoffs SET waiting_since = NULL WHERE client_id = ?", cl.ID).Error; err != nil {
		t.Fatal(err)
	}
	apply(t, s, key, &crm.Changes{Now: at(5), UpdateID: "3", HandoffActivity: &crm.HandoffActivity{Question: "ещё вопрос"}})
	q, w, l = read()
	if q != "где заказ?" || !w.Time.Equal(at(5)) || !l.Time.Equal(at(5)) {
		t.Errorf("after the second message: question %q waiting %v last %v", q, w.Time, l.Time)
	}
	// No live request: nothing to stamp, nothing fails.
	other := newKey()
	apply(t, s, other, &crm.Changes{Now: at(1), UpdateID: "1", HandoffActivity: &crm.HandoffActivity{Question: "?"}})
}

// testTranscriptBadText: NUL bytes and invalid UTF-8 (which PostgreSQL
// refuses, SQLSTATE 22021) are cleaned, over-long texts cut.
func testTranscriptBadText(t *testing.T, s *Store) {
	cases := []struct {
		name, text, want string
	}{
		{"nul", "a\x00b", "ab"},
		{"invalid utf-8", "a\xff\xfeb", "a\uFFFDb"},
		{"too long", strings.Repeat("ж", crm.MaxMessageText), strings.Repeat("ж", crm.MaxMessageText/2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			key := newKey()
			cl := apply(t, s, key, &crm.Changes{Now: at(0), UpdateID: "1", Handoff: &crm.Handoff{Question: c.text},
				Messages: []crm.Message{inMsg(c.text)}})
			apply(t, s, key, &crm.Changes{Now: at(1), UpdateID: "2", HandoffActivity: &crm.HandoffActivity{Question: c.text},
				Messages: []crm.Message{{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Button: c.text, Author: c.text}}})
			got := storedMessages(t, s, cl.ID)
			if len(got) != 2 || got[0].text != c.want {
				t.Errorf("stored %+v, want the text %.20q...", got, c.want)
			}
			var q string
			if _, err := queryOne(s.db, "SELECT question FROM handoffs WHERE client_id = ?", []any{cl.ID}, &q); err != nil || q != c.want {
				t.Errorf("question %.20q..., %v; want %.20q...", q, err, c.want)
			}
		})
	}
}

// TestPostgresRefusesBadText shows why texts are cleaned: PostgreSQL refuses
// a NUL byte and invalid UTF-8 in text (SQLSTATE 22021, a rejected write),
// while every path that writes messages cleans them first.
func TestPostgresRefusesBadText(t *testing.T) {
	t.Parallel()
	s := openPGTemp(t)
	ctx := context.Background()
	c := apply(t, s, newKey(), &crm.Changes{Now: at(0)})
	for _, text := range []string{"a\x00b", "a\xffb"} {
		_, err := queryOne(s.db, "INSERT INTO messages (client_id, direction, author_kind, text) VALUES (?, 'in', 'client', ?) RETURNING id",
			[]any{c.ID, text}, new(int64))
		err = classify(err)
		if err == nil || !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "22021") {
			t.Errorf("raw insert of %q: %v; want a rejected write, SQLSTATE 22021", text, err)
		}
		if _, err := s.AppendMessage(ctx, crm.Message{ClientID: c.ID, Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient,
			Text: text, Button: text}); err != nil {
			t.Errorf("AppendMessage(%q): %v", text, err)
		}
		if _, err := s.ApplyChanges(ctx, newKey(), &crm.Changes{Now: at(1), UpdateID: "1", Messages: []crm.Message{inMsg(text)},
			Handoff: &crm.Handoff{Question: text}, HandoffActivity: &crm.HandoffActivity{Question: text}}); err != nil {
			t.Errorf("ApplyChanges with %q: %v", text, err)
		}
	}
}
