package vk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/SevereCloud/vksdk/v2/events"

	"github.com/chathub/chathub/internal/messenger"
)

// chatPeerBase: peer ids from 2e9 up are group chats, not private dialogues.
const chatPeerBase = 2_000_000_000

// inMessage is the part of a message_new message the adapter reads. It is
// decoded by hand instead of into vksdk's object.MessagesMessage so that an
// unexpected attachment shape cannot make the whole event undecodable:
// attachments and geo stay raw and only the first attachment's type is
// read (see mediaOf).
type inMessage struct {
	ID          int             `json:"id"`
	ConvID      int             `json:"conversation_message_id"`
	Date        int64           `json:"date"`
	FromID      int             `json:"from_id"`
	PeerID      int             `json:"peer_id"`
	Text        string          `json:"text"`
	Payload     string          `json:"payload"`
	Ref         string          `json:"ref"`
	Attachments json.RawMessage `json:"attachments"`
	Geo         json.RawMessage `json:"geo"`
	// ReplyMessage is the message this one replies to (in a conversation:
	// its conversation_message_id and author); Action is set on a
	// conversation's service messages (a member joined, the title
	// changed…). Both are read for the managers' team chat only.
	ReplyMessage *replied `json:"reply_message"`
	Action       *struct {
		Type string `json:"type"`
	} `json:"action"`
}

// replied is the part of a reply_message the adapter reads.
type replied struct {
	ConvID int `json:"conversation_message_id"`
	FromID int `json:"from_id"`
}

// messageNew is the message_new object (API 5.103+ wraps the message).
type messageNew struct {
	Message inMessage `json:"message"`
}

// payload is a button payload: VK's «Начать» ({"command":"start"}) or ours ({"v":…}).
type payload struct {
	Command string  `json:"command"`
	V       *string `json:"v"`
}

// translate turns the events of a batch into updates, in order, and fills
// the senders' profiles; events that carry nothing for the engine are skipped.
func (b *Bot) translate(ctx context.Context, evs []events.GroupEvent) []*messenger.Update {
	out := make([]*messenger.Update, 0, len(evs))
	for _, ev := range evs {
		if u := b.translateEvent(ev); u != nil {
			u.Chat.Bot = b.cfg.Bot
			out = append(out, u)
		}
	}
	b.attachProfiles(ctx, out)
	return out
}

// translateEvent turns one event into an update, or nil to skip it.
func (b *Bot) translateEvent(ev events.GroupEvent) *messenger.Update {
	var u *messenger.Update
	var err error
	switch ev.Type {
	case events.EventMessageNew:
		u, err = b.messageNew(ev.Object)
	case events.EventMessageAllow:
		u, err = messageAllow(ev.Object)
	case events.EventMessageDeny:
		u, err = messageDeny(ev.Object)
	default:
		b.log.Debug("event ignored", "type", string(ev.Type), "event", ev.EventID)
		return nil
	}
	if err != nil {
		// A poison event: skipped (acknowledged) rather than blocking the stream.
		b.log.Warn("undecodable event skipped", "type", string(ev.Type), "event", ev.EventID, "err", err)
		return nil
	}
	if u == nil {
		return nil
	}
	u.ID = eventID(ev)
	return u
}

// eventID is the event's event_id, or a hash of the event when VK sent none
// (older API versions), so dedupe still recognises a redelivery.
func eventID(ev events.GroupEvent) string {
	if ev.EventID != "" {
		return ev.EventID
	}
	sum := sha256.Sum256(append([]byte(ev.Type+"\x00"), ev.Object...))
	return "h" + hex.EncodeToString(sum[:16])
}

func (b *Bot) messageNew(raw json.RawMessage) (*messenger.Update, error) {
	var obj messageNew
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	m := obj.Message
	if m.FromID == 0 { // API < 5.103: the object is the message itself
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
	}
	if m.PeerID == 0 {
		m.PeerID = m.FromID
	}
	if m.PeerID > chatPeerBase && m.PeerID == b.cfg.ManagersPeerID {
		return b.teamMessage(m), nil
	}
	if m.FromID <= 0 || m.PeerID >= chatPeerBase || m.PeerID != m.FromID {
		b.log.Debug("message outside a private dialogue ignored", "peer", m.PeerID)
		return nil, nil
	}
	return messageUpdate(m), nil
}

