package dialog

import (
	"context"
	"errors"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// ErrConflict is returned by a StateStore when the stored revision is not the
// one the caller loaded: another worker advanced the chat first.
var ErrConflict = errors.New("dialog: conversation state changed concurrently")

// StateStore keeps encoded conversation state per chat with a revision for
// compare-and-set (internal/store/redis implements it).
type StateStore interface {
	// LoadState returns the chat's state and its revision; (nil, 0, nil) when none.
	LoadState(ctx context.Context, key messenger.ChatKey) ([]byte, int64, error)
	// SaveState stores data if the current revision is rev (0: none stored yet)
	// and returns the new revision; nil data deletes the state. A different
	// current revision yields ErrConflict and changes nothing.
	SaveState(ctx context.Context, key messenger.ChatKey, data []byte, rev int64) (int64, error)
}

// ClientStore reads and writes CRM records (internal/store/postgres implements it).
type ClientStore interface {
	// GetClient returns the client with that chat key, or (nil, nil) when none.
	GetClient(ctx context.Context, key messenger.ChatKey) (*crm.Client, error)
	// ApplyChanges creates the client if needed, applies ch atomically and
	// returns the client as stored afterwards.
	ApplyChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) (*crm.Client, error)
}
