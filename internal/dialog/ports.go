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

// StoredState is what a StateStore keeps per chat.
type StoredState struct {
	// Data is the encoded conversation; nil when none is running.
	Data []byte
	// Rev is the revision for compare-and-set (0: nothing stored).
	Rev int64
	// Update is the id of the last update applied to this state.
	Update string
	// Outbox holds that update's encoded replies until their delivery is
	// confirmed (the inbound pipeline confirms it when it finishes the
	// update); nil once confirmed or when there were none.
	Outbox []byte
}

// StateStore keeps conversation state per chat with a revision for
// compare-and-set (internal/store/redis implements it).
type StateStore interface {
	// LoadState returns the chat's stored state; the zero value when none.
	LoadState(ctx context.Context, key messenger.ChatKey) (StoredState, error)
	// SaveState stores st if the current revision is st.Rev (0: none stored
	// yet) and returns the new revision. Nil Data with no Update deletes the
	// state; nil Data with an Update keeps only that update's record. A
	// different current revision yields ErrConflict and changes nothing.
	SaveState(ctx context.Context, key messenger.ChatKey, st StoredState) (int64, error)
}

// TurnStateStore is a StateStore that can write a chat's state at the end
// of the chat's turn held by this process (internal/store/redis implements
// it, for the turns of its dispatch.Gate): the write then rides on the
// round trip that ends the turn and marks the update handled, one Redis
// round trip fewer per update. The Handler uses it only for a turn that a
// rerun would decide the same way (see Handler.Handle).
type TurnStateStore interface {
	StateStore
	// SaveAtLeave hands st to the chat's turn held by this process: it is
	// written as SaveState would (compare-and-set on st.Rev) when the turn
	// is left, whether or not the update is then marked handled. A later
	// call replaces it. It reports false, keeping nothing, when this process
	// holds no turn of the chat: the caller saves with SaveState.
	SaveAtLeave(key messenger.ChatKey, st StoredState) bool
}

// Eraser erases a client at their request (/forget, 152-FZ): the CRM
// record with everything attached and the chat's conversation state
// (erasure.Eraser). It reports whether there was a record.
type Eraser interface {
	Erase(ctx context.Context, key messenger.ChatKey) (bool, error)
}

// ClientStore reads and writes CRM records (internal/store/postgres implements it).
type ClientStore interface {
	// GetClient returns the client with that chat key, or (nil, nil) when none.
	GetClient(ctx context.Context, key messenger.ChatKey) (*crm.Client, error)
	// RecordChanges creates the client if needed and applies ch atomically.
	RecordChanges(ctx context.Context, key messenger.ChatKey, ch *crm.Changes) error
}
