package telegram

import (
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/chathub/chathub/internal/messenger"
)

// translate turns a Telegram update into a messenger.Update; nil means the
// update is not for the pipeline (groups, channels, edits, inline mode...)
// and reason says why. now stamps updates that carry no date. team is the
// managers' team chat (0: none): its messages become Team updates (see
// fromTeam); botID is the bot's own user id (0: unknown).
func translate(u *tgbotapi.Update, now time.Time, team, botID int64) (out *messenger.Update, reason string) {
	switch {
	case u.Message != nil && team != 0 && u.Message.Chat != nil && u.Message.Chat.ID == team:
		return fromTeam(u.UpdateID, u.Message, botID)
	case u.Message != nil:
		return fromMessage(u.UpdateID, u.Message)
	case u.CallbackQuery != nil:
		return fromCallback(u.UpdateID, u.CallbackQuery, now)
	case u.MyChatMember != nil:
		return fromMember(u.UpdateID, u.MyChatMember)
	}
	return nil, "unhandled update kind " + updateKind(u)
}

// base is the part every translated update shares.
func base(updateID int, user *tgbotapi.User, kind messenger.UpdateKind, at time.Time) *messenger.Update {
	return &messenger.Update{
		ID:      strconv.Itoa(updateID),
		Chat:    messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(user.ID, 10)},
		Kind:    kind,
		Profile: profile(user),
		Time:    at,
	}
}

func profile(u *tgbotapi.User) *messenger.Profile {
	return &messenger.Profile{FirstName: u.FirstName, LastName: u.LastName, Username: u.UserName, Language: u.LanguageCode}
}

func private(c *tgbotapi.Chat) bool { return c != nil && c.Type == "private" }

func fromMessage(id int, m *tgbotapi.Message) (*messenger.Update, string) {
	switch {
	case !private(m.Chat):
		return nil, "message outside a private chat"
	case m.From == nil || m.From.IsBot:
		return nil, "message without a human sender"
	case isService(m):
		return nil, "service message"
	}
	at := time.Unix(int64(m.Date), 0)
	var u *messenger.Update
	switch {
	case m.Text != "":
		u = base(id, m.From, messenger.KindMessage, at)
		u.Text = m.Text
	case m.Contact != nil:
		u = base(id, m.From, messenger.KindContact, at)
		u.Contact = contact(m.Contact)
	default:
		u = base(id, m.From, messenger.KindUnsupported, at)
		u.Media, u.Text = mediaKind(m), m.Caption
	}
	u.PlatformMsgID = strconv.Itoa(m.MessageID)
	return u, ""
}

// mediaKind names what a message without text carries (a messenger
// Media* kind). Animation comes before document (Telegram sends a GIF with
// both) and venue with location (a venue carries its point).
func mediaKind(m *tgbotapi.Message) string {
	switch {
	case len(m.Photo) > 0:
		return messenger.MediaPhoto
	case m.Video != nil || m.VideoNote != nil || m.Animation != nil:
		return messenger.MediaVideo
	case m.Voice != nil:
		return messenger.MediaVoice
	case m.Audio != nil:
		return messenger.MediaAudio
	case m.Sticker != nil:
		return messenger.MediaSticker
	case m.Document != nil:
		return messenger.MediaDocument
	case m.Location != nil || m.Venue != nil:
		return messenger.MediaLocation
	}
	return messenger.MediaOther
}

