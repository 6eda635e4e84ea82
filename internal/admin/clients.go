package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/erasure"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/postgres"
)

// ErrNoClient is returned for a client id that names no client (never
// was, or was erased).
var ErrNoClient = errors.New("no such client")

// ClientStore is what ClientService needs of the CRM (*postgres.Store).
type ClientStore interface {
	ClientByID(ctx context.Context, id int64) (*crm.Client, error)
	EditClient(ctx context.Context, id int64, e postgres.ClientEdit) (bool, error)
	// DeleteClient erases the client's row and, by cascade, its tags,
	// answers, notes, hand-offs, completions and delivery-ledger rows.
	DeleteClient(ctx context.Context, key messenger.ChatKey) (bool, error)
}

// ChatStates deletes a chat's conversation state (*redis.Store).
type ChatStates = erasure.States

// ClientService is what people (the console, the API) do to a client
// card: edit its tags and assigned manager, and erase the client (152-FZ).
// Every change is written to the audit log as client.edit or client.delete
// with the object "client ID" and details that name what changed, never a
// value (no personal data beyond the id). The actor is the one
// account.WithActor put in the context (the console's user), else Actor.
type ClientService struct {
	Store  ClientStore
	States ChatStates
	Log    AuditLog
	// Actor is the actor when the context names none ("api").
	Actor  string
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// ClientChange is an edit of a client card.
type ClientChange struct {
	// AddTags and RemoveTags are tags as typed (crm.CheckTag rules).
	AddTags, RemoveTags []string
	// Manager, when not nil, sets the assigned manager: free text (a
	// console user's name or anyone else), at most crm.MaxTextLen
	// characters; "" clears it.
	Manager *string
}

// ErrBadEdit is wrapped by the error of an edit that cannot be made (a bad
// tag, a manager's name too long); the message says why, never the value.
var ErrBadEdit = errors.New("bad client edit")

// Edit applies ch to the client with that id and records client.edit.
// ErrNoClient when there is no such client; an error wrapping ErrBadEdit
// when ch is invalid (nothing is written).
func (s *ClientService) Edit(ctx context.Context, id int64, ch ClientChange) error {
	e, details, err := s.plan(ch)
	if err != nil {
		return err
	}
	if details == "" {
		return nil
	}
	found, err := s.Store.EditClient(ctx, id, e)
	if err != nil {
		return err // the store names the operation and the client
	}
	if !found {
		return ErrNoClient
	}
	s.record(ctx, account.ActionClientEdit, id, details)
	return nil
}

// plan checks ch and turns it into the store's edit and the audit details
// ("tags +1 -1, assigned_manager"); empty details: nothing to change.
func (s *ClientService) plan(ch ClientChange) (postgres.ClientEdit, string, error) {
	e := postgres.ClientEdit{Now: s.now()}
	for _, list := range []struct {
		in  []string
		out *[]string
	}{{ch.AddTags, &e.AddTags}, {ch.RemoveTags, &e.RemoveTags}} {
		for _, raw := range list.in {
			tag, err := crm.CheckTag(raw)
			if err != nil {
				return e, "", fmt.Errorf("%w: %w", ErrBadEdit, err)
			}
			*list.out = append(*list.out, tag)
		}
	}
	var parts []string
	if n := len(e.AddTags); n > 0 {
		parts = append(parts, "tags +"+strconv.Itoa(n))
	}
	if n := len(e.RemoveTags); n > 0 {
		parts = append(parts, "tags -"+strconv.Itoa(n))
	}
	if ch.Manager != nil {
		m := strings.TrimSpace(*ch.Manager)
		f, _ := crm.LookupField("assigned_manager")
		if why := f.Check(m); why != "" {
			return e, "", fmt.Errorf("%w: assigned manager %s", ErrBadEdit, why)
		}
		e.Manager = &m
		parts = append(parts, "assigned_manager")
	}
	return e, strings.Join(parts, ", "), nil
}

// Erase erases the client with that id (152-FZ) with erasure.Eraser —
// the function the bot's /forget uses too: the chat's conversation state
// in Redis, the CRM row with tags, answers, notes, hand-offs, completions
// and its rows of the delivery ledger (platform id, message ids) — and
// records client.delete. ErrNoClient when there is no such client.
func (s *ClientService) Erase(ctx context.Context, id int64) error {
	c, err := s.Store.ClientByID(ctx, id)
	if err != nil {
		return err
	}
	if c == nil {
		return ErrNoClient
	}
	found, err := erasure.Eraser{CRM: s.Store, States: s.States}.Erase(ctx, c.Key())
	if err != nil {
		return fmt.Errorf("erase client %d: %w", id, err)
	}
	if !found {
		return ErrNoClient
	}
	s.record(ctx, account.ActionClientDelete, id, "")
	return nil
}

func (s *ClientService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// record writes the audit entry; a failure is logged (the change stands,
// as with Audited).
func (s *ClientService) record(ctx context.Context, action string, id int64, details string) {
	actor, ok := account.ActorIn(ctx)
	if !ok {
		actor = s.Actor
	}
	object := "client " + strconv.FormatInt(id, 10)
	if err := s.Log.Record(ctx, account.AuditEntry{Actor: actor, Action: action, Object: object, Details: details}); err != nil {
		logger := s.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.ErrorContext(ctx, "audit log write failed; the change was made", "action", action, "object", object, "err", err)
	}
}
