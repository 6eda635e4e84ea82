package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// TestHandoffStore runs the hand-off store cases on every backend, each on
// a store of its own (claims and counts see every request of a store).
func TestHandoffStore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"ListAndCount", testListHandoffs},
		{"LivePaging", testLivePaging},
		{"Reads", testHandoffReads},
		{"Take", testTakeHandoff},
		{"TakeRace", testTakeRace},
		{"Replies", testReplies},
		{"ReplyClaimRace", testReplyClaimRace},
		{"Returns", testReturns},
		{"FailedReturns", testFailedReturns},
		{"RequestClaimRace", testRequestClaimRace},
		{"TeamChat", testTeamChat},
		{"Transcript", testTranscript},
		{"Purge", testPurgeMessages},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b.open(t))
				})
			}
		})
	}
}

// newRequest makes a client (profile pr) with a live request created at
// at(minute) and returns the request's id and the client's id.
func newRequest(t *testing.T, s *Store, minute int, pr *messenger.Profile, question string) (id, clientID int64) {
	t.Helper()
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: at(minute), UpdateID: "1", Profile: pr,
		Handoff:  &crm.Handoff{Reason: "manager", Question: question},
		Messages: []crm.Message{inMsg(question)}})
	r, err := s.LiveHandoffOf(context.Background(), c.ID)
	if err != nil {
		t.Fatalf("LiveHandoffOf: %v", err)
	}
	return r.ID, c.ID
}

func requestIDs(rs []handoff.Request) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func eqIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testListHandoffs(t *testing.T, s *Store) {
	ctx := context.Background()
	named, namedClient := newRequest(t, s, 3, &messenger.Profile{FirstName: "Анна", LastName: "Петрова"}, "где заказ?")
	user, _ := newRequest(t, s, 1, &messenger.Profile{Username: "ivan"}, "помогите")
	bare, _ := newRequest(t, s, 2, nil, "алло")
	closed, _ := newRequest(t, s, 0, nil, "старый")
	if err := s.db.Exec("UPDATE handoffs SET status = 'closed' WHERE id = ?", closed).Error; err != nil {
		t.Fatal(err)
	}
	apply(t, s, keyOf(t, s, namedClient), &crm.Changes{Now: at(4), AddTags: []string{"vip"},
		Set: []crm.FieldValue{{Field: "phone", Value: "+79123456789"}, {Field: "city", Value: "Казань"}}})
	if _, err := s.TakeHandoff(ctx, named, "olga", at(5)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    handoff.Filter
		want []int64
	}{
		{"waiting: longest first", handoff.Filter{Tab: handoff.TabWaiting}, []int64{user, bare}},
		{"all live", handoff.Filter{Tab: handoff.TabAll}, []int64{user, bare, named}},
		{"mine", handoff.Filter{Tab: handoff.TabMine, Manager: "olga"}, []int64{named}},
		{"someone else's", handoff.Filter{Tab: handoff.TabMine, Manager: "petr"}, nil},
		{"closed", handoff.Filter{Tab: handoff.TabClosed}, []int64{closed}},
		{"closed before it", handoff.Filter{Tab: handoff.TabClosed, BeforeID: closed}, nil},
		{"limit", handoff.Filter{Tab: handoff.TabAll, Limit: 1}, []int64{user}},
	}
	for _, c := range cases {
		got, err := s.ListHandoffs(ctx, c.f)
		if err != nil || !eqIDs(requestIDs(got), c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, requestIDs(got), err, c.want)
		}
	}
	for _, bad := range []handoff.Filter{{Tab: "bogus"}, {Tab: handoff.TabMine}} {
		if _, err := s.ListHandoffs(ctx, bad); err == nil {
			t.Errorf("ListHandoffs(%+v) listed", bad)
		}
	}
	all, _ := s.ListHandoffs(ctx, handoff.Filter{Tab: handoff.TabAll})
	want := map[int64]string{user: "@ivan", named: "Анна Петрова"}
	for _, r := range all {
		if n, ok := want[r.ID]; ok && r.ClientName != n {
			t.Errorf("request %d name %q, want %q", r.ID, r.ClientName, n)
		}
		if r.ID == bare && r.ClientName != r.Chat.ID {
			t.Errorf("nameless client shown as %q, want the platform id %q", r.ClientName, r.Chat.ID)
		}
		if r.LastMessage == nil || r.LastMessage.Text != r.Question {
			t.Errorf("request %d last message %+v, want the question %q", r.ID, r.LastMessage, r.Question)
		}
		if r.ID == named && (r.Phone != "+79123456789" || r.City != "Казань" || len(r.Tags) != 1 ||
			r.AssignedManager != "olga" || r.Manager != "olga" || r.Status != handoff.StatusAssigned) {
			t.Errorf("taken request summary %+v", r)
		}
	}
	counts, err := s.CountHandoffs(ctx, "olga", at(12), 10*time.Minute)
	if wantC := (handoff.Counts{Waiting: 2, Mine: 1, All: 3, OverSLA: 1}); err != nil || counts != wantC {
		t.Errorf("CountHandoffs = %+v, %v; want %+v", counts, err, wantC)
	}
	open, waiting, over, err := s.OpenHandoffs(ctx, at(12), 10*time.Minute)
	if err != nil || open != 3 || waiting != 2 || over != 1 {
		t.Errorf("OpenHandoffs = %d, %d, %d, %v; want 3, 2, 1", open, waiting, over, err)
	}
}

