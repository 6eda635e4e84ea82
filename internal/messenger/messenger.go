// Package messenger holds the platform-neutral vocabulary every adapter and the
// dialog engine share: chat keys, inbound updates, outbound messages, keyboards,
// the Sender port and the errors adapters translate platform failures into.
//
// It is a leaf package: it imports only the standard library.
package messenger

import (
	"context"
	"encoding/json"
	"time"
)

// Platform names a messaging platform.
type Platform string

// Known platforms. Terminal is the local `chathub chat` console;
// Playground is the web console's playground (one client per console user).
const (
	Telegram   Platform = "telegram"
	VK         Platform = "vk"
	Terminal   Platform = "terminal"
	Playground Platform = "playground"
)

// Valid reports whether p is one of the known platforms.
func (p Platform) Valid() bool {
	return p == Telegram || p == VK || p == Terminal || p == Playground
}

// ChatKey identifies one private conversation: a platform, the bot the user
// talks to and the user's id on the platform. Two bots of one platform see
// the same user ids, so a chat is identified by its bot too.
type ChatKey struct {
	Platform Platform
	// Bot names the configured bot (a config file's bot name); empty is the
	// single bot configured by environment variables, so keys, rows and state
	// written before several bots existed keep their meaning.
	Bot string
	ID  string
}

// String renders the key as "platform:id", or "platform/bot:id" for a named bot.
func (k ChatKey) String() string {
	if k.Bot == "" {
		return string(k.Platform) + ":" + k.ID
	}
	return string(k.Platform) + "/" + k.Bot + ":" + k.ID
}

// UpdateKind tells what an inbound update carries.
type UpdateKind int

// Update kinds.
const (
	// KindMessage is a text message (commands included).
	KindMessage UpdateKind = iota
	// KindButton is a press of a keyboard button that carries a value (Telegram
	// callback query, VK payload button).
	KindButton
	// KindContact is a shared contact card (Telegram request_contact button).
	KindContact
	// KindBlocked means the user blocked the bot / denied community messages.
	KindBlocked
	// KindUnblocked means the user unblocked the bot / allowed community messages.
	KindUnblocked
	// KindUnsupported is anything else with a chat (sticker, photo, voice...);
	// Media tells what, Text is its caption. It is never an answer or a
	// command, even with a caption.
	KindUnsupported
)

// Profile is what the platform tells about the user who wrote.
type Profile struct {
	FirstName string
	LastName  string
	Username  string
	Language  string
	// Gender, BirthDate ("dd.mm.yyyy" or "dd.mm") and City are filled where the
	// platform exposes them (VK users.get); empty otherwise.
	Gender    string
	BirthDate string
	City      string
}

// Contact is a contact card shared through the platform's contact button.
type Contact struct {
	Phone     string
	FirstName string
	LastName  string
	// UserID is the platform user the contact belongs to; empty when unknown.
	UserID string
}

// Update is one inbound event from a client, already translated by an adapter.
type Update struct {
	// ID is the platform's update id, unique per bot; used for dedupe.
	ID   string
	Chat ChatKey
	Kind UpdateKind
	// Text is the message text (KindMessage), a media message's caption
	// (KindUnsupported; empty without one) or the pressed button's caption
	// when known.
	Text string
	// Value is the pressed button's value (KindButton).
	Value string
	// MessageID is the platform id of the message whose button was pressed
	// (KindButton), so a reply can edit it; for a Team message it is the
	// manager's message itself, so the answer can reply to it; empty when
	// unknown.
	MessageID string
	// PlatformMsgID is the platform id of the client's own message that
	// carried this update (a text, a media message, a shared contact, a VK
	// text button's message), recorded in the transcript; empty when the
	// update is no message of the client (a Telegram button press, a block)
	// or the platform gives none. Unlike MessageID it is never edited or
	// replied to.
	PlatformMsgID string
	// Contact is set for KindContact.
	Contact *Contact
	// Profile is the sender's platform profile; may be nil.
	Profile *Profile
	// Source is a deep-link payload that came with the update (VK ref); Telegram's
	// arrives as the text "/start <payload>".
	Source string
	// Time is when the platform received the update.
	Time time.Time
	// ReplyToID is the platform id of the message this message replies
	// to, when it is a reply (a manager answering a post in the managers'
	// team chat); empty otherwise.
	ReplyToID string
	// Team marks a message in a managers' team chat
	// (MANAGERS_TELEGRAM_CHAT_ID, MANAGERS_VK_PEER_ID): Chat is then that
	// chat, not a client's, and AuthorID with Profile tell which manager
	// wrote. In a VK conversation MessageID and ReplyToID are
	// conversation_message_ids (a community sees no other message ids
	// there). Such updates go to internal/handoff's team chat, never to the
	// dialog.
	Team bool
	// AuthorID is the platform user id of a team-chat message's author.
	AuthorID string
	// PressMark is what the adapter shows on the pressed message once a
	// button press (KindButton) is handled, unless the handler's replies
	// edited that message (see PressMarker); Telegram's is the message's
	// inline keyboard with the pressed option marked. Only the adapter
	// that made it reads it; it travels with the update (the relay's
	// queue, parked updates), so the process that handles the press marks
	// it. Empty when there is nothing to mark (and in updates queued
	// before it existed).
	PressMark json.RawMessage `json:",omitempty"`
	// Media names what a client's message carries besides text, one of
	// the Media* kinds, for the transcript: for KindUnsupported what the
	// message is (empty when the adapter cannot tell, read as MediaOther);
	// for KindMessage an attachment sent with the text (VK keeps a photo
	// with text a text message); empty for text only.
	Media string
}

