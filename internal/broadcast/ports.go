package broadcast

import (
	"context"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// CampaignStore keeps campaigns (internal/store/postgres implements it).
// Lookups of a missing campaign return an error wrapping ErrNotFound.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	GetCampaign(ctx context.Context, id int64) (Campaign, error)
	ListCampaigns(ctx context.Context) ([]Campaign, error)
	// SetCampaignState moves campaign id to state to if its state is one of
	// from (a compare-and-set), stamping started_at / finished_at as the new
	// state implies; it returns the campaign as stored afterwards, or an error
	// wrapping ErrInvalidTransition when the state was not one of from.
	SetCampaignState(ctx context.Context, id int64, from []State, to State, now time.Time) (Campaign, error)
	// UpdateCampaign replaces campaign c.ID's content, schedule, overrides
	// and state with c's (stamping c.UpdatedAt) if its state is one of from
	// (a compare-and-set); an error wraps ErrNotFound for no such campaign
	// and ErrInvalidTransition when the state was not one of from.
	UpdateCampaign(ctx context.Context, c Campaign, from []State) (Campaign, error)
	// DueCampaigns returns the running campaigns and the scheduled ones whose
	// StartAt is at or before now.
	DueCampaigns(ctx context.Context, now time.Time) ([]Campaign, error)
}

// Segments compiles segment expressions and samples their clients.
type Segments interface {
	CompileSegment(ctx context.Context, expr string) (*segment.Segment, error)
	SampleSegment(ctx context.Context, seg *segment.Segment, n int) ([]crm.Client, error)
}

// Recipient is what the ledger fill and the eligibility checks need of a
// client.
type Recipient struct {
	ClientID int64
	Platform messenger.Platform
	// Bot is the client's bot (crm.Client.Bot): its rows are sent through
	// the Channel of (Platform, Bot).
	Bot            string
	PlatformUserID string
	Subscribed     bool
	Blocked        bool
	Timezone       string
	// LastBroadcastAt is when the client last received a broadcast.
	LastBroadcastAt *time.Time
	// InHandoff: the chat is with a manager (the client has a live
	// hand-off request), so no broadcast interrupts it.
	InHandoff bool
}

// Entry is one new ledger row.
type Entry struct {
	ClientID int64
	Platform messenger.Platform
	// Bot is the recipient's bot (see Recipient.Bot).
	Bot            string
	PlatformUserID string
	// Status is StatusQueued or StatusSkipped (with Reason).
	Status, Reason string
	// NotBefore delays a queued row (quiet hours); zero: now.
	NotBefore time.Time
}

// Hold is a ledger row queued until NotBefore for the end of the client's
// quiet hours.
type Hold struct {
	Recipient
	NotBefore time.Time
}

// Ledger is the delivery ledger (internal/store/postgres implements it).
type Ledger interface {
	// Recipients returns up to limit clients seg selects with an id above
	// after, in id order (one keyset page).
	Recipients(ctx context.Context, seg *segment.Segment, after int64, limit int) ([]Recipient, error)
	// AddEntries inserts rows for campaign id (a row already there is kept
	// as is) and records cursor as the campaign's fill cursor, and filled
	// when the fill is complete, in one transaction.
	AddEntries(ctx context.Context, campaignID int64, rows []Entry, cursor int64, filled bool) error
	// Claim takes up to req.Limit due queued rows of req.Platform and req.Bot in
	// campaign req.CampaignID, if it is running, for req.Worker (FOR UPDATE
	// SKIP LOCKED) and returns them with the recipient's current state.
	Claim(ctx context.Context, req ClaimRequest) ([]Claimed, error)
	// Record writes outcomes of claimed rows; sent rows stamp the client's
	// last broadcast, blocked rows mark the client blocked.
	Record(ctx context.Context, outcomes []Outcome) error
}

