package app

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// fakeGate records Enter and leave; dup and err are its answers.
type fakeGate struct {
	dup      bool
	err      error
	entered  []string
	left     []bool
	leaveErr error
}

func (g *fakeGate) Enter(_ context.Context, chat messenger.ChatKey, updateID string, _ time.Duration) (func(context.Context, bool) error, bool, error) {
	g.entered = append(g.entered, chat.String()+" "+updateID)
	if g.err != nil || g.dup {
		return nil, g.dup, g.err
	}
	return func(_ context.Context, handled bool) error {
		g.left = append(g.left, handled)
		return g.leaveErr
	}, false, nil
}

func TestHandoffReturnerHoldsTheChatsTurn(t *testing.T) {
	t.Parallel()
	req := handoff.Request{ID: 7, Chat: messenger.ChatKey{Platform: messenger.Telegram, Bot: "shop", ID: "42"}, ReturnScenario: "b2b"}
	boom := errors.New("boom")
	tests := []struct {
		name      string
		gate      fakeGate
		retErr    error
		noBot     bool
		wantCalls int
		wantLeft  []bool
		wantErr   error
	}{
		{name: "returned", wantCalls: 1, wantLeft: []bool{true}},
		{name: "returned before", gate: fakeGate{dup: true}, wantCalls: 0},
		{name: "the bot fails", retErr: boom, wantCalls: 1, wantLeft: []bool{false}, wantErr: boom},
		{name: "the chat is busy", gate: fakeGate{err: boom}, wantCalls: 0, wantErr: boom},
		{name: "release fails", gate: fakeGate{leaveErr: boom}, wantCalls: 1, wantLeft: []bool{true}, wantErr: boom},
		{name: "no such bot here", noBot: true, wantCalls: 0, wantErr: errors.New("any")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gate := tt.gate
			calls := 0
			var gotNote string
			ret := handoffReturner{
				gate: &gate, updateID: dialog.ReturnUpdateID, ttl: time.Minute,
				bots: func(bot string) botReturner {
					if tt.noBot || bot != "shop" {
						return nil
					}
					return func(_ context.Context, r handoff.Request, note string) error {
						calls++
						gotNote = note
						if r.ReturnScenario != "b2b" {
							t.Errorf("scenario %q", r.ReturnScenario)
						}
						return tt.retErr
					}
				},
			}
			err := ret.ReturnToBot(context.Background(), req, "заметка")
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("ReturnToBot: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatal("ReturnToBot succeeded")
			case tt.wantErr == boom && !errors.Is(err, boom):
				t.Fatalf("ReturnToBot: %v, want %v inside", err, boom)
			case tt.noBot && !errors.Is(err, handoff.ErrNoBot):
				t.Fatalf("ReturnToBot: %v, want handoff.ErrNoBot", err)
			}
			if calls != tt.wantCalls {
				t.Fatalf("the bot returned the chat %d times, want %d", calls, tt.wantCalls)
			}
			if calls > 0 && gotNote != "заметка" {
				t.Fatalf("note %q", gotNote)
			}
			if len(gate.left) != len(tt.wantLeft) || (len(gate.left) > 0 && gate.left[0] != tt.wantLeft[0]) {
				t.Fatalf("left %v, want %v", gate.left, tt.wantLeft)
			}
			if !tt.noBot && (len(gate.entered) != 1 || gate.entered[0] != "telegram/shop:42 handoff-return:7") {
				t.Fatalf("entered %v", gate.entered)
			}
		})
	}
}

// memStates is a dialog.StateStore of one chat.
type memStates struct {
	st   dialog.StoredState
	err  error
	save int
}

func (m *memStates) LoadState(context.Context, messenger.ChatKey) (dialog.StoredState, error) {
	return m.st, m.err
}

func (m *memStates) SaveState(_ context.Context, _ messenger.ChatKey, st dialog.StoredState) (int64, error) {
	if st.Rev != m.st.Rev {
		return 0, dialog.ErrConflict
	}
	m.save++
	st.Rev++
	m.st = st
	return st.Rev, nil
}

// TestHandoffReturnerReleasesTheChat: a given-up return clears the chat's
// hand-off mark holding the chat's turn, with no bot (one that runs
// nowhere too), and keeps the rest of the conversation.
func TestHandoffReturnerReleasesTheChat(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	req := handoff.Request{ID: 7, CreatedAt: created, Chat: messenger.ChatKey{Platform: messenger.Telegram, Bot: "gone", ID: "42"}}
	marked, err := json.Marshal(dialog.State{Scenario: "shop", Step: "name", Handoff: &dialog.HandoffMark{Since: created}})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("redis down")
	tests := []struct {
		name      string
		gate      fakeGate
		loadErr   error
		wantMark  bool
		wantLeft  []bool
		wantError bool
	}{
		{name: "cleared", wantLeft: []bool{true}},
		{name: "released before", gate: fakeGate{dup: true}, wantMark: true},
		{name: "the chat's turn fails", gate: fakeGate{err: boom}, wantMark: true, wantError: true},
		{name: "the state fails", loadErr: boom, wantMark: true, wantLeft: []bool{false}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gate := tt.gate
			states := &memStates{st: dialog.StoredState{Data: marked, Rev: 3, Update: "upd-1"}, err: tt.loadErr}
			ret := handoffReturner{gate: &gate, states: states, updateID: dialog.ReturnUpdateID, ttl: time.Minute,
				bots: func(string) botReturner { return nil }}
			err := ret.ReleaseChat(context.Background(), req)
			if (err != nil) != tt.wantError || (tt.wantError && !errors.Is(err, boom)) {
				t.Fatalf("ReleaseChat = %v, want an error %v", err, tt.wantError)
			}
			var st dialog.State
			if err := json.Unmarshal(states.st.Data, &st); err != nil {
				t.Fatal(err)
			}
			if (st.Handoff != nil) != tt.wantMark || st.Step != "name" || states.st.Update != "upd-1" {
				t.Fatalf("state %+v (update %q), want the mark %v and the rest kept", st, states.st.Update, tt.wantMark)
			}
			if len(gate.left) != len(tt.wantLeft) || (len(gate.left) > 0 && gate.left[0] != tt.wantLeft[0]) {
				t.Fatalf("left %v, want %v", gate.left, tt.wantLeft)
			}
			if len(gate.entered) != 1 || gate.entered[0] != "telegram/gone:42 handoff-return:7/release" {
				t.Fatalf("entered %v", gate.entered)
			}
		})
	}
}

func TestHandoffConfigFromTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	hc, err := handoffConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Hours != nil || hc.Wait != cfg.Handoff.SLA || len(hc.Keywords) == 0 {
		t.Fatalf("defaults: %+v", hc)
	}
	cfg.Handoff.Hours, cfg.Handoff.Wait, cfg.Handoff.Keywords = "mon-fri 09:00-18:00", 30*time.Minute, []string{"оператор"}
	if hc, err = handoffConfig(cfg); err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC) // 23:00 in Moscow
	if hc.Hours == nil || hc.Hours.Open(monday) || hc.Wait != 30*time.Minute || hc.Keywords[0] != "оператор" {
		t.Fatalf("set: %+v", hc)
	}
	cfg.Handoff.Hours = "someday"
	if _, err := handoffConfig(cfg); err == nil {
		t.Fatal("bad hours accepted")
	}
}
