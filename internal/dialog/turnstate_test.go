package dialog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
)

// turnStates is memStates with the chat turns of a gate
// (TurnStateStore): SaveAtLeave hands the state to the turn held, and
// leave writes it as the Redis store's leave script does.
type turnStates struct {
	*memStates
	held    bool
	pending *StoredState
	// atLeave and direct count the states handed to the turn and those
	// written with SaveState.
	atLeave, direct int
}

func (s *turnStates) SaveAtLeave(_ messenger.ChatKey, st StoredState) bool {
	if !s.held {
		return false
	}
	s.pending = &st
	s.atLeave++
	return true
}

func (s *turnStates) SaveState(ctx context.Context, key messenger.ChatKey, st StoredState) (int64, error) {
	s.direct++
	return s.memStates.SaveState(ctx, key, st)
}

func (s *turnStates) enter() { s.held, s.pending = true, nil }

// leave ends the turn: the state handed over is written (a handled
// update's replies count as confirmed), else a handled update's recorded
// replies are confirmed.
func (s *turnStates) leave(t *testing.T, id string, handled bool) {
	t.Helper()
	s.held = false
	st := s.pending
	s.pending = nil
	if st == nil {
		if handled {
			s.confirm(testChat, id)
		}
		return
	}
	if handled {
		st.Outbox = nil
	}
	if handled && st.Data == nil {
		st.Update = ""
	}
	if _, err := s.memStates.SaveState(context.Background(), testChat, *st); err != nil {
		t.Fatalf("leave %s: %v", id, err)
	}
}

// crash ends the turn the way a killed process does: nothing is written.
func (s *turnStates) crash() { s.held, s.pending = false, nil }

// writeOnceClients is memClients recording the append-only parts of an
// update once, as the CRM store does (crm.Changes.UpdateID).
type writeOnceClients struct {
	*memClients
	last map[messenger.ChatKey]string
}

func (m *writeOnceClients) RecordChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) error {
	if ch.UpdateID != "" && m.last[key] == ch.UpdateID {
		again := *ch
		again.Answers, again.Messages, again.Handoff, again.HandoffActivity, again.Note, again.Completion = nil, nil, nil, nil, nil, nil
		ch = &again
	}
	if ch.UpdateID != "" {
		m.last[key] = ch.UpdateID
	}
	return m.memClients.RecordChanges(ctx, key, ch)
}

// turnFixture is a Handler over turnStates and writeOnceClients.
type turnFixture struct {
	h       *Handler
	states  *turnStates
	clients *writeOnceClients
	sender  *recSender
}

