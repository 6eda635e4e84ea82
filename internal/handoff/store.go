package handoff

import (
	"context"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Store keeps requests and transcripts (internal/store/postgres
// implements it on PostgreSQL and SQLite). Every claim is a conditional
// update, so that of several processes exactly one wins it; a claim whose
// lease passed (its process died) may be claimed again.
type Store interface {
	RequestStore
	ReplyStore
	ReturnStore
	TranscriptStore
	TeamChatStore
}

// RequestStore reads and takes requests.
type RequestStore interface {
	// ListHandoffs lists requests for the inbox (see Filter).
	ListHandoffs(ctx context.Context, f Filter) ([]Request, error)
	// CountHandoffs counts the inbox's tabs for manager; sla counts the
	// live requests waiting since before now-sla as OverSLA.
	CountHandoffs(ctx context.Context, manager string, now time.Time, sla time.Duration) (Counts, error)
	// GetHandoff returns request id; ErrNotFound when none.
	GetHandoff(ctx context.Context, id int64) (Request, error)
	// LiveHandoffOf returns the client's live request; ErrNotFound when none.
	LiveHandoffOf(ctx context.Context, clientID int64) (Request, error)
	// LiveHandoff reports whether the chat's client has a live request
	// (the dialog asks it before keeping the bot silent).
	LiveHandoff(ctx context.Context, key messenger.ChatKey) (bool, error)
	// TakeHandoff assigns a waiting request to manager (and makes manager
	// the client's responsible manager, clients.assigned_manager) and
	// returns it. Taking one's own request again is no change. Another
	// manager's request: *TakenError; a request no longer live: ErrClosed.
	TakeHandoff(ctx context.Context, id int64, manager string, now time.Time) (Request, error)
	// FirstReplyTimes lists the time to the first manager reply of every
	// request first answered at or after since.
	FirstReplyTimes(ctx context.Context, since time.Time) ([]ReplyTime, error)
}

// ReplyStore queues, claims and settles managers' replies.
type ReplyStore interface {
	// QueueReply writes m (a manager's reply to request id: Direction out,
	// AuthorKind manager, Status queued) into the request's client's
	// transcript and returns it with its id. A request no longer live:
	// ErrClosed.
	QueueReply(ctx context.Context, id int64, m crm.Message) (crm.Message, error)
	// ClaimReplies claims up to limit queued replies (or ones whose
	// sending claim expired) for lease: their status becomes sending. With
	// only > 0 it claims that message alone (when it is claimable).
	ClaimReplies(ctx context.Context, now time.Time, lease time.Duration, limit int, only int64) ([]Outgoing, error)
	// FinishReply settles a claimed reply: MessageSent with the platform's
	// message id (the request's first_reply_at is set if unset, its
	// waiting_since cleared, its last_activity_at stamped), MessageFailed
	// with the reason, or MessageQueued to try again later.
	FinishReply(ctx context.Context, msgID int64, status, platformMsgID, reason string, now time.Time) error
	// GetMessage returns one transcript message; ErrNotFound when none.
	GetMessage(ctx context.Context, msgID int64) (crm.Message, error)
}

// ReturnStore gives chats back to the bot.
type ReturnStore interface {
	// RequestReturn marks live request id returning (by, reason and the
	// scenario to start, "" to resume the paused step). A request already
	// closed or returning: ErrClosed.
	RequestReturn(ctx context.Context, id int64, by, reason, scenario string, now time.Time) error
	// ClaimReturns claims up to limit requests to give back to the bot for
	// lease: those returning whose claim expired, and the live ones whose
	// last activity was before idleBefore (made returning with reason
	// CloseIdle). A zero idleBefore claims no idle ones.
	ClaimReturns(ctx context.Context, now time.Time, lease time.Duration, idleBefore time.Time, limit int) ([]Request, error)
	// CloseHandoff closes a returning request once the chat is with the
	// bot again.
	CloseHandoff(ctx context.Context, id int64, now time.Time) error
	// PostponeReturn records a failed try of returning request id: its
	// ReturnAttempts become attempts, its ReturnError why, and its claim
	// holds until next, so no process tries it again before then. A
	// request no longer returning: ErrClosed.
	PostponeReturn(ctx context.Context, id int64, attempts int, why string, next time.Time) error
	// FailReturn closes returning request id whose return was given up:
	// close reason CloseReturnFailed, ReturnError why, and note (a system
	// message) written into the client's transcript, in one transaction.
	// Closing a closed request is no change (and writes no note).
	FailReturn(ctx context.Context, id int64, why string, note crm.Message, now time.Time) error
	// OpenHandoffs counts the live requests and, of those, the ones no
	// manager took and the ones waiting since before now-sla.
	OpenHandoffs(ctx context.Context, now time.Time, sla time.Duration) (open, waiting, overSLA int, err error)
}

// TranscriptStore reads and trims conversation records.
type TranscriptStore interface {
	// Transcript returns a page of the client's messages (see Page).
	Transcript(ctx context.Context, clientID int64, p Page) ([]crm.Message, error)
	// AppendMessage writes one message (a system note, say) and returns
	// its id.
	AppendMessage(ctx context.Context, m crm.Message) (int64, error)
	// PurgeMessages deletes up to limit messages created before before and
	// returns how many it deleted.
	PurgeMessages(ctx context.Context, before time.Time, limit int) (int64, error)
}

// TeamChatStore keeps the managers' chats' posts. A process may run
// several team chats (one in Telegram, one in VK): chat is the team chat's
// key (TeamChat.StoreKey), and the announcing claims and the forwarded
// marks are kept per chat, so a request announced in one chat is still
// announced, once, in the other.
type TeamChatStore interface {
	// ClaimAnnouncements claims up to limit live requests chat was not
	// told of yet (or whose announcing claim there expired) for lease.
	ClaimAnnouncements(ctx context.Context, chat string, now time.Time, lease time.Duration, limit int) ([]Request, error)
	// MarkAnnounced records the post announcing request id in chat (the
	// post's message id), ends chat's claim and sets the request's
	// announced_at when it is its first announcement.
	MarkAnnounced(ctx context.Context, id int64, chat, messageID string, now time.Time) error
	// AddPost records another post of request id in the team chat (a
	// forwarded client message), so replies to it reach the request too.
	AddPost(ctx context.Context, id int64, chat, messageID string) error
	// HandoffByPost returns the request a team chat post belongs to;
	// ErrNotFound when none.
	HandoffByPost(ctx context.Context, chat, messageID string) (Request, error)
	// PendingForwards returns up to limit live requests announced in chat
	// with client messages newer than their forwarded mark there, each
	// with those messages (oldest first, at most 20).
	PendingForwards(ctx context.Context, chat string, limit int) ([]Forward, error)
	// AdvanceForward moves request id's forwarded mark in chat from from
	// to to, reporting whether it was still from (one process wins the
	// batch).
	AdvanceForward(ctx context.Context, id int64, chat string, from, to int64) (bool, error)
}

// Forward is a request's client messages not yet forwarded to the team chat.
type Forward struct {
	Request  Request
	From     int64 // the request's forwarded mark in the team chat
	Messages []crm.Message
}
