package dialog

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// withID gives an update a platform id, as adapters do.
func withID(upd *messenger.Update, id string) *messenger.Update {
	upd.ID = id
	return upd
}

// TestRedeliveredUpdateIsNotRunAgain covers a process that died after the
// state was saved but before the pipeline finished the update: the
// redelivery must not be taken as the answer to the next question.
func TestRedeliveredUpdateIsNotRunAgain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     []*messenger.Update
		upd       *messenger.Update
		confirmed bool     // the pipeline confirmed the replies before the redelivery
		want      []string // reply texts of the redelivery (substrings, in order)
	}{
		{name: "unconfirmed answer resends its replies", setup: []*messenger.Update{withID(text("/start"), "1"), withID(button("yes"), "2")},
			upd: withID(text("Анна"), "3"), want: []string{"сколько вам лет"}},
		{name: "confirmed answer sends nothing", setup: []*messenger.Update{withID(text("/start"), "1"), withID(button("yes"), "2")},
			upd: withID(text("Анна"), "3"), confirmed: true},
		{name: "the update that ended the conversation resends its goodbye", setup: []*messenger.Update{withID(text("/start"), "1")},
			upd: withID(button("no"), "2"), want: []string{"Хорошо"}},
		{name: "a stateless command is not repeated once confirmed", upd: withID(text("/help"), "9"), confirmed: true},
		{name: "a stateless command resends its reply", upd: withID(text("/help"), "9"), want: []string{"/manager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			for _, u := range tt.setup {
				f.say(t, u)
				f.states.confirm(testChat, u.ID)
			}
			first := f.say(t, tt.upd)
			answers := len(f.clients.answers)
			before := f.states.st[testChat]
			if tt.confirmed {
				f.states.confirm(testChat, tt.upd.ID)
				before = f.states.st[testChat]
			}
			again := f.say(t, tt.upd)
			if tt.want == nil && len(again) != 0 {
				t.Fatalf("redelivery sent %q; want nothing", again)
			}
			if tt.want != nil && !slices.Equal(again, first) {
				t.Fatalf("redelivery sent %q; want the first replies %q again", again, first)
			}
			for i, w := range tt.want {
				if i >= len(again) || !strings.Contains(again[i], w) {
					t.Fatalf("redelivery replies %q; want %q at %d", again, w, i)
				}
			}
			if got := len(f.clients.answers); got != answers {
				t.Errorf("redelivery recorded %d more answers", got-answers)
			}
			if after := f.states.st[testChat]; after.Rev != before.Rev || string(after.Data) != string(before.Data) {
				t.Errorf("redelivery changed the state: %+v -> %+v", before, after)
			}
		})
	}
}

// TestFailedSendIsRetriedFromTheRecord: a reply that cannot be sent for a
// transient reason fails the update (the pipeline retries it), and the retry
// sends the recorded reply instead of running the engine again; a refused
// (bad request) or blocked send does not fail the update.
func TestFailedSendIsRetriedFromTheRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"transient", messenger.ErrTransient, true},
		{"rate limited", &messenger.RateLimitError{RetryAfter: time.Second}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"bad request", messenger.ErrBadRequest, false},
		{"blocked", messenger.ErrBlocked, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			f.say(t, withID(text("/start"), "1"))
			f.states.confirm(testChat, "1")
			f.sender.mu.Lock()
			f.sender.err = tt.err
			f.sender.mu.Unlock()
			err := f.h.Handle(context.Background(), withID(button("yes"), "2"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle = %v; want an error: %v", err, tt.wantErr)
			}
			f.sender.mu.Lock()
			f.sender.err = nil
			f.sender.mu.Unlock()
			answers := len(f.clients.answers)
			got := f.say(t, withID(button("yes"), "2")) // the pipeline's retry
			switch {
			case tt.wantErr && (len(got) != 1 || !strings.Contains(got[0], "обращаться")):
				t.Fatalf("retry sent %q; want the recorded question", got)
			case !tt.wantErr && len(got) != 0 && !strings.Contains(got[0], "обращаться"):
				t.Fatalf("retry sent %q", got)
			}
			if len(f.clients.answers) != answers {
				t.Error("the retry recorded the answer again")
			}
		})
	}
}

// TestPartialSendResumes: when reply k of an update's n fails, the retry
// sends replies k…n only, each with its own idempotency key, however many
// tries it takes.
func TestPartialSendResumes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		okBy  []int      // per try, the sends that succeed before the failure (the last try has no failure)
		tries [][]string // the texts each try delivers
		keys  []string   // idempotency keys of all deliveries
	}{
		{"first reply fails", []int{0}, [][]string{nil, {"один", "два", "три"}}, []string{"7/0", "7/1", "7/2"}},
		{"second reply fails", []int{1}, [][]string{{"один"}, {"два", "три"}}, []string{"7/0", "7/1", "7/2"}},
		{"fails on every try", []int{1, 1}, [][]string{{"один"}, {"два"}, {"три"}}, []string{"7/0", "7/1", "7/2"}},
		{"retry fails before sending", []int{2, 0}, [][]string{{"один", "два"}, nil, {"три"}}, []string{"7/0", "7/1", "7/2"}},
	}
	three := func(_ *State, _ *Turn, res *Result) error {
		for _, text := range []string{"один", "два", "три"} {
			res.Replies = append(res.Replies, messenger.OutMessage{Chat: testChat, Text: text})
		}
		return nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHandlerFixture(t)
			upd := withID(text("x"), "7")
			for i := range tt.tries {
				f.sender.mu.Lock()
				f.sender.err, f.sender.okFirst = nil, 0
				if i < len(tt.okBy) {
					f.sender.err, f.sender.okFirst = messenger.ErrTransient, tt.okBy[i]
				}
				f.sender.mu.Unlock()
				var err error
				if i == 0 {
					err = f.h.run(context.Background(), testChat, upd, three)
				} else {
					err = f.h.Handle(context.Background(), upd) // the pipeline's retry
				}
				if (err != nil) != (i < len(tt.okBy)) {
					t.Fatalf("try %d: %v", i+1, err)
				}
				var got []string
				for _, m := range f.sender.take() {
					got = append(got, m.Text)
				}
				if !slices.Equal(got, tt.tries[i]) {
					t.Fatalf("try %d delivered %q, want %q", i+1, got, tt.tries[i])
				}
			}
			if !slices.Equal(f.sender.keys, tt.keys) {
				t.Fatalf("idempotency keys %q, want %q", f.sender.keys, tt.keys)
			}
		})
	}
}