// messageUpdate classifies a private message: «Начать», our button, text, or
// something without text.
func messageUpdate(m inMessage) *messenger.Update {
	u := &messenger.Update{
		Chat: userChat(m.FromID), Kind: messenger.KindMessage, Text: m.Text, Source: m.Ref, Time: unixTime(m.Date),
		PlatformMsgID: platformMsgID(m),
	}
	var p payload
	if m.Payload != "" && json.Unmarshal([]byte(m.Payload), &p) == nil {
		switch {
		case p.Command == "start":
			u.Text = "/start"
			if m.Ref != "" {
				u.Text += " " + m.Ref
			}
			return u
		case p.V != nil:
			// A text button sends a new message: VK does not say which of our
			// messages carried the keyboard, so MessageID stays empty (the
			// user's own message could not be edited anyway).
			u.Kind, u.Value = messenger.KindButton, *p.V
			return u
		}
	}
	// A message with text stays text (an answer, a command) whatever it
	// carries; the attachment is only recorded.
	u.Media = mediaOf(m)
	if m.Text == "" {
		u.Kind = messenger.KindUnsupported
		if u.Media == "" {
			u.Media = messenger.MediaOther
		}
	}
	return u
}

// platformMsgID is the message's id for the transcript: its id, or "c"
// and its conversation_message_id when VK gave no id (0), so the two
// numberings never mix; "" when it has neither.
func platformMsgID(m inMessage) string {
	switch {
	case m.ID != 0:
		return strconv.Itoa(m.ID)
	case m.ConvID != 0:
		return "c" + strconv.Itoa(m.ConvID)
	}
	return ""
}

// vkMedia maps VK attachment types to media kinds; other types (a wall
// post, a link, a poll, a gift…) are MediaOther.
var vkMedia = map[string]string{
	"photo": messenger.MediaPhoto, "video": messenger.MediaVideo, "audio_message": messenger.MediaVoice,
	"audio": messenger.MediaAudio, "sticker": messenger.MediaSticker, "doc": messenger.MediaDocument,
}

// mediaOf names what the message carries besides text: its first
// attachment's kind, else MediaLocation for a geo point; "" for none. A
// link attachment is the preview of a link in the text, not media. An
// attachment list it cannot read counts as MediaOther.
func mediaOf(m inMessage) string {
	if len(m.Attachments) > 0 && string(m.Attachments) != "null" {
		var atts []struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(m.Attachments, &atts); err != nil {
			return messenger.MediaOther
		}
		for _, a := range atts {
			if a.Type == "link" {
				continue
			}
			if kind, ok := vkMedia[a.Type]; ok {
				return kind
			}
			return messenger.MediaOther
		}
	}
	if len(m.Geo) > 0 && string(m.Geo) != "null" {
		return messenger.MediaLocation
	}
	return ""
}

func messageAllow(raw json.RawMessage) (*messenger.Update, error) {
	var obj events.MessageAllowObject
	if err := json.Unmarshal(raw, &obj); err != nil || obj.UserID <= 0 {
		return nil, nonZero(err, "message_allow without user_id")
	}
	return &messenger.Update{
		Chat: userChat(obj.UserID), Kind: messenger.KindUnblocked, Source: obj.Key, Time: time.Now(),
	}, nil
}

func messageDeny(raw json.RawMessage) (*messenger.Update, error) {
	var obj events.MessageDenyObject
	if err := json.Unmarshal(raw, &obj); err != nil || obj.UserID <= 0 {
		return nil, nonZero(err, "message_deny without user_id")
	}
	return &messenger.Update{Chat: userChat(obj.UserID), Kind: messenger.KindBlocked, Time: time.Now()}, nil
}

// nonZero returns err, or an error saying what when err is nil.
func nonZero(err error, what string) error {
	if err != nil {
		return err
	}
	return errors.New(what)
}

func userChat(id int) messenger.ChatKey {
	return messenger.ChatKey{Platform: messenger.VK, ID: strconv.Itoa(id)}
}

func unixTime(sec int64) time.Time {
	if sec <= 0 {
		return time.Now()
	}
	return time.Unix(sec, 0)
}