// keyOf returns the chat key of client id.
func keyOf(t *testing.T, s *Store, clientID int64) messenger.ChatKey {
	t.Helper()
	var k messenger.ChatKey
	var platform string
	if _, err := queryOne(s.db, "SELECT platform, bot, platform_user_id FROM clients WHERE id = ?", []any{clientID},
		&platform, &k.Bot, &k.ID); err != nil {
		t.Fatal(err)
	}
	k.Platform = messenger.Platform(platform)
	return k
}

// testLivePaging: the live tabs' keyset pages follow their order (the
// longest-waiting first, the answered last), each request on one page.
func testLivePaging(t *testing.T, s *Store) {
	ctx := context.Background()
	var want []int64
	for _, minute := range []int{5, 1, 3, 3, 2} {
		id, _ := newRequest(t, s, minute, nil, "?")
		want = append(want, id)
	}
	answered, _ := newRequest(t, s, 0, nil, "?")
	if err := s.db.Exec("UPDATE handoffs SET waiting_since = NULL WHERE id = ?", answered).Error; err != nil {
		t.Fatal(err)
	}
	want = []int64{want[1], want[4], want[2], want[3], want[0], answered}
	var got []int64
	f := handoff.Filter{Tab: handoff.TabAll, Limit: 2}
	for page := 0; page < 5; page++ {
		rs, err := s.ListHandoffs(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 0 {
			break
		}
		got = append(got, requestIDs(rs)...)
		last := rs[len(rs)-1]
		f.AfterID, f.AfterWaiting = last.ID, last.WaitingSince
	}
	if !eqIDs(got, want) {
		t.Errorf("pages %v, want %v", got, want)
	}
}

func testHandoffReads(t *testing.T, s *Store) {
	ctx := context.Background()
	id, clientID := newRequest(t, s, 0, nil, "вопрос")
	if r, err := s.GetHandoff(ctx, id); err != nil || r.ClientID != clientID || r.Question != "вопрос" ||
		r.Status != handoff.StatusOpen || !eqTime(r.WaitingSince, at(0)) {
		t.Errorf("GetHandoff = %+v, %v", r, err)
	}
	if _, err := s.GetHandoff(ctx, id+1000); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("GetHandoff(missing) = %v, want ErrNotFound", err)
	}
	key := keyOf(t, s, clientID)
	if live, err := s.LiveHandoff(ctx, key); err != nil || !live {
		t.Errorf("LiveHandoff = %v, %v; want true", live, err)
	}
	if live, err := s.LiveHandoff(ctx, newKey()); err != nil || live {
		t.Errorf("LiveHandoff(stranger) = %v, %v; want false", live, err)
	}
	if err := s.db.Exec("UPDATE handoffs SET status = 'closed' WHERE id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.LiveHandoffOf(ctx, clientID); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("LiveHandoffOf(closed) = %v, want ErrNotFound", err)
	}
	if live, _ := s.LiveHandoff(ctx, key); live {
		t.Error("a closed request is live")
	}
}

