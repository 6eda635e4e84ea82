package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/object"

	"github.com/chathub/chathub/internal/messenger"
)

// The managers' team chat is a VK conversation the community was added to
// (Config.ManagersPeerID). A community bot sees a conversation through
// conversation_message_id only: the `id` of the messages there is 0, and
// messages.send with peer_id answers 0 instead of the new message's id. So
// in that conversation every message id the adapter hands out or reads is a
// conversation_message_id: a post is sent with peer_ids (whose answer
// carries it), a reply is read from reply_message, and a post "as a reply"
// forwards the message it answers with is_reply (reply_to does not work
// for community bots in conversations).

// teamMessage translates a message of the managers' team chat: Team set,
// Chat the conversation, AuthorID the member who wrote (users.get fills
// Profile), MessageID its conversation_message_id and ReplyToID the
// conversation_message_id of the community's message it replies to (a
// reply to a colleague's message is no answer to a client). Service
// messages and other communities' messages are skipped (nil). A leading
// mention of the community ("[club777|Магазин], …", how a manager
// addresses the bot) is cut from the text.
func (b *Bot) teamMessage(m inMessage) *messenger.Update {
	switch {
	case m.Action != nil:
		b.log.Debug("team chat service message ignored", "action", m.Action.Type)
		return nil
	case m.FromID <= 0:
		b.log.Debug("team chat message without a human sender ignored", "from", m.FromID)
		return nil
	}
	u := &messenger.Update{
		Chat: messenger.ChatKey{Platform: messenger.VK, ID: strconv.Itoa(m.PeerID)},
		Kind: messenger.KindMessage, Text: b.cutMention(m.Text), Time: unixTime(m.Date),
		Team: true, AuthorID: strconv.Itoa(m.FromID),
	}
	if strings.TrimSpace(u.Text) == "" {
		u.Kind = messenger.KindUnsupported
	}
	if m.ConvID > 0 {
		u.MessageID = strconv.Itoa(m.ConvID)
	}
	group := b.GroupID()
	if r := m.ReplyMessage; r != nil && r.ConvID > 0 && (group == 0 || r.FromID == -group) {
		u.ReplyToID = strconv.Itoa(r.ConvID)
	}
	return u
}

// mention is a leading mention of a community in a message's text, as VK
// renders it: "[club777|Магазин]" (or "[public777|…]"), then punctuation
// and spaces.
var mention = regexp.MustCompile(`^\s*\[(?:club|public)(\d+)\|[^\]]*\][\s,.:!]*`)

// cutMention returns text without a leading mention of this community.
func (b *Bot) cutMention(text string) string {
	m := mention.FindStringSubmatch(text)
	if m == nil || m[1] != strconv.Itoa(b.GroupID()) {
		return text
	}
	return text[len(m[0]):]
}

// sendPeer returns the VK peer id of chat for Send: a private chat, or the
// managers' team chat (no other conversation).
func (b *Bot) sendPeer(chat messenger.ChatKey) (int, error) {
	if id, err := strconv.Atoi(chat.ID); err == nil && chat.Platform == messenger.VK &&
		b.cfg.ManagersPeerID != 0 && id == b.cfg.ManagersPeerID {
		return id, nil
	}
	return peerOf(chat)
}

// conversation reports whether peer is a conversation, not a private chat.
func conversation(peer int) bool { return peer > chatPeerBase }

// replyForward is messages.send's forward parameter that makes a message
// in conversation peer a reply to its message convID.
func replyForward(peer, convID int) string {
	return object.MessagesForward{PeerID: peer, ConversationMessageIDs: []int{convID}, IsReply: true}.ToJSON()
}

// sendConversationOne makes one messages.send to a conversation (p has
// peer_ids with the one peer) and returns the new message's
// conversation_message_id. When VK refuses the reply (the message it
// answers is gone, or may not be forwarded), the message goes again
// without it, as OutMessage.ReplyToID promises.
func (b *Bot) sendConversationOne(ctx context.Context, p api.Params) (int, error) {
	id, err := b.sendPeerIDsOne(ctx, p)
	if err == nil || p["forward"] == nil || !refusedForward(err) {
		return id, err
	}
	b.log.Debug("VK refused the reply in the team chat; sending it without", "err", b.wrap(ctx, "messages.send", err))
	q := make(api.Params, len(p))
	for k, v := range p {
		if k != "forward" {
			q[k] = v
		}
	}
	return b.sendPeerIDsOne(ctx, q)
}

// refusedForward reports an error of messages.send that a forward
// parameter explains: invalid (100), too many forwarded messages (913),
// cannot forward these (921, 969).
func refusedForward(err error) bool {
	switch ErrorCode(err) {
	case 100, 913, 921, 969:
		return true
	}
	return false
}

// sendPeerIDsOne makes one messages.send with peer_ids and reads its one
// peer's answer: the conversation_message_id, or the peer's error.
func (b *Bot) sendPeerIDsOne(ctx context.Context, p api.Params) (int, error) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	raw, err := b.call(ctx, "messages.send", p)
	if err != nil {
		return 0, err
	}
	var results []peerResult
	if err := json.Unmarshal(raw, &results); err != nil || len(results) != 1 {
		return 0, errors.Join(fmt.Errorf("decode the peer_ids answer %.60q", raw), messenger.ErrTransient, err)
	}
	r := results[0]
	switch {
	case r.Error != nil:
		return 0, &api.Error{Code: api.ErrorType(r.Error.Code), Message: r.Error.Description}
	case r.ConvID <= 0:
		return 0, fmt.Errorf("no conversation_message_id in the answer %.60q: %w", raw, messenger.ErrTransient)
	}
	return r.ConvID, nil
}
