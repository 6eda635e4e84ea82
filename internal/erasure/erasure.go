// Package erasure erases a client's personal data at their request
// (152-FZ): the one function behind the client's own /forget in the bot,
// the console's «Удалить клиента» and DELETE /api/clients/{id}.
package erasure

import (
	"context"
	"fmt"

	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
)

// CRM deletes a client's record (*postgres.Store): the row and, by
// cascade, its tags, answers, notes, hand-offs, completions and delivery
// ledger rows (platform id, message ids). It reports whether there was a
// client; deleting a missing one is not an error.
type CRM interface {
	DeleteClient(ctx context.Context, key messenger.ChatKey) (bool, error)
}

// States deletes a chat's conversation state (*redis.Store): the state
// with its update record and unsent replies, and the chat's parked updates
// (whole messages waiting for the chat's turn). Deleting none is not an
// error.
type States interface {
	DeleteState(ctx context.Context, key messenger.ChatKey) error
}

// Eraser erases clients.
type Eraser struct {
	CRM    CRM
	States States
}

// Erase erases the client of chat key: the conversation state, then the
// CRM record with everything attached to it, then the state once more (a
// turn of that chat that ran meanwhile leaves no conversation behind). It
// reports whether there was a CRM record. It is idempotent: a retried
// erasure finishes what a failed one left.
//
// A playground client's page (localchat.ScreenKey: the conversation as the
// console shows it) is erased with the state.
func (e Eraser) Erase(ctx context.Context, key messenger.ChatKey) (bool, error) {
	if err := e.deleteStates(ctx, key); err != nil {
		return false, err
	}
	found, err := e.CRM.DeleteClient(ctx, key)
	if err != nil {
		return false, fmt.Errorf("erase %s: %w", key, err)
	}
	if err := e.deleteStates(ctx, key); err != nil {
		return false, err
	}
	return found, nil
}

// deleteStates deletes key's state and, for a playground client, its page.
func (e Eraser) deleteStates(ctx context.Context, key messenger.ChatKey) error {
	keys := []messenger.ChatKey{key}
	if key.Platform == messenger.Playground {
		keys = append(keys, localchat.ScreenKey(key))
	}
	for _, k := range keys {
		if err := e.States.DeleteState(ctx, k); err != nil {
			return fmt.Errorf("erase %s: %w", key, err)
		}
	}
	return nil
}
