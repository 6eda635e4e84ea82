package crm

import "errors"

// ErrRejected marks a change a CRM store refuses for good: a value too long
// or out of its column's range, a broken constraint, a value the database
// cannot take. Retrying the same change fails the same way, so the inbound
// pipeline answers the client and moves on instead of retrying it (a store
// failure without it, such as a lost connection, is worth retrying).
var ErrRejected = errors.New("crm: change rejected")

// ErrUnavailable marks a store failure known to be temporary while the
// store still answers: a read-only database (a failover in progress), a
// full disk, a statement timeout, a serialisation conflict, a busy SQLite
// file. The same change succeeds later, so the inbound pipeline retries it
// and never gives the update up for it.
var ErrUnavailable = errors.New("crm: store temporarily unavailable")