// fromTeam translates a message of the managers' team chat: Team set, Chat
// the group, AuthorID and Profile its author, MessageID the message itself.
// ReplyToID is set only for a reply to one of this bot's messages (when
// botID is known): a manager answering a colleague is no answer to a
// client. An anonymous group admin writes as the group; the admin's
// signature (or "администратор") names them.
func fromTeam(id int, m *tgbotapi.Message, botID int64) (*messenger.Update, string) {
	anonymous := m.SenderChat != nil && m.SenderChat.ID == m.Chat.ID
	switch {
	case isService(m) || isGroupService(m):
		return nil, "team chat service message"
	case !anonymous && (m.From == nil || m.From.IsBot):
		return nil, "team chat message without a human sender"
	}
	kind := messenger.KindUnsupported
	if m.Text != "" {
		kind = messenger.KindMessage
	}
	u := &messenger.Update{
		ID:        strconv.Itoa(id),
		Chat:      messenger.ChatKey{Platform: messenger.Telegram, ID: strconv.FormatInt(m.Chat.ID, 10)},
		Kind:      kind,
		Text:      m.Text,
		MessageID: strconv.Itoa(m.MessageID),
		Time:      time.Unix(int64(m.Date), 0),
		Team:      true,
	}
	if anonymous {
		name := m.AuthorSignature
		if name == "" {
			name = "администратор"
		}
		u.AuthorID, u.Profile = "chat"+strconv.FormatInt(m.Chat.ID, 10), &messenger.Profile{FirstName: name}
	} else {
		u.AuthorID, u.Profile = strconv.FormatInt(m.From.ID, 10), profile(m.From)
	}
	if r := m.ReplyToMessage; r != nil && (botID == 0 || r.From != nil && r.From.ID == botID) {
		u.ReplyToID = strconv.Itoa(r.MessageID)
	}
	return u, ""
}

// isGroupService reports the service messages only groups have.
func isGroupService(m *tgbotapi.Message) bool {
	return m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 || m.GroupChatCreated || m.SuperGroupChatCreated ||
		m.DeleteChatPhoto || len(m.NewChatPhoto) > 0 || m.VoiceChatStarted != nil || m.VoiceChatEnded != nil ||
		m.VoiceChatScheduled != nil || m.VoiceChatParticipantsInvited != nil
}

func contact(c *tgbotapi.Contact) *messenger.Contact {
	out := &messenger.Contact{Phone: c.PhoneNumber, FirstName: c.FirstName, LastName: c.LastName}
	if c.UserID != 0 {
		out.UserID = strconv.FormatInt(c.UserID, 10)
	}
	return out
}

// isService reports chat-service messages a client did not write.
func isService(m *tgbotapi.Message) bool {
	return m.PinnedMessage != nil || m.MessageAutoDeleteTimerChanged != nil ||
		len(m.NewChatMembers) > 0 || m.LeftChatMember != nil || m.NewChatTitle != "" ||
		m.SuccessfulPayment != nil || m.ConnectedWebsite != "" || m.ProximityAlertTriggered != nil
}

func fromCallback(id int, q *tgbotapi.CallbackQuery, now time.Time) (*messenger.Update, string) {
	switch {
	case q.From == nil:
		return nil, "callback query without a sender"
	case q.Message == nil:
		return nil, "callback query from an inline-mode message"
	case !private(q.Message.Chat):
		return nil, "callback query outside a private chat"
	case q.GameShortName != "":
		return nil, "game callback query"
	}
	u := base(id, q.From, messenger.KindButton, now)
	u.Value = q.Data
	u.Text = pressedCaption(q.Message.ReplyMarkup, q.Data)
	u.MessageID = strconv.Itoa(q.Message.MessageID)
	return u, ""
}

func fromMember(id int, m *tgbotapi.ChatMemberUpdated) (*messenger.Update, string) {
	if !private(&m.Chat) {
		return nil, "chat member change outside a private chat"
	}
	var kind messenger.UpdateKind
	switch m.NewChatMember.Status {
	case "kicked":
		kind = messenger.KindBlocked
	case "member":
		kind = messenger.KindUnblocked
	default:
		return nil, "chat member status " + m.NewChatMember.Status
	}
	return base(id, &m.From, kind, time.Unix(int64(m.Date), 0)), ""
}

// updateKind names the field an update carries, for logs.
func updateKind(u *tgbotapi.Update) string {
	kinds := []struct {
		set  bool
		name string
	}{
		{u.EditedMessage != nil, "edited_message"}, {u.ChannelPost != nil, "channel_post"},
		{u.EditedChannelPost != nil, "edited_channel_post"}, {u.InlineQuery != nil, "inline_query"},
		{u.ChosenInlineResult != nil, "chosen_inline_result"}, {u.ShippingQuery != nil, "shipping_query"},
		{u.PreCheckoutQuery != nil, "pre_checkout_query"}, {u.Poll != nil, "poll"},
		{u.PollAnswer != nil, "poll_answer"}, {u.ChatMember != nil, "chat_member"},
		{u.ChatJoinRequest != nil, "chat_join_request"},
	}
	for _, k := range kinds {
		if k.set {
			return k.name
		}
	}
	return "unknown"
}