func testTakeHandoff(t *testing.T, s *Store) {
	ctx := context.Background()
	id, clientID := newRequest(t, s, 0, nil, "?")
	returning, _ := newRequest(t, s, 0, nil, "?")
	if err := s.RequestReturn(ctx, returning, "olga", handoff.CloseManager, "", at(1)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		id      int64
		manager string
		check   func(error) bool
	}{
		{"open: taken", id, "olga", func(err error) bool { return err == nil }},
		{"own again: no change", id, "olga", func(err error) bool { return err == nil }},
		{"another manager's", id, "petr", func(err error) bool {
			var te *handoff.TakenError
			return errors.As(err, &te) && te.By == "olga"
		}},
		{"returning", returning, "olga", func(err error) bool { return errors.Is(err, handoff.ErrClosed) }},
		{"missing", id + 1000, "olga", func(err error) bool { return errors.Is(err, handoff.ErrNotFound) }},
		{"no manager", id, "", func(err error) bool { return err != nil }},
	}
	for _, c := range cases {
		if _, err := s.TakeHandoff(ctx, c.id, c.manager, at(2)); !c.check(err) {
			t.Errorf("%s: TakeHandoff = %v", c.name, err)
		}
	}
	r, _ := s.GetHandoff(ctx, id)
	if r.Manager != "olga" || r.Status != handoff.StatusAssigned || !eqTime(r.TakenAt, at(2)) || r.AssignedManager != "olga" {
		t.Errorf("taken request %+v", r)
	}
	if c := get(t, s, keyOf(t, s, clientID)); c.AssignedManager != "olga" {
		t.Errorf("client's manager %q, want olga", c.AssignedManager)
	}
}

// testTakeRace: managers racing for one request: exactly one wins, the
// others learn who.
func testTakeRace(t *testing.T, s *Store) {
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		id, _ := newRequest(t, s, 0, nil, "?")
		managers := []string{"olga", "petr", "ivan", "anna"}
		errs := make([]error, len(managers))
		var wg sync.WaitGroup
		for i, m := range managers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.TakeHandoff(ctx, id, m, at(1))
			}()
		}
		wg.Wait()
		r, _ := s.GetHandoff(ctx, id)
		won := 0
		for i, err := range errs {
			var te *handoff.TakenError
			switch {
			case err == nil:
				won++
				if r.Manager != managers[i] {
					t.Errorf("%s won but the request is %s's", managers[i], r.Manager)
				}
			case errors.As(err, &te):
				if te.By != r.Manager {
					t.Errorf("%s told %s took it; %s did", managers[i], te.By, r.Manager)
				}
			default:
				t.Errorf("%s: %v", managers[i], err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d winners, want 1", round, won)
		}
	}
}

