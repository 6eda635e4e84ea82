package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// blockingSends is a markQueue's send that records each mark and holds it
// until released, noting when two marks of one message overlap.
type blockingSends struct {
	mu       sync.Mutex
	sent     []string // "chat/msg:markup", in the order the sends began
	inFlight map[msgKey]int
	most     int // the most marks in flight at once
	overlap  bool
	release  chan struct{}
}

func newBlockingSends() *blockingSends {
	return &blockingSends{inFlight: map[msgKey]int{}, release: make(chan struct{})}
}

func (s *blockingSends) send(k msgKey, markup json.RawMessage) {
	s.mu.Lock()
	s.sent = append(s.sent, fmt.Sprintf("%d/%d:%s", k.chat, k.msg, markup))
	s.inFlight[k]++
	s.overlap = s.overlap || s.inFlight[k] > 1
	n := 0
	for _, c := range s.inFlight {
		n += c
	}
	s.most = max(s.most, n)
	s.mu.Unlock()
	<-s.release
	s.mu.Lock()
	s.inFlight[k]--
	s.mu.Unlock()
}

func (s *blockingSends) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// TestMarkQueue: marks go out at most maxSideCalls at once; one message's
// marks one at a time, in the order of its presses, a waiting mark
// replaced by a later one; past maxQueuedMarks waiting, marks are dropped.
func TestMarkQueue(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		push []msgKey // the marks pushed, while the first sends are held
		want []string // the sends, in order, once released
		drop int
	}{
		{"one message, pressed three times", []msgKey{{1, 5}, {1, 5}, {1, 5}}, []string{"1/5:0", "1/5:2"}, 0},
		{"two messages", []msgKey{{1, 5}, {1, 6}, {1, 5}}, []string{"1/5:0", "1/6:1", "1/5:2"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newBlockingSends()
			dropped := 0
			q := newMarkQueue(s.send, func(msgKey) { dropped++ })
			for i, k := range tt.push {
				q.push(k, json.RawMessage(fmt.Sprint(i)), time.Time{})
				if i == 0 {
					eventually(t, "the first mark is sent", func() bool { return s.count() == 1 })
				}
			}
			close(s.release)
			eventually(t, "the queue is idle", q.idle)
			s.mu.Lock()
			defer s.mu.Unlock()
			slices.Sort(s.sent[1:]) // the other messages' marks race for the workers
			want := slices.Clone(tt.want)
			slices.Sort(want[1:])
			if !slices.Equal(s.sent, want) {
				t.Errorf("sent %q, want %q", s.sent, want)
			}
			if s.overlap {
				t.Error("two marks of one message were in flight at once")
			}
			if dropped != tt.drop {
				t.Errorf("%d dropped, want %d", dropped, tt.drop)
			}
		})
	}
}

// TestMarkQueueBounds: at most maxSideCalls marks are in flight; past
// maxQueuedMarks waiting the next one is dropped.
func TestMarkQueueBounds(t *testing.T) {
	t.Parallel()
	s := newBlockingSends()
	dropped := 0
	q := newMarkQueue(s.send, func(msgKey) { dropped++ })
	total := maxSideCalls + maxQueuedMarks + 1
	for i := range total {
		q.push(msgKey{chat: int64(i + 1), msg: 1}, json.RawMessage("{}"), time.Time{})
		if i == maxSideCalls-1 {
			eventually(t, "every slot is taken", func() bool { return s.count() == maxSideCalls })
		}
	}
	time.Sleep(20 * time.Millisecond)
	if n := s.count(); n != maxSideCalls {
		t.Fatalf("%d marks in flight, want %d", n, maxSideCalls)
	}
	if dropped != 1 {
		t.Fatalf("%d marks dropped, want 1", dropped)
	}
	close(s.release)
	eventually(t, "the queue is idle", q.idle)
	if n := s.count(); n != total-1 {
		t.Fatalf("%d marks sent, want %d", n, total-1)
	}
	if s.most > maxSideCalls {
		t.Fatalf("%d marks in flight at once, want at most %d", s.most, maxSideCalls)
	}
}

// TestBeginPress: a press is marked once it is handled, with the mark it
// carries, unless the handler's replies edited the pressed message or the
// handling failed; updates it cannot mark are left alone.
func TestBeginPress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		mod     func(*messenger.Update)
		earlier bool // an earlier attempt edited the message and failed
		edit    bool
		handled bool
		want    []string // the message's captions after
	}{
		{"handled", nil, false, false, true, []string{"✓ A", "B"}},
		{"edited by the handler", nil, false, true, true, []string{"A", "edited"}},
		{"edited by an earlier attempt", nil, true, false, true, []string{"A", "edited"}},
		{"failed", nil, false, false, false, []string{"A", "B"}},
		{"no mark", func(u *messenger.Update) { u.PressMark = nil }, false, false, true, []string{"A", "B"}},
		{"no message id", func(u *messenger.Update) { u.MessageID = "" }, false, false, true, []string{"A", "B"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, q := askAB(t)
			// The press travels through the relay's queue.
			data, err := json.Marshal(pressUpdate(t, b, s, 9, 1, "a"))
			if err != nil {
				t.Fatal(err)
			}
			u := new(messenger.Update)
			if err := json.Unmarshal(data, u); err != nil {
				t.Fatal(err)
			}
			if u.MessageID != q.MessageID || len(u.PressMark) == 0 {
				t.Fatalf("press = %+v", u)
			}
			if tt.mod != nil {
				tt.mod(u)
			}
			if tt.earlier {
				// The attempt edits, then a later reply fails: the
				// redelivery resends only what is left, not the edit.
				end := b.BeginPress(u)
				editAB(t, b, q)
				end(false)
			}
			end := b.BeginPress(u)
			if tt.edit {
				editAB(t, b, q)
			}
			end(tt.handled)
			eventually(t, "marks done", b.markq.idle)
			if got := s.Messages(9)[0].ReplyMarkup.Captions(); !slices.Equal(got, tt.want) {
				t.Fatalf("captions = %q, want %q", got, tt.want)
			}
			if tt.want[0] == "A" && s.Calls("editMessageReplyMarkup") != 0 {
				t.Fatalf("marked: %d calls", s.Calls("editMessageReplyMarkup"))
			}
		})
	}
}

