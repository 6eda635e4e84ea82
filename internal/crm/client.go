// Package crm holds the client portrait: the CRM record every answer lands in,
// the catalogue of its core fields, and the change set the dialog engine emits.
// It imports only the standard library and internal/messenger; storage lives
// in internal/store/postgres.
package crm

import (
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// Client is one CRM record (the client portrait, ../shared/DOMAIN.md). Every
// field but the identity is optional: people may refuse to share.
type Client struct {
	ID       int64
	Platform messenger.Platform
	// Bot is the configured bot the client talks to (a config file's bot
	// name); empty for the single bot configured by environment variables.
	Bot            string
	PlatformUserID string

	FirstName       string
	LastName        string
	Username        string
	Phone           string // E.164
	Email           string // lower-case
	Gender          string // male | female
	BirthDate       *time.Time
	Age             *int
	City            string
	Region          string
	FamilyStatus    string // single | married | divorced | widowed
	ChildrenCount   *int
	IncomeLevel     string // economy | middle | premium
	Occupation      string
	Source          string
	Language        string
	LifecycleStage  string // new | lead | customer | regular | lost
	Temperature     string // cold | warm | hot
	AssignedManager string
	Timezone        string // IANA name, used for quiet hours

	Subscribed         bool
	ConsentAt          *time.Time
	UnsubscribedAt     *time.Time
	BlockedAt          *time.Time
	HandoffRequestedAt *time.Time

	Tags       []string
	Attributes map[string]any
	// Confirmed records when each field was last given or confirmed by the client.
	Confirmed map[string]time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
	// LastSeenAt is when the client last wrote; on PostgreSQL to the minute
	// (a write less than a minute after the stored time keeps it).
	LastSeenAt time.Time
}

// Key returns the client's chat key.
func (c *Client) Key() messenger.ChatKey {
	return messenger.ChatKey{Platform: c.Platform, Bot: c.Bot, ID: c.PlatformUserID}
}

// HasTag reports whether the client carries tag.
func (c *Client) HasTag(tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Answer is one accepted answer in a client's history.
type Answer struct {
	ClientID  int64
	Scenario  string
	Version   string
	Step      string
	Field     string // where it was saved; empty when not saved
	Value     string
	CreatedAt time.Time
}

// Note is a free-text note on a client (by a manager or the system).
type Note struct {
	ClientID  int64
	Author    string
	Text      string
	CreatedAt time.Time
}

// Handoff is a client's request to talk to a person.
type Handoff struct {
	ClientID int64
	// Scenario and Step are where the conversation was (the step to re-ask
	// when the chat goes back to the bot); empty outside a questionnaire.
	Scenario string
	Step     string
	Reason   string
	// Question is what the client asked with the request (the text after
	// /manager or the keyword's message), when anything.
	Question  string
	CreatedAt time.Time
}
