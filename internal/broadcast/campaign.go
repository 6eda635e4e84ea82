package broadcast

import (
	"errors"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// State is where a campaign is in its lifecycle (see Transition).
type State string

// Campaign states.
const (
	// Draft: created, editable, not scheduled.
	Draft State = "draft"
	// Scheduled: starts by itself at StartAt.
	Scheduled State = "scheduled"
	// Running: the ledger is (being) filled and workers send.
	Running State = "running"
	// Paused: workers stop claiming its deliveries until Resume.
	Paused State = "paused"
	// Done: every delivery reached a final status.
	Done State = "done"
	// Cancelled: stopped for good; what was still queued is skipped.
	Cancelled State = "cancelled"
)

// Button is one button under a broadcast message: a link (URL) or a button
// that starts a scenario (Scenario, the scenario id). Exactly one of them is set.
type Button struct {
	Text, URL, Scenario string
}

// Campaign is one broadcast: who (Segment, Platforms), what (Text, Buttons,
// ImageURL) and when (StartAt).
type Campaign struct {
	ID   int64
	Name string
	// Segment is a segment expression (internal/segment, docs/SEGMENTS.md);
	// `segment("name")` refers to a saved one.
	Segment string
	// Text is a text/template over the client card: {{ .client.first_name }},
	// {{ .client.attributes.interests | join ", " }}; functions default, join,
	// lower, upper. It is sent as plain text (no markup is interpreted).
	Text    string
	Buttons []Button
	// ImageURL, when set, is an http(s) link to a picture sent with the
	// message: a photo with the text as its caption on Telegram (a photo and
	// then the text beyond 1024 characters), an uploaded photo attached on
	// VK. It is checked to be an http(s) link at creation, fetched only when
	// sent.
	ImageURL string
	// Platforms limits the campaign to these platforms; empty: all.
	Platforms []messenger.Platform
	// StartAt, when set, schedules the campaign.
	StartAt *time.Time
	State   State
	// IgnoreFrequencyCap and IgnoreQuietHours override the mailing
	// etiquette for this campaign (e.g. an urgent service notice).
	IgnoreFrequencyCap, IgnoreQuietHours bool

	CreatedAt, UpdatedAt  time.Time
	StartedAt, FinishedAt *time.Time

	// SegmentAt is the instant the segment's relative times ("ago(30d)")
	// were pinned to when the ledger fill began, so a resumed fill selects
	// the same clients; nil before the start.
	SegmentAt *time.Time
	// FillCursor is the last client id written to the ledger; Filled is true
	// once the whole segment is in it.
	FillCursor int64
	Filled     bool
}

// Preview is one sample recipient of a dry run.
type Preview struct {
	ClientID int64
	Platform messenger.Platform
	Name     string
	Text     string
	// Skipped is the reason the client would be skipped, "" if sent.
	Skipped string
}

// Stats summarises a campaign's ledger.
type Stats struct {
	Targeted, Queued, Sent, Failed, Blocked, Skipped int
	FailedByReason, SkippedByReason                  map[string]int
	// QueuedByReason counts the queued rows waiting for something:
	// quiet_hours (the client's morning), rate_limited, transient (a retry
	// after a backoff); rows due now have no reason and are not counted.
	QueuedByReason        map[string]int
	StartedAt, FinishedAt *time.Time
	Duration              time.Duration
	// Rate is sends per second: over the last minute (since the start for a
	// campaign younger than that) while the campaign has not finished, and
	// the average over the whole run (Sent / Duration) once it has.
	Rate float64
}

// Delivery statuses of the ledger.
const (
	StatusQueued  = "queued"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusBlocked = "blocked"
	StatusSkipped = "skipped"
)

// Reasons a delivery is skipped or failed (Delivery.Reason).
const (
	ReasonUnsubscribed = "unsubscribed"
	ReasonBlocked      = "blocked"
	ReasonPlatform     = "platform"
	ReasonFrequencyCap = "frequency_cap"
	ReasonCancelled    = "cancelled"
	ReasonBadRequest   = "bad_request"
	ReasonTransient    = "transient"
	ReasonRender       = "render"
	// ReasonTooLong: the text rendered for the client is longer than one
	// message (MaxMessageLen).
	ReasonTooLong    = "too_long"
	ReasonQuietHours = "quiet_hours"
	// ReasonNoChannel: no bot of the deployment sends to the client's
	// platform and bot (a terminal client of chathub chat, a bot that is not
	// configured in any running process); see docs/BROADCASTS.md.
	ReasonNoChannel = "no_channel"
	// ReasonInHandoff: the chat is with a manager (a live hand-off
	// request) when the row is filled or sent.
	ReasonInHandoff = "in_handoff"
)

// Delivery is one ledger row: the campaign's message to one client.
type Delivery struct {
	CampaignID, ClientID int64
	Platform             messenger.Platform
	PlatformUserID       string
	Status, Reason       string
	Attempts             int
	MessageID            string
	SentAt               *time.Time
	UpdatedAt            time.Time
}

// Errors of the Service; test them with errors.Is.
var (
	// ErrNotFound: no campaign with that id.
	ErrNotFound = errors.New("broadcast: campaign not found")
	// ErrInvalidTransition: the campaign's state does not allow the action.
	ErrInvalidTransition = errors.New("broadcast: invalid state transition")
)

// ValidationError is bad campaign input: Field names the field.
type ValidationError struct {
	Field, Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("campaign %s: %s", e.Field, e.Message)
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