// TestMarkNeverOverALaterEdit: a press's mark still waiting when the
// engine edits the message (another press's handling) is not sent, and a
// mark in flight is waited for, so the keyboard ends as the engine's edit
// left it.
func TestMarkNeverOverALaterEdit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		presses   int // handled without an edit before the engine's edit
		wantMarks int // editMessageReplyMarkup calls
	}{
		{"a mark in flight", 1, 1},
		{"a mark in flight and one waiting", 2, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, s, q := askAB(t)
			s.DelayMethod("editMessageReplyMarkup", 300*time.Millisecond)
			for i := range tt.presses {
				b.BeginPress(pressUpdate(t, b, s, 9, 1, []string{"a", "b"}[i%2]))(true)
				if i == 0 {
					eventually(t, "the first mark in flight", func() bool { return s.Calls("editMessageReplyMarkup") == 1 })
				}
			}
			editAB(t, b, q)
			eventually(t, "marks done", b.markq.idle)
			if got := s.Messages(9)[0].ReplyMarkup.Captions(); !slices.Equal(got, []string{"A", "edited"}) {
				t.Fatalf("captions = %q, want the engine's edit", got)
			}
			if n := s.Calls("editMessageReplyMarkup"); n != tt.wantMarks {
				t.Fatalf("%d marks sent, want %d", n, tt.wantMarks)
			}
		})
	}
}

// TestDrainMarks: stopping waits for the marks of the presses handled so
// far, and gives up the rest when its deadline comes first.
func TestDrainMarks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		deadline time.Duration
		wantLeft bool
	}{
		{"all sent", 5 * time.Second, false},
		{"deadline first", 50 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newBlockingSends()
			q := newMarkQueue(s.send, func(msgKey) {})
			for i := range 3 {
				q.push(msgKey{chat: int64(i + 1), msg: 1}, json.RawMessage("{}"), time.Time{})
			}
			eventually(t, "the marks in flight", func() bool { return s.count() == 3 })
			if !tt.wantLeft {
				time.AfterFunc(100*time.Millisecond, func() { close(s.release) })
			} else {
				defer close(s.release)
			}
			ctx, cancel := context.WithTimeout(t.Context(), tt.deadline)
			defer cancel()
			left := q.drain(ctx)
			if (left > 0) != tt.wantLeft {
				t.Fatalf("%d marks left, want some: %v", left, tt.wantLeft)
			}
			if !tt.wantLeft && !q.idle() {
				t.Fatal("drained, but marks are still waiting or in flight")
			}
		})
	}
}

// pressUpdate has user press the button data of message msg and returns
// the update the adapter makes of it (its callback answered).
func pressUpdate(t *testing.T, b *Bot, s *telegramtest.Server, user int64, msg int, data string) *messenger.Update {
	t.Helper()
	id := s.PressButton(user, msg, data)
	var raw tgbotapi.Update
	if err := json.Unmarshal(s.Update(id), &raw); err != nil {
		t.Fatal(err)
	}
	bt := b.prepare(t.Context(), []tgbotapi.Update{raw})
	bt.side.wait()
	return bt.updates[0]
}

// askAB has a new bot ask user 9 a question with the buttons A and B (the
// chat's message 1).
func askAB(t *testing.T) (*Bot, *telegramtest.Server, messenger.Sent) {
	t.Helper()
	b, s, _ := newTestBot(t, nil)
	s.AddUser(9)
	kb := &messenger.Keyboard{Rows: [][]messenger.Button{{{Text: "A", Value: "a"}, {Text: "B", Value: "b"}}}}
	q, err := b.Send(t.Context(), messenger.OutMessage{Chat: chat("9"), Text: "q", Keyboard: kb})
	if err != nil {
		t.Fatal(err)
	}
	return b, s, q
}

// editAB is the engine's edit of askAB's question: its keyboard becomes
// A and «edited».
func editAB(t *testing.T, b *Bot, q messenger.Sent) {
	t.Helper()
	edited := &messenger.Keyboard{Rows: [][]messenger.Button{{{Text: "A", Value: "a"}, {Text: "edited", Value: "e"}}}}
	if _, err := b.Send(t.Context(), messenger.OutMessage{Chat: chat("9"), Text: "q2", Keyboard: edited, EditMessageID: q.MessageID}); err != nil {
		t.Fatal(err)
	}
}
