// Package handoff is the live hand-off of a chat from the bot to a person:
// the requests a client makes (/manager, a scenario's handoff: step, a
// keyword), the managers' inbox (waiting / mine / all), taking a request
// (one responsible manager per client), replying through the bot, giving
// the chat back to the bot (by a manager or after HANDOFF_IDLE), the
// managers' Telegram chat, and the numbers (open requests, time to the
// first manager reply).
//
// The database is the source of truth (handoffs and messages tables,
// internal/store/postgres implements Store). Everything that talks to a
// platform (a manager's reply, the return to the bot, the team chat's
// posts) is carried out by a Worker in every `chathub run` process, which
// claims the work in the database, so each reply is sent once and each
// request announced once however many processes run; the console and the
// API only write what is asked and wake their process's Worker.
package handoff

import (
	"errors"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// Status is where a request is.
type Status string

// Request statuses (the handoffs.status column).
const (
	// StatusOpen: waiting for a manager to take it.
	StatusOpen Status = "open"
	// StatusAssigned: a manager took it (Request.Manager).
	StatusAssigned Status = "assigned"
	// StatusReturning: someone gave the chat back to the bot; a Worker
	// carries it out and closes the request.
	StatusReturning Status = "returning"
	// StatusClosed: the chat is with the bot again.
	StatusClosed Status = "closed"
)

// Live reports whether the chat is still with a person (the bot silent).
func (s Status) Live() bool { return s == StatusOpen || s == StatusAssigned || s == StatusReturning }

// Why a request was closed (Request.CloseReason).
const (
	// CloseManager: a manager pressed «Вернуть боту» (or /done in the team chat).
	CloseManager = "manager"
	// CloseIdle: nothing happened in the chat for HANDOFF_IDLE.
	CloseIdle = "idle"
	// CloseReturnFailed: the return to the bot was given up (why in
	// Request.ReturnError); the chat's hand-off mark was cleared all the
	// same, so the client's next message reaches the bot.
	CloseReturnFailed = "return_failed"
)

// Request is one hand-off request as the inbox shows it: the request, the
// summary of the client's card and the last message of the chat.
type Request struct {
	ID       int64
	ClientID int64
	Chat     messenger.ChatKey
	// Client summary: the name to show (names, else @username, else the
	// platform id), phone, city, tags and the client's responsible manager.
	ClientName      string
	Phone           string
	City            string
	Tags            []string
	AssignedManager string

	// Scenario and Step are where the conversation was when the client
	// asked (the step re-asked on the return); empty outside one.
	Scenario, Step string
	Reason         string
	// Question is the client's first message to the manager (or the text
	// that came with the request).
	Question string
	Status   Status
	// Manager is who took the request; "" while it waits.
	Manager   string
	CreatedAt time.Time
	TakenAt   *time.Time
	// FirstReplyAt is the first manager reply that reached the client.
	FirstReplyAt *time.Time
	// WaitingSince is the oldest client message no manager answered yet
	// (the request's creation at first); nil when the client is answered.
	WaitingSince *time.Time
	// LastActivityAt is the last message either way (HANDOFF_IDLE counts
	// from it).
	LastActivityAt *time.Time
	ClosedAt       *time.Time
	CloseReason    string
	ClosedBy       string
	// ReturnScenario is the scenario to start on the return ("": resume
	// the paused step).
	ReturnScenario string
	// ReturnAttempts counts the failed tries of the return to the bot
	// (MaxReturnAttempts ends them); ReturnError is the last one's reason
	// (FailBlocked, FailRefused, FailGaveUp or ReturnNoBot), kept when the
	// return was given up (CloseReturnFailed).
	ReturnAttempts int
	ReturnError    string
	// AnnouncedAt is when the team chat got the request's post.
	AnnouncedAt *time.Time
	// LastMessage is the chat's newest transcript message; nil when none.
	LastMessage *crm.Message
}

// Waiting returns how long the client has waited for an answer at now;
// zero when answered or closed.
func (r *Request) Waiting(now time.Time) time.Duration {
	if r.WaitingSince == nil || !r.Status.Live() {
		return 0
	}
	return now.Sub(*r.WaitingSince)
}

// Tab is an inbox tab.
type Tab string

// Inbox tabs.
const (
	// TabWaiting: live requests no manager took yet.
	TabWaiting Tab = "waiting"
	// TabMine: live requests the viewer took.
	TabMine Tab = "mine"
	// TabAll: every live request.
	TabAll Tab = "all"
	// TabClosed: closed requests, newest first.
	TabClosed Tab = "closed"
)

// Filter selects requests for the inbox: a tab (as seen by Manager for
// TabMine) and a keyset page, at most Limit (default 50, at most 200).
// Waiting and live tabs list the longest-waiting first (WaitingSince
// ascending, the answered ones last, then by id): their next page is the
// one after the previous page's last request, AfterID with its
// WaitingSince as AfterWaiting. The closed tab lists the newest first: its
// next page is the requests with an id below BeforeID.
type Filter struct {
	Tab      Tab
	Manager  string
	BeforeID int64
	// AfterID and AfterWaiting are the live tabs' cursor (AfterID 0: the
	// first page; AfterWaiting nil: the cursor request was answered).
	AfterID      int64
	AfterWaiting *time.Time
	Limit        int
}

// Counts are the inbox's tab counts for one manager.
type Counts struct {
	Waiting, Mine, All int
	// OverSLA counts the live requests whose client waited longer than
	// HANDOFF_SLA.
	OverSLA int
}

// Page is a keyset page of a transcript: messages with an id below
// BeforeID (newest first) or, for the live view, above AfterID (oldest
// first); at most Limit (default 50, at most 200).
type Page struct {
	BeforeID, AfterID int64
	Limit             int
}

// Outgoing is a manager's reply claimed for sending: the message and the
// chat it goes to.
type Outgoing struct {
	Message crm.Message
	Chat    messenger.ChatKey
}

// ReplyTime is one request's time to its first manager reply.
type ReplyTime struct {
	Manager string
	Wait    time.Duration
}

// Stats are the hand-off numbers: open requests and the time to the first
// manager reply, overall and per manager, over a period.
type Stats struct {
	// Open counts the live requests; Waiting those no manager took yet;
	// OverSLA those whose client waited longer than HANDOFF_SLA.
	Open, Waiting, OverSLA int
	// Since is the start of the period the reply times cover.
	Since time.Time
	// Overall and PerManager (sorted by name) are the reply times.
	Overall    Quantiles
	PerManager []ManagerQuantiles
}

// Quantiles summarise reply times: how many, the median and the 90th
// percentile.
type Quantiles struct {
	Count    int
	P50, P90 time.Duration
}

// ManagerQuantiles are one manager's reply times.
type ManagerQuantiles struct {
	Manager string
	Quantiles
}

// Why a manager's reply was not delivered (crm.Message.Error of a
// MessageFailed reply); the console and the team chat translate them.
const (
	// FailBlocked: the client blocked the bot (or left the chat).
	FailBlocked = "blocked"
	// FailTooLong: the platform found the text too long.
	FailTooLong = "too_long"
	// FailRefused: the platform refused the message for good (a bad
	// request: the chat is gone, the text is malformed...).
	FailRefused = "refused"
	// FailGaveUp: the platform kept failing (outage, rate limit) past the
	// Worker's retries.
	FailGaveUp = "gave_up"
)

// ReturnNoBot is why a return to the bot failed (Request.ReturnError)
// when the chat's bot runs in no process that tried it (removed from the
// configuration, or its process stayed down).
const ReturnNoBot = "no_bot"

// Errors callers test with errors.Is / errors.As.
var (
	// ErrNotFound: no such request (or message).
	ErrNotFound = errors.New("handoff: no such request")
	// ErrClosed: the request is closed (or being returned to the bot).
	ErrClosed = errors.New("handoff: the request is closed")
	// ErrEmpty: a reply without text.
	ErrEmpty = errors.New("handoff: the reply is empty")
	// ErrNoBot: the chat's bot does not run in this process (a Returner's
	// failure); another process may run it, so it is tried again like a
	// transient failure, within MaxReturnAttempts.
	ErrNoBot = errors.New("handoff: the chat's bot does not run in this process")
)

// TakenError: another manager took the request first.
type TakenError struct{ By string }

func (e *TakenError) Error() string { return fmt.Sprintf("handoff: %s took the request first", e.By) }

// TooLongError: a reply longer than the platform allows in one message.
type TooLongError struct {
	Platform messenger.Platform
	Len, Max int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("handoff: the reply is %d characters, %s allows %d", e.Len, e.Platform, e.Max)
}

// positiveOr returns v, or def when v is not positive: a configuration's
// duration or count left unset.
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
