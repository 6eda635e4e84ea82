// Package localchat is a client talking to the dialog engine from inside
// chathub: `chathub chat` in a terminal and the console's playground. Both
// follow what the client sees with a Screen (the bot's messages, the
// buttons a press may choose, whether the contact button was chosen) and
// turn what the client does into the platform update a messenger would
// deliver (Screen.Update), which the same dialog.Handler then handles.
package localchat

import (
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/messenger"
)

// From tells who wrote a message of the screen.
const (
	FromBot    = "bot"
	FromClient = "client"
)

// MaxMessages is how many messages a Screen keeps; older ones are dropped.
const MaxMessages = 200

// Message is one message of the conversation as the client sees it.
type Message struct {
	// ID is the message's id in this chat ("1", "2", …; with a session,
	// "<session>-1").
	ID string `json:"id"`
	// From is FromBot or FromClient.
	From string `json:"from"`
	Text string `json:"text"`
	// Buttons are the keyboard shown with a bot's message, by rows.
	Buttons [][]messenger.Button `json:"buttons,omitempty"`
}

// Screen is the client's view of a local conversation. It is plain data
// (JSON), so the playground keeps it next to the conversation state and a
// page reload shows the same chat.
type Screen struct {
	// Session distinguishes the ids of one run from another's, so an update
	// id never repeats across runs (the engine ignores a repeated one).
	Session string `json:"session,omitempty"`
	// Scenario is the scenario the conversation was started with.
	Scenario string `json:"scenario,omitempty"`
	// Seq numbers messages and updates.
	Seq      int       `json:"seq"`
	Messages []Message `json:"messages,omitempty"`
	// Live are the buttons a press may choose: those of the last message
	// sent with a keyboard, until a message without one replaces it.
	Live []messenger.Button `json:"live,omitempty"`
	// LiveMessage is the id of the message carrying Live.
	LiveMessage string `json:"live_message,omitempty"`
	// AwaitingContact is true once the contact button was chosen: the next
	// input is the phone number the button shares.
	AwaitingContact bool `json:"awaiting_contact,omitempty"`
}

// nextID returns a new message or update id.
func (s *Screen) nextID() string {
	s.Seq++
	if s.Session == "" {
		return strconv.Itoa(s.Seq)
	}
	return s.Session + "-" + strconv.Itoa(s.Seq)
}

// Show records a message the bot sends and returns it with its id: an edit
// of a shown message replaces it in place, anything else is appended. A
// keyboard makes its buttons the live ones; a new message without one (or
// one removing the keyboard) leaves none.
func (s *Screen) Show(msg messenger.OutMessage) Message {
	m := Message{From: FromBot, Text: msg.Text}
	if msg.Keyboard != nil {
		m.Buttons = msg.Keyboard.Rows
	}
	edited := false
	if msg.EditMessageID != "" {
		for i := range s.Messages {
			if s.Messages[i].ID == msg.EditMessageID && s.Messages[i].From == FromBot {
				m.ID = msg.EditMessageID
				s.Messages[i] = m
				edited = true
				break
			}
		}
	}
	if !edited {
		m.ID = s.nextID()
		s.add(m)
	}
	switch {
	case msg.Keyboard != nil:
		s.Live = s.Live[:0]
		for _, row := range msg.Keyboard.Rows {
			s.Live = append(s.Live, row...)
		}
		s.LiveMessage = m.ID
	case msg.RemoveKeyboard || msg.EditMessageID == "":
		s.Live, s.LiveMessage = nil, ""
	}
	return m
}

// add appends m, keeping at most MaxMessages.
func (s *Screen) add(m Message) {
	s.Messages = append(s.Messages, m)
	if n := len(s.Messages) - MaxMessages; n > 0 {
		s.Messages = append(s.Messages[:0], s.Messages[n:]...)
	}
}

// Input is what the client does.
type Input struct {
	// Text is a typed message, or the phone number when Contact is set.
	Text string
	// Button, when positive, presses the live button with that number
	// (1-based, in the order of Screen.Live).
	Button int
	// Message, when set with Button, is the id of the message whose
	// buttons the client saw: a press meant for buttons that are no longer
	// live (another tab went on meanwhile) is ignored.
	Message string
	// Contact shares Text as the client's own phone number, as the
	// platform's contact button does.
	Contact bool
}

// Button finds the live button a typed line means: its caption first (a
// chosen option's "✓ " mark ignored), then its number; 0 for none.
func (s *Screen) Button(line string) int {
	t := strings.TrimSpace(line)
	for i, b := range s.Live {
		if strings.EqualFold(strings.TrimPrefix(b.Text, "✓ "), t) || strings.EqualFold(b.Text, t) {
			return i + 1
		}
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(s.Live) {
		return n
	}
	return 0
}

// Update turns the client's input into the update a messenger would
// deliver for chat and records the client's message on the screen. ok is
// false when the input only chose the contact button (AwaitingContact is
// then set, and the phone comes as the next input with Contact) or pressed
// a button that is not live.
func (s *Screen) Update(chat messenger.ChatKey, in Input) (upd messenger.Update, ok bool) {
	upd = messenger.Update{ID: s.nextID(), Chat: chat, Kind: messenger.KindMessage, Text: in.Text}
	switch {
	case in.Contact || s.AwaitingContact && in.Button == 0:
		s.AwaitingContact = false
		upd.Kind, upd.Contact = messenger.KindContact, &messenger.Contact{Phone: in.Text, UserID: chat.ID}
		s.add(Message{ID: upd.ID, From: FromClient, Text: "📱 " + in.Text})
		return upd, true
	case in.Button > len(s.Live), in.Button > 0 && in.Message != "" && in.Message != s.LiveMessage:
		return upd, false
	case in.Button > 0:
		b := s.Live[in.Button-1]
		if b.RequestContact {
			s.AwaitingContact = true
			return upd, false
		}
		s.AwaitingContact = false
		upd.Text = b.Text
		if b.Value != "" {
			upd.Kind, upd.Value, upd.MessageID = messenger.KindButton, b.Value, s.LiveMessage
		}
	}
	s.add(Message{ID: upd.ID, From: FromClient, Text: upd.Text})
	return upd, true
}
