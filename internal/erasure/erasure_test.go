package erasure

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

type fakeStores struct {
	calls    []string
	found    bool
	stateErr error
}

func (f *fakeStores) DeleteClient(context.Context, messenger.ChatKey) (bool, error) {
	f.calls = append(f.calls, "crm")
	return f.found, nil
}

func (f *fakeStores) DeleteState(context.Context, messenger.ChatKey) error {
	f.calls = append(f.calls, "state")
	return f.stateErr
}

// TestErase: state, CRM, state again; a failing state store stops it
// before the CRM record is touched.
func TestErase(t *testing.T) {
	t.Parallel()
	key := messenger.ChatKey{Platform: messenger.Telegram, ID: "1"}
	f := &fakeStores{found: true}
	found, err := Eraser{CRM: f, States: f}.Erase(context.Background(), key)
	if err != nil || !found || strings.Join(f.calls, ",") != "state,crm,state" {
		t.Errorf("Erase = %v, %v; calls %v", found, err, f.calls)
	}
	f = &fakeStores{stateErr: errors.New("redis down")}
	if _, err := (Eraser{CRM: f, States: f}).Erase(context.Background(), key); err == nil || len(f.calls) != 1 {
		t.Errorf("Erase with Redis down = %v; calls %v", err, f.calls)
	}
}
