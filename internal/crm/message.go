package crm

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Directions of a transcript message (Message.Direction).
const (
	// DirectionIn is a message the client sent (a text, a pressed button,
	// a shared contact, a picture...).
	DirectionIn = "in"
	// DirectionOut is a message sent to the client: the bot's reply, a
	// manager's answer, a broadcast.
	DirectionOut = "out"
)

// Authors of a transcript message (Message.AuthorKind).
const (
	AuthorClient    = "client"
	AuthorBot       = "bot"
	AuthorManager   = "manager"   // Author is the manager's name
	AuthorBroadcast = "broadcast" // Author is the campaign id
	// AuthorSystem marks a note of the hub itself in the transcript ("the
	// chat went back to the bot after 24 hours without activity"); it is
	// never sent to the client.
	AuthorSystem = "system"
	// AuthorReminder marks a reminder the bot sent a client who left a
	// question unanswered (a step's `remind:`); its text is the reminder's.
	AuthorReminder = "reminder"
)

// Statuses of a message sent by a manager (Message.Status); the bot's
// replies, broadcasts and the client's messages have none.
const (
	// MessageQueued: written, not sent yet (a `chathub run` process sends it).
	MessageQueued = "queued"
	// MessageSending: a process claimed it and is sending it.
	MessageSending = "sending"
	// MessageSent: the platform accepted it.
	MessageSent = "sent"
	// MessageFailed: the platform refused it for good; Error says why.
	MessageFailed = "failed"
)

// MaxMessageText caps the text a transcript keeps of one message, in
// bytes (cut at a rune boundary): longer texts are stored cut.
const MaxMessageText = 4096

// Message is one message of a client's conversation record (the
// transcript): in or out, who wrote it, what it said or which button was
// pressed, what media it carried, and the platform's id of it.
type Message struct {
	ID       int64
	ClientID int64
	// Direction is DirectionIn or DirectionOut.
	Direction string
	// AuthorKind is one of the Author* constants; Author names the manager
	// or the campaign.
	AuthorKind string
	Author     string
	Text       string
	// Button is the value (and caption, "caption (value)") of a pressed
	// button, for an inbound button press.
	Button string
	// Media names what a message carried besides text, one of
	// messenger's Media* kinds ("contact", "photo", "video", "voice",
	// "audio", "sticker", "document", "location", "other"); "" for text only.
	Media string
	// PlatformMsgID is the platform's id of the message when known (the
	// inbound message's id, or the id a sent message got).
	PlatformMsgID string
	// HandoffID is the hand-off request the message belongs to (written
	// while the chat is with a manager); 0 for none.
	HandoffID int64
	// Status and Error are set for a manager's messages (Message* statuses).
	Status    string
	Error     string
	CreatedAt time.Time
}

// CutMessageText makes s fit a transcript column: invalid UTF-8 sequences
// are replaced with U+FFFD, NUL bytes dropped (PostgreSQL's text refuses
// both) and the result cut to MaxMessageText bytes at a rune boundary.
func CutMessageText(s string) string {
	if len(s) <= MaxMessageText && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= MaxMessageText {
		return s
	}
	cut := MaxMessageText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