func testReplies(t *testing.T, s *Store) {
	ctx := context.Background()
	id, clientID := newRequest(t, s, 0, nil, "?")
	if _, err := s.TakeHandoff(ctx, id, "olga", at(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueReply(ctx, id, crm.Message{Author: "olga", Text: "\x00"}); !errors.Is(err, handoff.ErrEmpty) {
		t.Errorf("QueueReply(empty) = %v, want ErrEmpty", err)
	}
	m, err := s.QueueReply(ctx, id, crm.Message{Author: "olga", Text: "Здравствуйте\x00!", CreatedAt: at(2)})
	if err != nil || m.ID == 0 || m.ClientID != clientID || m.Status != crm.MessageQueued || m.Text != "Здравствуйте!" {
		t.Fatalf("QueueReply = %+v, %v", m, err)
	}
	if _, err := s.QueueReply(ctx, id+1000, crm.Message{Text: "x"}); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("QueueReply(missing) = %v, want ErrNotFound", err)
	}
	lease := time.Minute
	got, err := s.ClaimReplies(ctx, at(3), lease, 10, m.ID)
	if err != nil || len(got) != 1 || got[0].Message.ID != m.ID || got[0].Chat != keyOf(t, s, clientID) ||
		got[0].Message.Status != crm.MessageSending {
		t.Fatalf("ClaimReplies(only) = %+v, %v", got, err)
	}
	if again, err := s.ClaimReplies(ctx, at(3).Add(lease/2), lease, 10, 0); err != nil || len(again) != 0 {
		t.Errorf("claimed again within the lease: %+v, %v", again, err)
	}
	if again, err := s.ClaimReplies(ctx, at(3).Add(2*lease), lease, 10, 0); err != nil || len(again) != 1 {
		t.Errorf("expired claim not claimed again: %+v, %v", again, err)
	}
	if err := s.FinishReply(ctx, m.ID, crm.MessageSent, "555", "", at(6)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReply(ctx, m.ID, crm.MessageSent, "555", "", at(6)); err == nil {
		t.Error("a sent reply was settled twice")
	}
	if err := s.FinishReply(ctx, m.ID+1000, crm.MessageSent, "", "", at(6)); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("FinishReply(missing) = %v, want ErrNotFound", err)
	}
	if sent, err := s.GetMessage(ctx, m.ID); err != nil || sent.Status != crm.MessageSent || sent.PlatformMsgID != "555" ||
		sent.HandoffID != id || sent.AuthorKind != crm.AuthorManager {
		t.Errorf("GetMessage = %+v, %v", sent, err)
	}
	r, _ := s.GetHandoff(ctx, id)
	if !eqTime(r.FirstReplyAt, at(6)) || r.WaitingSince != nil || !eqTime(r.LastActivityAt, at(6)) {
		t.Errorf("after the reply: first %v waiting %v last %v", r.FirstReplyAt, r.WaitingSince, r.LastActivityAt)
	}
	// A failed second reply changes nothing of the request.
	m2, _ := s.QueueReply(ctx, id, crm.Message{Author: "olga", Text: "ещё"})
	if _, err := s.ClaimReplies(ctx, at(7), lease, 10, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishReply(ctx, m2.ID, crm.MessageFailed, "", handoff.FailBlocked, at(8)); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.GetMessage(ctx, m2.ID); f.Status != crm.MessageFailed || f.Error != handoff.FailBlocked {
		t.Errorf("failed reply %+v", f)
	}
	times, err := s.FirstReplyTimes(ctx, at(0))
	if err != nil || len(times) != 1 || times[0].Manager != "olga" || times[0].Wait != 6*time.Minute {
		t.Errorf("FirstReplyTimes = %+v, %v", times, err)
	}
	if times, _ := s.FirstReplyTimes(ctx, at(7)); len(times) != 0 {
		t.Errorf("FirstReplyTimes after the reply = %+v", times)
	}
	if _, err := s.GetMessage(ctx, m.ID+1000); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("GetMessage(missing) = %v", err)
	}
	if err := s.RequestReturn(ctx, id, "olga", handoff.CloseManager, "", at(9)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueReply(ctx, id, crm.Message{Text: "x"}); !errors.Is(err, handoff.ErrClosed) {
		t.Errorf("QueueReply(returning) = %v, want ErrClosed", err)
	}
}

// testReplyClaimRace: workers racing over queued replies claim each once.
func testReplyClaimRace(t *testing.T, s *Store) {
	ctx := context.Background()
	const replies = 40
	id, _ := newRequest(t, s, 0, nil, "?")
	for i := 0; i < replies; i++ {
		if _, err := s.QueueReply(ctx, id, crm.Message{Author: "olga", Text: "ответ"}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimReplies(ctx, at(1), time.Minute, 3, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, o := range got {
					seen[o.Message.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != replies {
		t.Errorf("%d replies claimed, want %d", len(seen), replies)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("reply %d claimed %d times", id, n)
		}
	}
}

func testReturns(t *testing.T, s *Store) {
	ctx := context.Background()
	manual, _ := newRequest(t, s, 0, nil, "?")
	idle, _ := newRequest(t, s, 0, nil, "?")
	busy, busyClient := newRequest(t, s, 0, nil, "?")
	apply(t, s, keyOf(t, s, busyClient), &crm.Changes{Now: at(50), UpdateID: "2",
		HandoffActivity: &crm.HandoffActivity{Question: "ещё тут"}})
	if err := s.RequestReturn(ctx, manual, "olga", handoff.CloseManager, "menu", at(10)); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestReturn(ctx, manual, "olga", handoff.CloseManager, "", at(10)); !errors.Is(err, handoff.ErrClosed) {
		t.Errorf("RequestReturn twice = %v, want ErrClosed", err)
	}
	if err := s.RequestReturn(ctx, manual+1000, "olga", "", "", at(10)); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("RequestReturn(missing) = %v, want ErrNotFound", err)
	}
	lease := time.Minute
	got, err := s.ClaimReturns(ctx, at(60), lease, time.Time{}, 10)
	if err != nil || !eqIDs(requestIDs(got), []int64{manual}) || got[0].ReturnScenario != "menu" || got[0].CloseReason != handoff.CloseManager {
		t.Fatalf("ClaimReturns(no idle) = %+v, %v", got, err)
	}
	got, err = s.ClaimReturns(ctx, at(60), lease, at(30), 10)
	if err != nil || !eqIDs(requestIDs(got), []int64{idle}) || got[0].Status != handoff.StatusReturning || got[0].CloseReason != handoff.CloseIdle {
		t.Fatalf("ClaimReturns(idle) = %+v, %v; want only %d, idle", got, err, idle)
	}
	if got, _ := s.ClaimReturns(ctx, at(60).Add(2*lease), lease, at(30), 10); !eqIDs(requestIDs(got), []int64{manual, idle}) {
		t.Errorf("expired return claims = %v, want %v", requestIDs(got), []int64{manual, idle})
	}
	if err := s.CloseHandoff(ctx, manual, at(70)); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseHandoff(ctx, manual, at(70)); err != nil {
		t.Errorf("closing twice: %v", err)
	}
	if err := s.CloseHandoff(ctx, busy, at(70)); err == nil {
		t.Error("closed a request nobody returned")
	}
	if r, _ := s.GetHandoff(ctx, manual); r.Status != handoff.StatusClosed || !eqTime(r.ClosedAt, at(70)) || r.ClosedBy != "olga" {
		t.Errorf("closed request %+v", r)
	}
	if got, _ := s.ClaimReturns(ctx, at(90), lease, at(30), 10); !eqIDs(requestIDs(got), []int64{idle}) {
		t.Errorf("claims after the close = %v, want %v", requestIDs(got), []int64{idle})
	}
}

// testFailedReturns: a failed try of a return is counted and postpones
// the next claim until its time (for every process: the count and the time
// are in the database); a given-up return closes the request with its
// reason and a note in the transcript, once.
func testFailedReturns(t *testing.T, s *Store) {
	ctx := context.Background()
	id, clientID := newRequest(t, s, 0, nil, "?")
	other, _ := newRequest(t, s, 0, nil, "?")
	lease := 2 * time.Hour
	if err := s.PostponeReturn(ctx, id, 1, handoff.FailGaveUp, at(20)); !errors.Is(err, handoff.ErrClosed) {
		t.Errorf("PostponeReturn(not returning) = %v, want ErrClosed", err)
	}
	if err := s.PostponeReturn(ctx, id+1000, 1, handoff.FailGaveUp, at(20)); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("PostponeReturn(missing) = %v, want ErrNotFound", err)
	}
	for _, r := range []int64{id, other} {
		if err := s.RequestReturn(ctx, r, "olga", handoff.CloseManager, "", at(10)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.ClaimReturns(ctx, at(11), lease, time.Time{}, 10); err != nil || !eqIDs(requestIDs(got), []int64{id, other}) ||
		got[0].ReturnAttempts != 0 {
		t.Fatalf("ClaimReturns = %+v, %v", got, err)
	}
	if err := s.PostponeReturn(ctx, id, 3, handoff.ReturnNoBot, at(30)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimReturns(ctx, at(29), lease, time.Time{}, 10); len(got) != 0 {
		t.Errorf("claimed %v before the next try and within the lease", requestIDs(got))
	}
	got, err := s.ClaimReturns(ctx, at(31), lease, time.Time{}, 10)
	if err != nil || !eqIDs(requestIDs(got), []int64{id}) || got[0].ReturnAttempts != 3 || got[0].ReturnError != handoff.ReturnNoBot ||
		got[0].CloseReason != handoff.CloseManager || got[0].ClosedBy != "olga" {
		t.Fatalf("ClaimReturns at the next try = %+v, %v", got, err)
	}
	note := crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorSystem, Text: handoff.ReturnFailedNote(handoff.ReturnNoBot), CreatedAt: at(32)}
	for range 2 { // the second is no change
		if err := s.FailReturn(ctx, id, handoff.ReturnNoBot, note, at(32)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.GetHandoff(ctx, id)
	if err != nil || r.Status != handoff.StatusClosed || r.CloseReason != handoff.CloseReturnFailed || r.ReturnError != handoff.ReturnNoBot ||
		!eqTime(r.ClosedAt, at(32)) || r.ClosedBy != "olga" || r.WaitingSince != nil || r.ReturnAttempts != 3 {
		t.Fatalf("given-up request %+v, %v", r, err)
	}
	ms, err := s.Transcript(ctx, clientID, handoff.Page{})
	if err != nil || len(ms) != 2 || ms[0].Text != note.Text || ms[0].AuthorKind != crm.AuthorSystem || ms[0].HandoffID != id {
		t.Fatalf("transcript %+v, %v; want the note once, newest", ms, err)
	}
	if r.LastMessage == nil || r.LastMessage.Text != note.Text {
		t.Errorf("the inbox's last message is %+v, want the note", r.LastMessage)
	}
	if got, _ := s.ClaimReturns(ctx, at(200), lease, time.Time{}, 10); !eqIDs(requestIDs(got), []int64{other}) {
		t.Errorf("claims after the give-up = %v, want only %d", requestIDs(got), other)
	}
	if err := s.PostponeReturn(ctx, id, 4, handoff.FailGaveUp, at(300)); !errors.Is(err, handoff.ErrClosed) {
		t.Errorf("PostponeReturn(closed) = %v, want ErrClosed", err)
	}
	if err := s.FailReturn(ctx, id+1000, handoff.FailGaveUp, note, at(32)); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("FailReturn(missing) = %v, want ErrNotFound", err)
	}
	idle, _ := newRequest(t, s, 0, nil, "?")
	if got, _ := s.ClaimReturns(ctx, at(300), lease, at(100), 10); !eqIDs(requestIDs(got), []int64{idle}) || got[0].ReturnAttempts != 0 ||
		got[0].ReturnError != "" {
		t.Errorf("an idle request's claim = %+v, want %d with no tries", got, idle)
	}
}

func testTeamChat(t *testing.T, s *Store) {
	ctx := context.Background()
	id, clientID := newRequest(t, s, 0, nil, "где заказ?")
	lease := time.Minute
	announcing := func(now time.Time, want bool) {
		t.Helper()
		if got, err := s.Announcing(ctx, "-100", now); err != nil || got != want {
			t.Errorf("Announcing(%s) = %v, %v; want %v", now, got, err, want)
		}
	}
	announcing(at(1), false)
	got, err := s.ClaimAnnouncements(ctx, "-100", at(1), lease, 10)
	if err != nil || !eqIDs(requestIDs(got), []int64{id}) {
		t.Fatalf("ClaimAnnouncements = %v, %v", requestIDs(got), err)
	}
	announcing(at(1), true)
	announcing(at(1).Add(2*lease), false) // the claim ran out: nobody is posting it
	if again, _ := s.ClaimAnnouncements(ctx, "-100", at(1), lease, 10); len(again) != 0 {
		t.Errorf("claimed twice within the lease: %v", requestIDs(again))
	}
	if again, _ := s.ClaimAnnouncements(ctx, "-100", at(1).Add(2*lease), lease, 10); !eqIDs(requestIDs(again), []int64{id}) {
		t.Errorf("expired announcement claim not claimed again: %v", requestIDs(again))
	}
	if err := s.MarkAnnounced(ctx, id, "-100", "7", at(2)); err != nil {
		t.Fatal(err)
	}
	announcing(at(2), false)
	if again, _ := s.ClaimAnnouncements(ctx, "-100", at(9), lease, 10); len(again) != 0 {
		t.Errorf("announced request claimed: %v", requestIDs(again))
	}
	if err := s.AddPost(ctx, id, "-100", "9"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPost(ctx, id+1000, "-100", "10"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("AddPost(missing) = %v", err)
	}
	for _, post := range []string{"7", "9"} {
		if r, err := s.HandoffByPost(ctx, "-100", post); err != nil || r.ID != id || !eqTime(r.AnnouncedAt, at(2)) {
			t.Errorf("HandoffByPost(%s) = %d, %v", post, r.ID, err)
		}
	}
	if _, err := s.HandoffByPost(ctx, "-100", "8"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("HandoffByPost(unknown) = %v", err)
	}
	if p, err := s.AnnouncementPost(ctx, id, "-100"); err != nil || p != "7" {
		t.Errorf("AnnouncementPost = %q, %v; want 7", p, err)
	}
	if _, err := s.AnnouncementPost(ctx, id, "-200"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("AnnouncementPost(other chat) = %v", err)
	}
	// The question (written with the request) and two more client
	// messages wait to be forwarded; the bot's reply does not.
	key := keyOf(t, s, clientID)
	apply(t, s, key, &crm.Changes{Now: at(3), UpdateID: "2", Messages: []crm.Message{inMsg("алло"), botMsg("ждите")}})
	apply(t, s, key, &crm.Changes{Now: at(4), UpdateID: "3", Messages: []crm.Message{inMsg("ау")}})
	fw, err := s.PendingForwards(ctx, "-100", 10)
	if err != nil || len(fw) != 1 || fw[0].Request.ID != id || fw[0].From != 0 || len(fw[0].Messages) != 3 ||
		fw[0].Messages[2].Text != "ау" {
		t.Fatalf("PendingForwards = %+v, %v", fw, err)
	}
	to := fw[0].Messages[2].ID
	if ok, err := s.AdvanceForward(ctx, id, "-100", 0, to); err != nil || !ok {
		t.Fatalf("AdvanceForward = %v, %v", ok, err)
	}
	if ok, _ := s.AdvanceForward(ctx, id, "-100", 0, to); ok {
		t.Error("AdvanceForward from a stale position won")
	}
	if fw, _ := s.PendingForwards(ctx, "-100", 10); len(fw) != 0 {
		t.Errorf("forwarded messages pending again: %+v", fw)
	}
	for i := 0; i < maxForwardMessages+5; i++ {
		apply(t, s, key, &crm.Changes{Now: at(5), Messages: []crm.Message{inMsg("спам")}})
	}
	if fw, _ := s.PendingForwards(ctx, "-100", 10); len(fw) != 1 || fw[0].From != to || len(fw[0].Messages) != maxForwardMessages {
		t.Errorf("PendingForwards after many = %d requests", len(fw))
	}

	// A second team chat (VK) has its own claims and forwarded marks: the
	// request announced in Telegram is still announced there, once.
	const vk = "vk:2000000001"
	if fw, _ := s.PendingForwards(ctx, vk, 10); len(fw) != 0 {
		t.Errorf("forwards pending in a chat the request was never announced in: %+v", fw)
	}
	got, err = s.ClaimAnnouncements(ctx, vk, at(10), lease, 10)
	if err != nil || !eqIDs(requestIDs(got), []int64{id}) {
		t.Fatalf("ClaimAnnouncements(vk) = %v, %v", requestIDs(got), err)
	}
	if again, _ := s.ClaimAnnouncements(ctx, vk, at(10), lease, 10); len(again) != 0 {
		t.Errorf("claimed twice in vk within the lease: %v", requestIDs(again))
	}
	if err := s.MarkAnnounced(ctx, id, vk, "3", at(11)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.HandoffByPost(ctx, vk, "3"); err != nil || r.ID != id || !eqTime(r.AnnouncedAt, at(2)) {
		t.Errorf("HandoffByPost(vk) = %d, %v, announced %v; want the first announcement kept", r.ID, err, r.AnnouncedAt)
	}
	if _, err := s.HandoffByPost(ctx, vk, "7"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("the Telegram post found in vk: %v", err)
	}
	if p, err := s.AnnouncementPost(ctx, id, vk); err != nil || p != "3" {
		t.Errorf("AnnouncementPost(vk) = %q, %v", p, err)
	}
	fw, err = s.PendingForwards(ctx, vk, 10)
	if err != nil || len(fw) != 1 || fw[0].From != 0 || len(fw[0].Messages) != maxForwardMessages {
		t.Fatalf("PendingForwards(vk) = %d requests, %v", len(fw), err)
	}
	if ok, err := s.AdvanceForward(ctx, id, vk, 0, fw[0].Messages[0].ID); err != nil || !ok {
		t.Fatalf("AdvanceForward(vk) = %v, %v", ok, err)
	}
	if fw, _ := s.PendingForwards(ctx, "-100", 10); len(fw) != 1 || fw[0].From != to {
		t.Errorf("advancing vk moved the Telegram mark: %+v", fw)
	}
	if ok, _ := s.AdvanceForward(ctx, id, "-100", 0, 1); ok {
		t.Error("AdvanceForward in Telegram won from vk's position")
	}
	if got, _ := s.ClaimAnnouncements(ctx, "-100", at(20), lease, 10); len(got) != 0 {
		t.Errorf("announced in both, claimed again: %v", requestIDs(got))
	}
}

func testTranscript(t *testing.T, s *Store) {
	ctx := context.Background()
	key := newKey()
	c := apply(t, s, key, &crm.Changes{Now: at(0), UpdateID: "1", Messages: []crm.Message{inMsg("1"), botMsg("2"), inMsg("3")}})
	note, err := s.AppendMessage(ctx, crm.Message{ClientID: c.ID, Direction: crm.DirectionOut, AuthorKind: crm.AuthorSystem,
		Text: "чат вернулся к боту\x00", CreatedAt: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendMessage(ctx, crm.Message{ClientID: c.ID, Direction: "sideways"}); err == nil {
		t.Error("AppendMessage accepted a bad direction")
	}
	if _, err := s.AppendMessage(ctx, crm.Message{ClientID: c.ID + 100000, Direction: crm.DirectionOut}); err == nil {
		t.Error("AppendMessage accepted a missing client")
	}
	texts := func(ms []crm.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Text)
		}
		return out
	}
	all, err := s.Transcript(ctx, c.ID, handoff.Page{})
	if err != nil || len(all) != 4 || all[0].ID != note || all[0].Text != "чат вернулся к боту" {
		t.Fatalf("Transcript = %v, %v", texts(all), err)
	}
	cases := []struct {
		name string
		p    handoff.Page
		want []string
	}{
		{"newest first", handoff.Page{Limit: 2}, []string{"чат вернулся к боту", "3"}},
		{"before", handoff.Page{BeforeID: all[1].ID, Limit: 1}, []string{"2"}},
		{"after, oldest first", handoff.Page{AfterID: all[3].ID}, []string{"2", "3", "чат вернулся к боту"}},
	}
	for _, tc := range cases {
		got, err := s.Transcript(ctx, c.ID, tc.p)
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, texts(got), err, tc.want)
			continue
		}
		for i := range got {
			if got[i].Text != tc.want[i] {
				t.Errorf("%s: %v; want %v", tc.name, texts(got), tc.want)
				break
			}
		}
	}
}

func testPurgeMessages(t *testing.T, s *Store) {
	ctx := context.Background()
	key := newKey()
	var c *crm.Client
	for i := 0; i < 5; i++ {
		c = apply(t, s, key, &crm.Changes{Now: at(i), Messages: []crm.Message{inMsg("m")}})
	}
	id, _ := newRequest(t, s, 0, nil, "?")
	if _, err := s.QueueReply(ctx, id, crm.Message{Text: "в очереди", CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		limit int
		want  int64
	}{{2, 2}, {2, 2}, {2, 1}, {2, 0}} // 4 of the client's + the request's question before at(4)
	total := int64(0)
	for _, st := range steps {
		n, err := s.PurgeMessages(ctx, at(4), st.limit)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 5 {
		t.Errorf("purged %d, want 5", total)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM messages WHERE client_id = ?", c.ID); n != 1 {
		t.Errorf("%d messages left, want the one at(4)", n)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM messages WHERE status = 'queued'"); n != 1 {
		t.Errorf("the queued reply was purged")
	}
}

// testRequestClaimRace: workers racing over the requests to announce and to
// return claim each once.
func testRequestClaimRace(t *testing.T, s *Store) {
	ctx := context.Background()
	const n = 12
	for i := 0; i < n; i++ {
		id, _ := newRequest(t, s, 0, nil, "?")
		if i%2 == 0 {
			if err := s.RequestReturn(ctx, id, "olga", handoff.CloseManager, "", at(1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	claims := []struct {
		name  string
		claim func() ([]handoff.Request, error)
		want  int
	}{
		{"announcements", func() ([]handoff.Request, error) { return s.ClaimAnnouncements(ctx, "-100", at(2), time.Minute, 2) }, n / 2},
		{"returns", func() ([]handoff.Request, error) { return s.ClaimReturns(ctx, at(2), time.Minute, time.Time{}, 2) }, n / 2},
	}
	for _, c := range claims {
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := c.claim()
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, r := range got {
						seen[r.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != c.want {
			t.Errorf("%s: %d claimed, want %d", c.name, len(seen), c.want)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("%s: request %d claimed %d times", c.name, id, k)
			}
		}
	}
}