// Media kinds of a client's message (Update.Media, crm.Message.Media).
const (
	// MediaContact is a shared contact card.
	MediaContact = "contact"
	// MediaPhoto is a picture.
	MediaPhoto = "photo"
	// MediaVideo is a video: a clip, a round video message, an animation.
	MediaVideo = "video"
	// MediaVoice is a recorded voice message.
	MediaVoice = "voice"
	// MediaAudio is an audio file (music, a recording sent as a file).
	MediaAudio = "audio"
	// MediaSticker is a sticker.
	MediaSticker = "sticker"
	// MediaDocument is a file.
	MediaDocument = "document"
	// MediaLocation is a point on the map (a location, a venue).
	MediaLocation = "location"
	// MediaOther is anything else (a poll, a dice, a game, a wall post…).
	MediaOther = "other"
)

// MediaKinds lists every Media* kind, for the places that name them in
// words.
func MediaKinds() []string {
	return []string{MediaContact, MediaPhoto, MediaVideo, MediaVoice, MediaAudio, MediaSticker,
		MediaDocument, MediaLocation, MediaOther}
}

// KeyboardKind tells how buttons are attached to a message.
type KeyboardKind int

// Keyboard kinds.
const (
	// Inline buttons are attached to the message (Telegram inline keyboard,
	// VK inline keyboard) and send their Value back.
	Inline KeyboardKind = iota
	// Reply buttons replace the client's keyboard (needed for contact requests).
	Reply
)

// Button is one keyboard button.
type Button struct {
	Text  string
	Value string
	// RequestContact asks the platform to share the user's phone (reply keyboards).
	RequestContact bool
	// URL makes a link button.
	URL string
	// Selected marks a chosen option of a multi-select question.
	Selected bool
}

// Keyboard is a set of button rows.
type Keyboard struct {
	Kind KeyboardKind
	Rows [][]Button
}

// OutMessage is one message to send to a chat.
type OutMessage struct {
	Chat ChatKey
	Text string
	// ImageURL, when set, is an http(s) picture shown with Text (Text is its
	// caption, or follows it where the platform limits captions); adapters
	// that cannot show pictures ignore it.
	ImageURL string
	// Keyboard, when set, is attached to the message.
	Keyboard *Keyboard
	// RemoveKeyboard clears a reply keyboard shown earlier.
	RemoveKeyboard bool
	// EditMessageID, when set, asks the adapter to edit that earlier message
	// (text and inline keyboard) instead of sending a new one; adapters that
	// cannot edit send a new message.
	EditMessageID string
	// ReplyToID, when set, sends the message as a reply to that earlier
	// message of the chat (the team chat threads a client's messages under
	// the post announcing the request); a message the platform no longer
	// has is no error, the message is then sent without the reply.
	// Adapters that cannot reply ignore it.
	ReplyToID string
}

// Sent describes a delivered message.
type Sent struct {
	// MessageID is the platform's id of the message.
	MessageID string
}

// Sender delivers messages to a platform.
type Sender interface {
	Send(ctx context.Context, msg OutMessage) (Sent, error)
}

// PressMarker is a Sender that shows a client which button it pressed
// (Update.PressMark) once the press is handled, unless the handler's
// replies edited the pressed message themselves (a multi-select question
// answers a toggle with its new keyboard). The inbound pipeline calls
// BeginPress right before it handles such an update, in whichever process
// handles it, and the returned end right after; handled is false when the
// attempt failed (nothing is marked: the update is tried again). end must
// not wait for the platform: the mark goes out on the side.
type PressMarker interface {
	BeginPress(upd *Update) (end func(handled bool))
}
