package app

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/telegramtest"
)

// TestPressMarks: a client answers the portrait scenario's button steps by
// pressing them, in long polling (through the relay's queue, which hands
// the updates over before they are handled) and with the webhook alike.
// Each single-choice press is marked exactly once (editMessageReplyMarkup
// of the pressed message); the multi-select's toggles, which the engine
// answers by editing the question (editMessageText with the new keyboard),
// are not marked, so the question keeps the engine's keyboard. Until the
// marks were sent where the presses are handled, polling marked every
// press: 5 marks per survey (2 of them over the toggles) against 3.
func TestPressMarks(t *testing.T) {
	t.Parallel()
	for i, tt := range []struct {
		name    string
		webhook bool
	}{
		{"long polling", false},
		{"webhook", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := startOutageRuntime(t, outageConfig(t), telegramtest.New(t), tt.webhook)
			user := int64(6301 + i)
			o.turn(t, user, "/start", portraitConsent)
			consent := o.pressStep(t, user, 1, portraitName)
			o.converse(t, user, portraitTurns[2:5]...) // name, age, city
			family := o.pressStep(t, user, 2, portraitInterests)
			interests := o.pressStep(t, user, 1, "Выбрано: Фитнес") // a toggle: the question is edited
			if again := o.pressStep(t, user, 2, "Выбрано: Фитнес, Путешествия"); again != interests {
				t.Fatalf("the second toggle answered on message %d, not on the question %d", again, interests)
			}
			// Both single-choice presses are marked once (on the side, after
			// their handling); by then a toggle's mark would have been too.
			o.waitMarks(t, user, map[int]int{consent: 1, family: 1})
			time.Sleep(100 * time.Millisecond)
			if n := len(o.marks(user, interests)); n != 0 {
				t.Fatalf("the toggles were marked: %d editMessageReplyMarkup of the question", n)
			}
			engine := o.lastEditKeyboard(t, user, interests)
			if got := o.captions(t, user, interests); !slices.Equal(got, engine) {
				t.Fatalf("question's keyboard = %q, want the engine's %q", got, engine)
			}
			if !slices.Contains(engine, "✓ Фитнес") || !slices.Contains(engine, "✓ Путешествия") {
				t.Fatalf("the engine's keyboard %q shows not both toggles", engine)
			}
			done := slices.Index(engine, "Готово")
			if done < 0 {
				t.Fatalf("no «Готово» on the question: %q", engine)
			}
			o.pressStep(t, user, done+1, portraitPhone)
			o.waitMarks(t, user, map[int]int{consent: 1, family: 1, interests: 1})
			final := slices.Clone(engine)
			final[done] = "✓ " + final[done]
			if got := o.captions(t, user, interests); !slices.Equal(got, final) {
				t.Fatalf("question's keyboard after «Готово» = %q, want %q", got, final)
			}
			o.turn(t, user, "+79123456789", portraitThanks)
			time.Sleep(100 * time.Millisecond)
			if n := o.fake.Calls("editMessageReplyMarkup"); n != 3 {
				t.Fatalf("%d editMessageReplyMarkup in the survey, want 3 (consent, family status, «Готово»)", n)
			}
		})
	}
}

// pressStep presses the n-th inline button (row by row) of the bot's
// newest message to the user and waits for the one reply it gets (a new
// message or an edit of that message) starting with want; it returns the
// pressed message's id.
func (o *outageRuntime) pressStep(t *testing.T, user int64, n int, want string) int {
	t.Helper()
	msgs := o.fake.Messages(user)
	m := msgs[len(msgs)-1]
	data := newBotMessage(m).buttons // as the inbound benchmark's clients read it
	if n > len(data) {
		t.Fatalf("message %.40q has %d buttons, not %d", m.Text, len(data), n)
	}
	before := len(o.fake.Events(user))
	id := o.fake.PressButton(user, m.MessageID, data[n-1])
	if status := o.post(t, id); o.webhook != "" && status != http.StatusOK {
		t.Fatalf("webhook answered %d to a press", status)
	}
	ev := o.fake.WaitEvents(user, before+1, outageTimeout)
	if got := ev[before].Text; !strings.HasPrefix(got, want) {
		t.Fatalf("reply to the press = %.60q, want it to start with %q", got, want)
	}
	o.waitIdle(t)
	if ev = o.fake.Events(user); len(ev) != before+1 {
		t.Fatalf("%d replies to a press", len(ev)-before)
	}
	return m.MessageID
}

// marks returns the keyboards of the editMessageReplyMarkup calls on the
// user's message msg, in order.
func (o *outageRuntime) marks(user int64, msg int) []string {
	var out []string
	for _, r := range o.fake.Requests("editMessageReplyMarkup") {
		if r.Params["chat_id"] == strconv.FormatInt(user, 10) && r.Params["message_id"] == strconv.Itoa(msg) {
			out = append(out, r.Params["reply_markup"])
		}
	}
	return out
}

// waitMarks waits until each message of want has its number of marks.
func (o *outageRuntime) waitMarks(t *testing.T, user int64, want map[int]int) {
	t.Helper()
	eventually(t, "the presses are marked", func() bool {
		for msg, n := range want {
			if len(o.marks(user, msg)) != n {
				return false
			}
		}
		return true
	})
}

// lastEditKeyboard returns the captions of the keyboard the engine's last
// editMessageText of the user's message msg carried.
func (o *outageRuntime) lastEditKeyboard(t *testing.T, user int64, msg int) []string {
	t.Helper()
	var last string
	for _, r := range o.fake.Requests("editMessageText") {
		if r.Params["chat_id"] == strconv.FormatInt(user, 10) && r.Params["message_id"] == strconv.Itoa(msg) {
			last = r.Params["reply_markup"]
		}
	}
	var kb telegramtest.ReplyMarkup
	if err := json.Unmarshal([]byte(last), &kb); err != nil {
		t.Fatalf("the engine's edit of message %d: reply_markup %q: %v", msg, last, err)
	}
	return kb.Captions()
}

// captions returns the captions of the keyboard the user's message msg
// shows now.
func (o *outageRuntime) captions(t *testing.T, user int64, msg int) []string {
	t.Helper()
	for _, m := range o.fake.Messages(user) {
		if m.MessageID == msg {
			return m.ReplyMarkup.Captions()
		}
	}
	t.Fatalf("no message %d to user %d", msg, user)
	return nil
}
