package account

import "time"

// AuditEntry is one line of the audit log: who did what to which object,
// when, with details (never a password or a client's message text).
type AuditEntry struct {
	ID int64
	At time.Time
	// Actor is the user's name ("cli" for the command line without a
	// user, "api" for the bearer-token API).
	Actor string
	// Action is a dotted verb, one of AuditActions (the Action…
	// constants), e.g. "login", "campaign.start", "user.remove".
	Action string
	// Object names what was acted on, e.g. "campaign 12", "segment vip",
	// "user anna"; empty for a login.
	Object string
	// Details is free text for people (a campaign's name, the fields
	// changed, the client's address for a login).
	Details string
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	// Actor and Action, when set, must match exactly.
	Actor, Action string
	// Before, when not zero, is a keyset cursor: entries with ID < Before.
	Before int64
	// Limit defaults to 100.
	Limit int
}
