package localchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/chathub/chathub/internal/dialog"
	"github.com/chathub/chathub/internal/messenger"
)

// Engine is what a local chat talks to: dialog.Handler.
type Engine interface {
	// Begin starts scenario id for the chat as if the client had triggered it.
	Begin(ctx context.Context, key messenger.ChatKey, id string, profile *messenger.Profile) error
	// Handle processes one update of the chat.
	Handle(ctx context.Context, upd *messenger.Update) error
}

// screenPlatform keys a playground's Screen in the state store, beside the
// conversation state of the chat (platform "playground").
const screenPlatform messenger.Platform = "playground.screen"

// Playground is the console's chat window: each console user is one client
// (platform "playground", id = the user's name) of each bot's dialog
// handler. The conversation state stays where the engine keeps it and the
// Screen is stored beside it in the same state store, so both survive a
// page reload and a restart. Updates of one chat are serialised within the
// process.
type Playground struct {
	states dialog.StateStore

	mu      sync.Mutex
	engines map[string]Engine             // by bot name ("" for the environment's bot)
	screens map[messenger.ChatKey]*Screen // the screen of a chat being handled
	locks   map[messenger.ChatKey]*sync.Mutex
}

// NewPlayground returns a playground keeping its screens in states; add
// each bot's engine, built with the playground as its sender, with AddBot.
func NewPlayground(states dialog.StateStore) *Playground {
	return &Playground{
		states:  states,
		engines: map[string]Engine{},
		screens: map[messenger.ChatKey]*Screen{},
		locks:   map[messenger.ChatKey]*sync.Mutex{},
	}
}

// AddBot makes bot's scenarios playable through e.
func (p *Playground) AddBot(bot string, e Engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.engines[bot] = e
}

// Send implements messenger.Sender: the message goes to the screen of the
// chat being handled.
func (p *Playground) Send(_ context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	p.mu.Lock()
	s, ok := p.screens[msg.Chat]
	p.mu.Unlock()
	if !ok {
		return messenger.Sent{}, fmt.Errorf("playground: send to %s: %w", msg.Chat, messenger.ErrPermanent)
	}
	return messenger.Sent{MessageID: s.Show(msg).ID}, nil
}

// Chat is the playground chat of user with bot.
func Chat(bot, user string) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.Playground, Bot: bot, ID: user}
}

// Screen returns what user sees of the playground chat with bot (empty
// before the first Restart).
func (p *Playground) Screen(ctx context.Context, bot, user string) (Screen, error) {
	s, _, err := p.load(ctx, Chat(bot, user))
	return s, err
}

// Restart starts scenario id over for user with bot on an empty screen.
func (p *Playground) Restart(ctx context.Context, bot, user, id string) (Screen, error) {
	return p.turn(ctx, bot, user, func(e Engine, key messenger.ChatKey, s *Screen) error {
		*s = Screen{Session: newSession(), Scenario: id}
		if err := e.Begin(ctx, key, id, nil); err != nil {
			return fmt.Errorf("playground: start %s: %w", id, err)
		}
		return nil
	})
}

// Input hands the client's input to the engine and returns the screen with
// the bot's replies.
func (p *Playground) Input(ctx context.Context, bot, user string, in Input) (Screen, error) {
	return p.turn(ctx, bot, user, func(e Engine, key messenger.ChatKey, s *Screen) error {
		upd, ok := s.Update(key, in)
		if !ok {
			return nil
		}
		if err := e.Handle(ctx, &upd); err != nil {
			return fmt.Errorf("playground: handle: %w", err)
		}
		return nil
	})
}

// turn runs f on the chat's screen under the chat's lock and saves the
// screen afterwards (also when f failed half-way: what was shown stays).
func (p *Playground) turn(ctx context.Context, bot, user string, f func(Engine, messenger.ChatKey, *Screen) error) (Screen, error) {
	key := Chat(bot, user)
	p.mu.Lock()
	e, ok := p.engines[bot]
	l := p.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		p.locks[key] = l
	}
	p.mu.Unlock()
	if !ok {
		return Screen{}, fmt.Errorf("playground: no bot %q", bot)
	}
	l.Lock()
	defer l.Unlock()
	s, rev, err := p.load(ctx, key)
	if err != nil {
		return Screen{}, err
	}
	p.mu.Lock()
	p.screens[key] = &s
	p.mu.Unlock()
	ferr := f(e, key, &s)
	p.mu.Lock()
	delete(p.screens, key)
	p.mu.Unlock()
	if err := p.save(ctx, key, s, rev); err != nil {
		return s, errors.Join(ferr, err)
	}
	return s, ferr
}

// load reads the chat's screen and its revision.
func (p *Playground) load(ctx context.Context, key messenger.ChatKey) (Screen, int64, error) {
	st, err := p.states.LoadState(ctx, screenKey(key))
	if err != nil {
		return Screen{}, 0, fmt.Errorf("playground: load screen: %w", err)
	}
	var s Screen
	if len(st.Data) > 0 {
		if err := json.Unmarshal(st.Data, &s); err != nil {
			s = Screen{} // an unreadable screen starts empty; the conversation stays
		}
	}
	return s, st.Rev, nil
}

// save stores the chat's screen at revision rev.
func (p *Playground) save(ctx context.Context, key messenger.ChatKey, s Screen, rev int64) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("playground: encode screen: %w", err)
	}
	if _, err := p.states.SaveState(ctx, screenKey(key), dialog.StoredState{Data: data, Rev: rev}); err != nil {
		return fmt.Errorf("playground: save screen: %w", err)
	}
	return nil
}

func screenKey(chat messenger.ChatKey) messenger.ChatKey { return ScreenKey(chat) }

// ScreenKey is the state key under which the playground keeps what chat's
// page shows (every message in and out, a shared phone included): erasing
// a playground client erases it too.
func ScreenKey(chat messenger.ChatKey) messenger.ChatKey {
	chat.Platform = screenPlatform
	return chat
}

func newSession() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
