package vk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
)

// MaxPeers is how many chats one messages.send with peer_ids may address.
const MaxPeers = 100

// peerResult is one entry of VK's answer to messages.send with peer_ids
// (vksdk does not decode this shape).
type peerResult struct {
	PeerID    int `json:"peer_id"`
	MessageID int `json:"message_id"`
	// ConvID is the message's conversation_message_id (the only id a
	// community's message in a conversation has).
	ConvID int `json:"conversation_message_id"`
	Error  *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

// SendMany sends msg's text, picture and keyboard to up to MaxPeers
// private chats in one messages.send with peer_ids (intent
// promo_newsletter), paced by the community's budget like every request.
// The picture is uploaded once per process (see uploadPhoto, photoCache);
// when that fails err is set (messenger.ErrBadRequest for a picture that
// cannot be downloaded or that VK refuses). sent and errs are per chat, in
// order: a peer VK refused gets its code mapped like Send's errors
// (900/901/902/18/936 → messenger.ErrBlocked…); err is set when the request
// as a whole failed (then no chat is known to have received it).
//
// Idempotency: the random_id is derived from the key of
// messenger.WithIdempotencyKey alone (required), so every peer's retry
// carries the same random_id whatever batch it rides in; VK checks
// random_id per peer, so a peer that already got the message gets its
// existing message id back instead of a second message. The key must
// therefore name one message per recipient (a campaign).
func (b *Bot) SendMany(ctx context.Context, msg messenger.OutMessage, chats []messenger.ChatKey) ([]messenger.Sent, []error, error) {
	key, ok := messenger.IdempotencyKey(ctx)
	if !ok {
		return nil, nil, fmt.Errorf("vk: send many: an idempotency key is required: %w", messenger.ErrBadRequest)
	}
	if len(chats) == 0 || len(chats) > MaxPeers {
		return nil, nil, fmt.Errorf("vk: send many: %d chats, want 1..%d: %w", len(chats), MaxPeers, messenger.ErrBadRequest)
	}
	if (strings.TrimSpace(msg.Text) == "" && msg.ImageURL == "") || utf8.RuneCountInString(msg.Text) > maxTextRunes {
		return nil, nil, fmt.Errorf("vk: send many: text must have 1..%d characters: %w", maxTextRunes, messenger.ErrBadRequest)
	}
	peers := make([]string, len(chats))
	for i, c := range chats {
		id, err := peerOf(c)
		if err != nil {
			return nil, nil, err
		}
		peers[i] = strconv.Itoa(id)
	}
	kb, err := b.keyboardJSON(msg)
	if err != nil {
		return nil, nil, err
	}
	p := api.Params{"peer_ids": strings.Join(peers, ","), "message": msg.Text, "dont_parse_links": 1,
		"intent": "promo_newsletter", "random_id": randomID(0, "", "", 0, "many:"+key)}
	if kb != "" {
		p["keyboard"] = kb
	}
	if msg.ImageURL != "" {
		att, err := b.photos.attachment(ctx, msg.ImageURL)
		if err != nil {
			return nil, nil, err
		}
		p["attachment"] = att
		if strings.TrimSpace(msg.Text) == "" {
			p["message"] = ""
		}
	}
	cctx, cancel := callContext(ctx)
	defer cancel()
	raw, err := b.call(cctx, "messages.send", p)
	if err != nil {
		return nil, nil, b.wrap(ctx, fmt.Sprintf("messages.send to %d peers", len(chats)), err)
	}
	return b.splitPeers(ctx, raw, peers)
}

// splitPeers maps a peer_ids answer back to the chats, in order.
func (b *Bot) splitPeers(ctx context.Context, raw json.RawMessage, peers []string) ([]messenger.Sent, []error, error) {
	var results []peerResult
	if err := json.Unmarshal(raw, &results); err != nil {
		return nil, nil, fmt.Errorf("vk: decode the peer_ids answer %.60q: %w: %w", raw, messenger.ErrTransient, err)
	}
	byPeer := make(map[string]peerResult, len(results))
	for _, r := range results {
		byPeer[strconv.Itoa(r.PeerID)] = r
	}
	sent := make([]messenger.Sent, len(peers))
	errs := make([]error, len(peers))
	for i, p := range peers {
		r, ok := byPeer[p]
		switch {
		case !ok:
			errs[i] = fmt.Errorf("vk: messages.send: no answer for peer %s: %w", p, messenger.ErrTransient)
		case r.Error != nil:
			errs[i] = b.wrap(ctx, "messages.send to "+p, &api.Error{Code: api.ErrorType(r.Error.Code), Message: r.Error.Description})
		default:
			sent[i] = messenger.Sent{MessageID: strconv.Itoa(r.MessageID)}
		}
	}
	return sent, errs, nil
}
