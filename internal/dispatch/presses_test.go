package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// recordingMarker records what MarkPresses tells it, in order, into the
// log it shares with the handler.
type recordingMarker struct{ log *[]string }

func (m recordingMarker) BeginPress(u *messenger.Update) func(bool) {
	*m.log = append(*m.log, "begin "+u.ID)
	return func(handled bool) { *m.log = append(*m.log, fmt.Sprintf("end %s %v", u.ID, handled)) }
}

// TestMarkPresses: a press with a mark is bracketed by its bot's
// PressMarker around the handler, handled reporting the handler's outcome
// (a panic marks nothing); other updates, presses without a mark and bots
// without a marker go straight to the handler.
func TestMarkPresses(t *testing.T) {
	t.Parallel()
	press := func(id string) *messenger.Update {
		return &messenger.Update{ID: id, Chat: messenger.ChatKey{Platform: messenger.Telegram, ID: "1"},
			Kind: messenger.KindButton, Value: "a", MessageID: "5", PressMark: json.RawMessage(`{"inline_keyboard":[]}`)}
	}
	text := press("1")
	text.Kind, text.PressMark = messenger.KindMessage, nil
	noMark := press("1")
	noMark.PressMark = nil
	vk := press("1")
	vk.Chat.Platform = messenger.VK
	fail := errors.New("down")
	for _, tt := range []struct {
		name   string
		upd    *messenger.Update
		handle error
		panics bool
		want   string
	}{
		{"handled", press("1"), nil, false, "[begin 1 handle 1 end 1 true]"},
		{"failed", press("1"), fail, false, "[begin 1 handle 1 end 1 false]"},
		{"panicked", press("1"), nil, true, "[begin 1 handle 1 end 1 false]"},
		{"text", text, nil, false, "[handle 1]"},
		{"press without a mark", noMark, nil, false, "[handle 1]"},
		{"bot without a marker", vk, nil, false, "[handle 1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log []string
			markers := func(k messenger.ChatKey) messenger.PressMarker {
				if k.Platform != messenger.Telegram {
					return nil
				}
				return recordingMarker{&log}
			}
			h := Chain(HandlerFunc(func(_ context.Context, u *messenger.Update) error {
				log = append(log, "handle "+u.ID)
				if tt.panics {
					panic("boom")
				}
				return tt.handle
			}), MarkPresses(markers))
			func() {
				defer func() { _ = recover() }()
				if err := h.Handle(context.Background(), tt.upd); !errors.Is(err, tt.handle) {
					t.Errorf("Handle = %v, want %v", err, tt.handle)
				}
			}()
			if got := fmt.Sprint(log); got != tt.want {
				t.Errorf("calls = %s, want %s", got, tt.want)
			}
		})
	}
}