func newTurnFixture(t *testing.T) *turnFixture {
	t.Helper()
	graphs := map[string]*scenario.Graph{}
	for _, file := range []string{"../../scenarios/portrait.yaml", "../../scenarios/feedback.yaml", "../../scenarios/b2b.yaml"} {
		g := loadGraph(t, file)
		graphs[g.ID] = g
	}
	f := &turnFixture{states: &turnStates{memStates: newMemStates()},
		clients: &writeOnceClients{memClients: newMemClients(), last: map[messenger.ChatKey]string{}}, sender: &recSender{}}
	h, err := NewHandler(HandlerConfig{
		States: f.states, Clients: f.clients, Scenarios: &memCatalog{graphs: graphs}, Sender: f.sender,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

// turn handles upd in a turn, as the pipeline does, and returns the replies.
func (f *turnFixture) turn(t *testing.T, upd *messenger.Update, crash bool) []string {
	t.Helper()
	f.states.enter()
	err := f.h.Handle(context.Background(), upd)
	if crash {
		f.states.crash()
	} else {
		f.states.leave(t, upd.ID, err == nil)
	}
	if err != nil {
		t.Fatalf("handle %s: %v", upd.ID, err)
	}
	var out []string
	for _, m := range f.sender.take() {
		out = append(out, m.Text)
	}
	return out
}

// turnScript is a new client's way through the portrait survey and two
// commands, with update ids; deferred tells which turns are replayable:
// those that read the client card (a new client's first message, a text
// naming the client, /stop) save their state before sending.
func turnScript() (upds []*messenger.Update, deferred []bool) {
	steps := []struct {
		upd      *messenger.Update
		deferred bool
	}{
		{text("привет"), false}, // a new client: the default scenario
		{button("yes"), true},
		{text("Анна Петровна"), false}, // the next question names the client
		{text("16"), true},             // under 18: two replies
		{text("Самара"), true},
		{button("married"), true},
		{button("fitness"), true},
		{button(valueDone), true},
		{contact("+7 912 345-67-89", "42"), false}, // the thanks list the card
		{text("/help"), true},
		{text("/stop"), false},
	}
	for i, s := range steps {
		s.upd.ID = fmt.Sprint(100 + i)
		upds = append(upds, s.upd)
		deferred = append(deferred, s.deferred)
	}
	return upds, deferred
}

// TestReplayableTurnsSaveAtLeave: a turn that reads neither the client
// card nor the clock hands its state to the chat's turn instead of saving
// it before sending; the others save as before. The conversation is the
// same either way.
func TestReplayableTurnsSaveAtLeave(t *testing.T) {
	t.Parallel()
	upds, deferred := turnScript()
	f := newTurnFixture(t)
	plain := newHandlerFixture(t)
	for i, upd := range upds {
		atLeave, direct := f.states.atLeave, f.states.direct
		got := f.turn(t, upd, false)
		if want := plain.say(t, upd); !slices.Equal(got, want) {
			t.Fatalf("update %s: replies %q; want %q as without turn states", upd.ID, got, want)
		}
		plain.states.confirm(testChat, upd.ID)
		handed, saved := f.states.atLeave-atLeave, f.states.direct-direct
		if deferred[i] && (handed != 1 || saved != 0) || !deferred[i] && (handed != 0 || saved != 1) {
			t.Errorf("update %s (%q): %d states handed to the turn, %d saved; want it deferred = %v",
				upd.ID, upd.Text+upd.Value, handed, saved, deferred[i])
		}
	}
	if got, want := f.states.st[testChat], plain.states.st[testChat]; string(got.Data) != string(want.Data) || got.Update != want.Update {
		t.Fatalf("final state %+v; want %+v", got, want)
	}
}

// TestClockTurnsAreNotDeferred: a date answer checked against "today" and
// a condition calling now() read the clock, so their turns save first.
func TestClockTurnsAreNotDeferred(t *testing.T) {
	t.Parallel()
	res := &Result{}
	c := call{e: NewEngine(EngineConfig{}), t: &Turn{Now: testNow}, res: res}
	step := &scenario.Step{}
	step.Validate.MaxDate.Set = true
	c.acceptDate(step, "01.02.1990")
	if !res.UsedClock {
		t.Error("a date bound did not mark the turn as reading the clock")
	}
	for src, want := range map[string]bool{"now().Year() > 2000": true, "answer > 3": false, "nowhere == 1": false, "now ( ) != nil": true} {
		if got := readsClock(src); got != want {
			t.Errorf("readsClock(%q) = %v; want %v", src, got, want)
		}
	}
	if replayable(&State{}, &Turn{Update: withID(text("x"), "1"), ClientUnknown: true}, &Result{UsedClock: true}) {
		t.Error("a turn that read the clock is replayable")
	}
}

// TestKilledTurnIsRunAgainExactly kills the process at every update of the
// script after the replies went out and before the turn was left, and
// redelivers the update: whether the turn saved before sending (the
// recorded replies are sent again) or handed its state to the turn (it is
// run again from the state before it), the redelivery sends the same
// replies, and the conversation, the client card, the answer history and
// the transcript end exactly as in an uninterrupted run.
func TestKilledTurnIsRunAgainExactly(t *testing.T) {
	t.Parallel()
	upds, _ := turnScript()
	ref := newTurnFixture(t)
	var want [][]string
	for _, upd := range upds {
		want = append(want, ref.turn(t, upd, false))
	}
	for k := range upds {
		t.Run(fmt.Sprint("kill at ", upds[k].ID), func(t *testing.T) {
			t.Parallel()
			upds, _ := turnScript()
			f := newTurnFixture(t)
			for i, upd := range upds {
				if i == k {
					if got := f.turn(t, upd, true); !slices.Equal(got, want[i]) {
						t.Fatalf("update %s before the kill: replies %q; want %q", upd.ID, got, want[i])
					}
				}
				if got := f.turn(t, upd, false); !slices.Equal(got, want[i]) {
					t.Fatalf("update %s: replies %q; want %q", upd.ID, got, want[i])
				}
			}
			if got, exp := f.states.st[testChat], ref.states.st[testChat]; string(got.Data) != string(exp.Data) || got.Update != exp.Update {
				t.Errorf("final state %+v; want %+v", got, exp)
			}
			if got, exp := answerLines(f.clients.answers), answerLines(ref.clients.answers); !slices.Equal(got, exp) {
				t.Errorf("answer history %q; want %q", got, exp)
			}
			if got, exp := len(f.clients.messages), len(ref.clients.messages); got != exp {
				t.Errorf("%d transcript rows; want %d", got, exp)
			}
			if got, exp := *f.clients.clients[testChat], *ref.clients.clients[testChat]; got.FirstName != exp.FirstName ||
				got.City != exp.City || got.Phone != exp.Phone || got.Subscribed != exp.Subscribed || !slices.Equal(got.Tags, exp.Tags) {
				t.Errorf("client %+v; want %+v", got, exp)
			}
		})
	}
}

func answerLines(as []crm.Answer) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.Field+"="+a.Value)
	}
	return out
}

// TestDeferredTurnSendFailure: a send that fails in a deferred turn hands
// the turn its state with the replies not sent as the record; the retry
// sends only those, and nothing is sent twice.
func TestDeferredTurnSendFailure(t *testing.T) {
	t.Parallel()
	upds, _ := turnScript()
	f := newTurnFixture(t)
	for _, upd := range upds[:3] {
		f.turn(t, upd, false)
	}
	under18 := upds[3]
	f.sender.err, f.sender.okFirst = errors.New("connection reset"), 1
	f.states.enter()
	if err := f.h.Handle(context.Background(), under18); err == nil {
		t.Fatal("Handle succeeded with the second send failing")
	}
	if f.states.direct != 2 || f.states.pending == nil {
		t.Fatalf("the failed turn saved %d times directly, pending %v; want its record handed to the turn", f.states.direct-2, f.states.pending)
	}
	f.states.leave(t, under18.ID, false)
	first := f.sender.take()
	f.sender.err = nil
	retry := f.turn(t, under18, false)
	if len(first) != 1 || len(retry) != 1 || !strings.Contains(first[0].Text, "18+") || !strings.Contains(retry[0], "В каком городе") {
		t.Fatalf("sent %d then %q; want the first reply, then only the second", len(first), retry)
	}
	if got := answerLines(f.clients.answers); len(got) != 3 || got[2] != "age=16" {
		t.Fatalf("answers %q; want consent, name and age once", got)
	}
}
