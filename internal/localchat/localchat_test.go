package localchat

import (
	"context"
	"sync"
	"testing"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

func keyboard(bs ...messenger.Button) *messenger.Keyboard {
	return &messenger.Keyboard{Rows: [][]messenger.Button{bs}}
}

func TestScreenUpdate(t *testing.T) {
	t.Parallel()
	chat := messenger.ChatKey{Platform: messenger.Playground, ID: "anna"}
	var s Screen
	s.Show(messenger.OutMessage{Text: "Согласны?", Keyboard: keyboard(
		messenger.Button{Text: "Да", Value: "yes"}, messenger.Button{Text: "Пропустить"})})
	tests := []struct {
		name string
		in   Input
		kind messenger.UpdateKind
		text string
		val  string
	}{
		{"a press of a button with a value", Input{Button: 1}, messenger.KindButton, "Да", "yes"},
		{"a press of a reply button", Input{Button: 2}, messenger.KindMessage, "Пропустить", ""},
		{"typed text", Input{Text: "привет"}, messenger.KindMessage, "привет", ""},
	}
	for _, tt := range tests {
		upd, ok := s.Update(chat, tt.in)
		if !ok || upd.Kind != tt.kind || upd.Text != tt.text || upd.Value != tt.val {
			t.Errorf("%s: got %+v, %v", tt.name, upd, ok)
		}
	}
	if _, ok := s.Update(chat, Input{Button: 9}); ok {
		t.Errorf("a button that is not live was pressed")
	}
	if _, ok := s.Update(chat, Input{Button: 1, Message: "old"}); ok {
		t.Errorf("a press for another message's buttons was taken")
	}
	if upd, ok := s.Update(chat, Input{Button: 1, Message: s.LiveMessage}); !ok || upd.Value != "yes" {
		t.Errorf("a press for the live message: %+v, %v", upd, ok)
	}
	if got := s.Button("да"); got != 1 {
		t.Errorf("Button(да) = %d", got)
	}
	if got := s.Button("2"); got != 2 {
		t.Errorf("Button(2) = %d", got)
	}

	// The contact button asks for the number; the next input shares it.
	s.Show(messenger.OutMessage{Text: "Телефон?", Keyboard: &messenger.Keyboard{Kind: messenger.Reply,
		Rows: [][]messenger.Button{{{Text: "📱 Отправить номер", RequestContact: true}}}}})
	if _, ok := s.Update(chat, Input{Button: 1}); ok || !s.AwaitingContact {
		t.Fatalf("contact button: ok=%v awaiting=%v", ok, s.AwaitingContact)
	}
	upd, ok := s.Update(chat, Input{Text: "+79123456789"})
	if !ok || upd.Kind != messenger.KindContact || upd.Contact.Phone != "+79123456789" || upd.Contact.UserID != "anna" {
		t.Errorf("contact = %+v", upd)
	}

	// A message without a keyboard leaves no live buttons; an edit replaces in place.
	m := s.Show(messenger.OutMessage{Text: "Выбрано: 1", Keyboard: keyboard(messenger.Button{Text: "✓ Фитнес", Value: "0"})})
	n := len(s.Messages)
	s.Show(messenger.OutMessage{Text: "Выбрано: 2", EditMessageID: m.ID, Keyboard: keyboard(messenger.Button{Text: "Готово", Value: "done"})})
	if len(s.Messages) != n || s.Messages[n-1].Text != "Выбрано: 2" || s.Messages[n-1].ID != m.ID || s.LiveMessage != m.ID {
		t.Errorf("edit: %+v", s.Messages[n-1])
	}
	s.Show(messenger.OutMessage{Text: "Спасибо"})
	if len(s.Live) != 0 {
		t.Errorf("live after a plain message: %v", s.Live)
	}
}

// memStates is an in-memory dialog.StateStore.
type memStates struct {
	mu sync.Mutex
	m  map[messenger.ChatKey]dialog.StoredState
}

func (m *memStates) LoadState(_ context.Context, k messenger.ChatKey) (dialog.StoredState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[k], nil
}

func (m *memStates) SaveState(_ context.Context, k messenger.ChatKey, st dialog.StoredState) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m[k].Rev != st.Rev {
		return 0, dialog.ErrConflict
	}
	st.Rev++
	m.m[k] = st
	return st.Rev, nil
}

// echo is an engine that greets on Begin and echoes every message.
type echo struct{ send messenger.Sender }

func (e echo) Begin(ctx context.Context, key messenger.ChatKey, id string, _ *messenger.Profile) error {
	_, err := e.send.Send(ctx, messenger.OutMessage{Chat: key, Text: "начали " + id,
		Keyboard: keyboard(messenger.Button{Text: "Да", Value: "yes"})})
	return err
}

func (e echo) Handle(ctx context.Context, upd *messenger.Update) error {
	_, err := e.send.Send(ctx, messenger.OutMessage{Chat: upd.Chat, Text: "эхо " + upd.Text + " " + upd.Value})
	return err
}

func TestPlayground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	states := &memStates{m: map[messenger.ChatKey]dialog.StoredState{}}
	p := NewPlayground(states)
	p.AddBot("", echo{send: p})
	s, err := p.Restart(ctx, "", "anna", "portrait")
	if err != nil || s.Scenario != "portrait" || len(s.Messages) != 1 || s.Messages[0].Text != "начали portrait" {
		t.Fatalf("Restart = %+v, %v", s, err)
	}
	if s, err = p.Input(ctx, "", "anna", Input{Button: 1}); err != nil || len(s.Messages) != 3 || s.Messages[2].Text != "эхо Да yes" {
		t.Fatalf("Input = %+v, %v", s, err)
	}
	// Another playground (a page reload, another process) sees the same screen.
	again, err := NewPlayground(states).Screen(ctx, "", "anna")
	if err != nil || len(again.Messages) != 3 {
		t.Errorf("Screen after reload = %+v, %v", again, err)
	}
	if other, _ := p.Screen(ctx, "", "boris"); len(other.Messages) != 0 {
		t.Errorf("boris sees anna's chat")
	}
	if _, err := p.Input(ctx, "shop", "anna", Input{Text: "x"}); err == nil {
		t.Errorf("unknown bot accepted")
	}
}
