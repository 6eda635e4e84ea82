package crm

import (
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// FieldValue is one value to write. Value is a string, int, bool, time.Time
// (dates) or []string (multi-select attributes), already normalised.
type FieldValue struct {
	Field string
	Value any
}

// Changes is everything one handled update asks the CRM to record. A store
// applies a Changes atomically: all of it or none.
type Changes struct {
	// Now is the time to stamp on every change (updated_at, last_seen_at, answers).
	Now time.Time
	// UpdateID is the platform id of the update these changes answer, or ""
	// for a change no update carries (a scenario started from the terminal,
	// a send that found the client blocked). A store records the append-only
	// parts (Answers, Note, Handoff, Completion) of the client's latest
	// update id once: applied again with the same UpdateID, as when an update
	// is retried or redelivered after its CRM write committed, they are not
	// recorded a second time, while the rest is applied again as usual.
	UpdateID string
	// Profile fills the platform profile fields (names, username, language, and
	// gender/birth date/city where the platform exposes them) on create, and
	// refreshes names and username afterwards. Nil leaves them alone.
	Profile *messenger.Profile
	// Set writes core columns (names from LookupField).
	Set []FieldValue
	// Attributes writes keys of the attributes JSON (without the "attributes." prefix).
	Attributes []FieldValue
	// AddTags and RemoveTags change the tag set.
	AddTags    []string
	RemoveTags []string
	// Answers are appended to the answer history.
	Answers []Answer
	// Source is a deep-link payload; it is kept only if the client has none yet
	// (first touch wins).
	Source string
	// Consent sets consent_at and subscribes the client.
	Consent bool
	// Unsubscribe clears subscribed and sets unsubscribed_at (/stop).
	Unsubscribe bool
	// Blocked / Unblocked record the client blocking or unblocking the bot.
	Blocked   bool
	Unblocked bool
	// Handoff records a request to talk to a person; nothing is recorded
	// when the client has a live request already (see HandoffActivity).
	Handoff *Handoff
	// HandoffActivity marks a client's message to the manager while the
	// chat is handed off: the live request's waiting_since (when unset),
	// last_activity_at and, for its first message, its question are
	// stamped. Nothing happens when no request is live.
	HandoffActivity *HandoffActivity
	// Messages are appended to the client's transcript (the update's
	// message and the bot's replies to it), recorded once per update like
	// Answers.
	Messages []Message
	// Note adds a note to the client card.
	Note *Note
	// Completion records that the client's conversation reached an end step
	// of a scenario (segments select on it with completed(...)).
	Completion *Completion
	// Visits record the conversation's step visits for the funnel
	// (entered, answered, passed, dropped), once per update like Answers.
	Visits []StepVisit
	// Forget deletes the client's record and everything attached to it
	// (answers, tags, notes, hand-offs, completions, deliveries) at the
	// client's own request (/forget, 152-FZ). Every other change of the set
	// is ignored: nothing of the client is written back.
	Forget bool
}

// HandoffActivity is a client's message during a hand-off.
type HandoffActivity struct {
	// Question is the message's text (the request's question when it has
	// none yet).
	Question string
	At       time.Time
}

// Completion is one conversation that reached an end step.
type Completion struct {
	ClientID  int64
	Scenario  string
	Version   string
	Step      string // the end step reached
	CreatedAt time.Time
}

// Empty reports whether c records nothing beyond last_seen_at.
func (c *Changes) Empty() bool {
	return c.Profile == nil && len(c.Set) == 0 && len(c.Attributes) == 0 &&
		len(c.AddTags) == 0 && len(c.RemoveTags) == 0 && len(c.Answers) == 0 &&
		c.Source == "" && !c.Consent && !c.Unsubscribe && !c.Blocked &&
		!c.Unblocked && c.Handoff == nil && c.HandoffActivity == nil && len(c.Messages) == 0 && c.Note == nil && c.Completion == nil && len(c.Visits) == 0 && !c.Forget
}
