package vk

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
)

// maxTextRunes is VK's message length limit, in characters.
const maxTextRunes = 4096

// Send delivers msg with messages.send (or edits msg.EditMessageID with
// messages.edit, falling back to a new message when the edit fails). Texts
// longer than 4096 characters go as several messages, split at line or word
// boundaries; the keyboard rides on the last one, whose id Send returns.
// ImageURL is uploaded once per process (see uploadPhoto, photoCache) and
// attached to the first message; a message with a picture is always new.
//
// Idempotency: each part's random_id is a hash of (chat, part text, keyboard,
// part index, key). The key is the one from WithIdempotencyKey when ctx has
// it. Otherwise it is a per-process nonce that is remembered while a send of
// the same chat, text and keyboard has failed transiently and forgotten once
// such a send succeeds or fails for good: a retried send reuses the nonce and
// VK delivers it once, while an identical later reply (the same re-ask after a
// second wrong answer) gets a new nonce and is delivered again. Trade-off of
// the fallback: the memory is per process and bounded (10,000 entries), so a
// retry from another process or after a restart can duplicate, and a send
// identical to one whose transient failure was never retried may be
// swallowed if that earlier attempt in fact reached VK.
func (b *Bot) Send(ctx context.Context, msg messenger.OutMessage) (messenger.Sent, error) {
	peer, err := b.sendPeer(msg.Chat)
	if err != nil {
		return messenger.Sent{}, err
	}
	if strings.TrimSpace(msg.Text) == "" && msg.ImageURL == "" {
		return messenger.Sent{}, fmt.Errorf("vk: send to %s: empty text: %w", msg.Chat, messenger.ErrBadRequest)
	}
	kb, err := b.keyboardJSON(msg)
	if err != nil {
		return messenger.Sent{}, err
	}
	if msg.EditMessageID != "" && msg.ImageURL == "" && !conversation(peer) {
		if sent, done, err := b.edit(ctx, peer, msg, kb); done {
			return sent, err
		}
	}
	out := outgoing{peer: peer, text: msg.Text, kb: kb, image: msg.ImageURL}
	if conversation(peer) && msg.ReplyToID != "" {
		if out.replyTo, err = strconv.Atoi(msg.ReplyToID); err != nil || out.replyTo <= 0 {
			return messenger.Sent{}, fmt.Errorf("vk: send to %s: reply to %q is not a conversation_message_id: %w",
				msg.Chat, msg.ReplyToID, messenger.ErrBadRequest)
		}
	}
	if out.image != "" {
		if out.attachment, err = b.photos.attachment(ctx, out.image); err != nil {
			return messenger.Sent{}, err
		}
		if strings.TrimSpace(out.text) == "" {
			out.text = ""
		}
	}
	return b.sendNew(ctx, out)
}

// outgoing is a new message ready for messages.send.
type outgoing struct {
	peer int
	text string
	kb   string // the keyboard's JSON; "" for none
	// image is the picture's URL and attachment its uploaded photo; both ""
	// for none.
	image, attachment string
	// replyTo is the conversation_message_id the message answers in the
	// team chat's conversation (0: none; private chats show no replies).
	replyTo int
}

// peerOf returns the VK peer id of a private chat (see Bot.sendPeer for
// the team chat's conversation).
func peerOf(chat messenger.ChatKey) (int, error) {
	id, err := strconv.Atoi(chat.ID)
	if chat.Platform != messenger.VK || err != nil || id <= 0 || id >= chatPeerBase {
		return 0, fmt.Errorf("vk: send: %q is not a VK user chat: %w", chat.String(), messenger.ErrBadRequest)
	}
	return id, nil
}