// LedgerAdmin is what the Service needs of the ledger beyond Ledger.
type LedgerAdmin interface {
	// SkipQueued marks every queued row of the campaign skipped with reason.
	SkipQueued(ctx context.Context, campaignID int64, reason string) error
	// Pending counts the campaign's queued rows.
	Pending(ctx context.Context, campaignID int64) (int, error)
	// DeliveryStats counts the campaign's rows by status and reason, and
	// sets Rate to the sends at or after since divided by until - since.
	DeliveryStats(ctx context.Context, campaignID int64, since, until time.Time) (Stats, error)
	// EachDelivery calls fn with every row of the campaign in client order.
	EachDelivery(ctx context.Context, campaignID int64, fn func(Delivery) error) error
	// QueuedChannels returns the distinct channels (platform, bot) of the
	// campaign's queued rows.
	QueuedChannels(ctx context.Context, campaignID int64) ([]ChannelKey, error)
	// SkipQueuedChannel marks the campaign's queued rows of ch skipped with
	// reason and returns how many it marked.
	SkipQueuedChannel(ctx context.Context, campaignID int64, ch ChannelKey, reason string) (int, error)
	// QuietHolds returns up to limit of the campaign's unclaimed rows queued
	// for the end of quiet hours (reason quiet_hours) with a client id above
	// after, in client order, with the recipient as it is now.
	QuietHolds(ctx context.Context, campaignID, after int64, limit int) ([]Hold, error)
	// MoveHolds sets each row's next attempt to its NotBefore, if the row is
	// still held for quiet hours and unclaimed; a zero NotBefore makes it due
	// at now and clears its reason.
	MoveHolds(ctx context.Context, campaignID int64, holds []Hold, now time.Time) error
	// RecipientsByID returns the recipients (as the ledger fill reads them:
	// subscription, block, timezone, last broadcast) of the clients ids.
	RecipientsByID(ctx context.Context, ids []int64) (map[int64]Recipient, error)
}

// ClaimRequest selects rows to claim.
type ClaimRequest struct {
	// Worker is the claiming process ("host:pid:n"), stored in claimed_by.
	Worker     string
	CampaignID int64
	Platform   messenger.Platform
	// Bot selects the rows of one bot of the platform (the Channel's Bot).
	Bot string
	// Limit caps the rows returned.
	Limit int
	// Lease: a claim older than this belongs to a dead process and is taken.
	Lease time.Duration
	Now   time.Time
}

// Claimed is a claimed row with the campaign id and the recipient as it is now.
type Claimed struct {
	CampaignID int64
	Recipient
	// Attempts counts claims of the row, this one included.
	Attempts int
	// Reclaimed is true when the row was claimed before by a process that
	// did not record an outcome (it died or stalled past the lease).
	Reclaimed bool
}

// Outcome is the result of one claimed row.
type Outcome struct {
	CampaignID, ClientID int64
	// Worker is the claim the outcome settles (ClaimRequest.Worker). A row
	// claimed since by another worker (this claim outlived its lease) is
	// left to that worker, unless the outcome is a send: a message that went
	// out is recorded whoever holds the row.
	Worker string
	// Status is a final status, or StatusQueued to hand the row back
	// (retry after NotBefore).
	Status, Reason string
	MessageID      string
	// Text is the text sent, for a send: the store writes it into the
	// client's transcript with the outcome.
	Text      string
	NotBefore time.Time
	At        time.Time
	// Unsent marks a row handed back without a send attempt (stopping, the
	// lease running short, the rate limiter unreachable): its claim does not
	// count towards MaxAttempts.
	Unsent bool
}

// ClientLoader loads full client cards for rendering personalised texts.
type ClientLoader interface {
	ClientsByID(ctx context.Context, ids []int64) (map[int64]*crm.Client, error)
}

// Limiter is a shared send budget (internal/store/redis implements it).
type Limiter interface {
	// Wait blocks until n units are granted; an error means nothing was granted.
	Wait(ctx context.Context, n int) error
	// Pause stops grants for every process for d (a platform's 429).
	Pause(ctx context.Context, d time.Duration) error
}

// ChatPacer spaces the messages to one chat across every process (Telegram:
// at most one message a second to a chat); internal/store/redis implements it.
type ChatPacer interface {
	// AllowChat takes the chat's next slot if it is open; if not, retryAfter
	// is how long until it opens. An error means no slot was taken.
	AllowChat(ctx context.Context, chat messenger.ChatKey) (ok bool, retryAfter time.Duration, err error)
}

// BatchSender sends one message to many chats of one platform in a request
// (VK messages.send with peer_ids). sent and errs are per chat, in order;
// err is set when the request as a whole failed.
type BatchSender interface {
	SendMany(ctx context.Context, msg messenger.OutMessage, chats []messenger.ChatKey) (sent []messenger.Sent, errs []error, err error)
}

// ScenarioCatalog tells whether a scenario exists (for scenario buttons).
type ScenarioCatalog interface {
	HasScenario(id string) bool
}

// ChannelKey names one bot the broadcaster can send through: a platform
// and the bot's name (Channel.Bot, the ledger rows' bot).
type ChannelKey struct {
	Platform messenger.Platform
	Bot      string
}

// ChannelRegistry records which bots the chathub run processes of the
// deployment broadcast through, so that rows no process can send are
// skipped (no_channel) rather than left queued for ever
// (internal/store/postgres implements it).
type ChannelRegistry interface {
	// RegisterChannels stamps chs as served by process at now.
	RegisterChannels(ctx context.Context, process string, chs []ChannelKey, now time.Time) error
	// LiveChannels returns the channels some process registered at or
	// after since.
	LiveChannels(ctx context.Context, since time.Time) ([]ChannelKey, error)
}