// edit tries messages.edit. done is false when the caller should send a new
// message instead: the message cannot be edited (a non-inline keyboard, a
// text over one message) or VK refused the edit for a reason that a new
// message does not share.
func (b *Bot) edit(ctx context.Context, peer int, msg messenger.OutMessage, kb string) (messenger.Sent, bool, error) {
	id, err := strconv.Atoi(msg.EditMessageID)
	// Only inline keyboards can be edited (a keyboard's JSON starts with its
	// inline flag when set: see the field order of keyboard).
	inline := kb == "" || strings.HasPrefix(kb, `{"inline":true,`)
	if err != nil || !inline || utf8.RuneCountInString(msg.Text) > maxTextRunes {
		return messenger.Sent{}, false, nil
	}
	p := api.Params{"peer_id": peer, "message_id": id, "message": msg.Text, "dont_parse_links": 1}
	if kb != "" {
		p["keyboard"] = kb
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	if _, err := b.call(ctx, "messages.edit", p); err != nil {
		werr := b.wrap(ctx, fmt.Sprintf("messages.edit %d in %d", id, peer), err)
		if errors.Is(werr, messenger.ErrTransient) || errors.Is(werr, messenger.ErrBlocked) || ctx.Err() != nil {
			return messenger.Sent{}, true, werr
		}
		b.log.Debug("edit failed; sending a new message", "chat", peer, "err", werr)
		return messenger.Sent{}, false, nil
	}
	return messenger.Sent{MessageID: msg.EditMessageID}, true, nil
}

// sendNew sends o's text (split into parts) with the picture on the first
// part and the keyboard on the last.
func (b *Bot) sendNew(ctx context.Context, o outgoing) (messenger.Sent, error) {
	key, fromCtx := messenger.IdempotencyKey(ctx)
	content := contentHash(o.peer, o.text, o.kb, o.image)
	if !fromCtx {
		key = b.pending.GetOrPut(content, b.nonce)
	}
	if o.image != "" {
		// The picture's URL, not its attachment (each process uploads its
		// own), so a retry from another process keeps the random_id.
		key += "\x00image:" + o.image
	}
	sent, err := b.sendParts(ctx, o, splitText(o.text, maxTextRunes), key)
	if !fromCtx && !mayRetry(err) {
		b.pending.Delete(content)
	}
	return sent, err
}

func (b *Bot) sendParts(ctx context.Context, o outgoing, parts []string, key string) (messenger.Sent, error) {
	var id int
	peer, kb := o.peer, o.kb
	for i, part := range parts {
		p := api.Params{"peer_id": peer, "message": part, "dont_parse_links": 1}
		if i == 0 && o.attachment != "" {
			p["attachment"] = o.attachment
		}
		partKB := ""
		if i == len(parts)-1 && kb != "" {
			partKB = kb
			p["keyboard"] = kb
		}
		p["random_id"] = randomID(peer, part, partKB, i, key)
		var err error
		send := b.sendOne
		if conversation(peer) {
			// A community's message in a conversation is known by its
			// conversation_message_id only: peer_ids answers it.
			delete(p, "peer_id")
			p["peer_ids"], send = strconv.Itoa(peer), b.sendConversationOne
			if i == 0 && o.replyTo > 0 {
				p["forward"] = replyForward(peer, o.replyTo)
			}
		}
		if id, err = send(ctx, p); err != nil {
			return messenger.Sent{}, b.wrap(ctx, fmt.Sprintf("messages.send to %d (part %d/%d)", peer, i+1, len(parts)), err)
		}
	}
	return messenger.Sent{MessageID: strconv.Itoa(id)}, nil
}

// sendOne makes one messages.send (alone or coalesced) and returns the id.
func (b *Bot) sendOne(ctx context.Context, p api.Params) (int, error) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	raw, err := b.call(ctx, "messages.send", p)
	if err != nil {
		return 0, err
	}
	var id int
	if err := json.Unmarshal(raw, &id); err != nil {
		return 0, fmt.Errorf("decode the message id %.40q: %w", raw, err)
	}
	return id, nil
}

// mayRetry reports whether a send failed in a way that may have reached VK
// and is worth retrying: its nonce must then be kept for the retry.
func mayRetry(err error) bool {
	return errors.Is(err, messenger.ErrTransient) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// nonce is a fresh idempotency key, unique in this process and across restarts.
func (b *Bot) nonce() string {
	return b.epoch + ":" + strconv.FormatUint(b.seq.Add(1), 10)
}

// randomID derives VK's int32 random_id (never 0, which disables the check).
func randomID(peer int, text, kb string, part int, key string) int32 {
	sum := hashFields(strconv.Itoa(peer), text, kb, strconv.Itoa(part), key)
	v := binary.BigEndian.Uint32(sum[:4]) & 0x7fffffff
	if v == 0 {
		v = 1
	}
	return int32(v)
}

// contentHash identifies what a send delivers, for the pending-nonce memory.
func contentHash(peer int, text, kb, image string) uint64 {
	fields := []string{strconv.Itoa(peer), text, kb}
	if image != "" {
		fields = append(fields, image)
	}
	sum := hashFields(fields...)
	return binary.BigEndian.Uint64(sum[:8])
}

// hashFields hashes length-prefixed fields, so no two field lists collide by
// concatenation.
func hashFields(fields ...string) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// splitText cuts text into parts of at most limit characters, preferring the
// last line break, then the last space, inside each part; a text of only
// spaces and line breaks is one part of at most limit characters (VK
// refuses it, as it refuses an empty one). It takes time
// linear in len(text): each part counts only the next limit characters,
// never the whole rest of the text.
func splitText(text string, limit int) []string {
	parts, _ := split(text, limit)
	return parts
}

// split is splitText; scanned counts the bytes its length checks decoded
// (the tests check it stays within a small multiple of len(text)).
func split(text string, limit int) (parts []string, scanned int) {
	in := text
	for {
		end := prefixLen(text, limit)
		scanned += end
		if end == len(text) {
			break
		}
		cut := cutPoint(text[:end])
		if part := strings.TrimRight(text[:cut], " \n"); part != "" {
			parts = append(parts, part)
		}
		text = strings.TrimLeft(text[cut:], " \n")
	}
	if text != "" {
		parts = append(parts, text)
	}
	if len(parts) == 0 { // empty, or spaces and line breaks only: as it is
		parts = append(parts, in[:prefixLen(in, limit)])
	}
	return parts, scanned
}

// prefixLen is the byte length of text's first limit characters (all of
// text when it has no more).
func prefixLen(text string, limit int) int {
	runes := 0
	for i := range text {
		if runes == limit {
			return i
		}
		runes++
	}
	return len(text)
}

// cutPoint returns the byte offset to cut window (a part's first limit
// characters) at: after its last newline or space, else at its end.
func cutPoint(window string) int {
	for _, sep := range []string{"\n", " "} {
		if i := strings.LastIndex(window, sep); i > 0 {
			return i + 1
		}
	}
	return len(window)
}
