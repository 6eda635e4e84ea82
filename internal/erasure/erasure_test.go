package erasure

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/localchat"
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

func (f *fakeStores) DeleteState(_ context.Context, key messenger.ChatKey) error {
	if key.Platform != messenger.Playground && key.Platform != messenger.Telegram {
		f.calls = append(f.calls, "state:"+string(key.Platform))
		return f.stateErr
	}
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

// TestErasePlaygroundScreen: a playground client's page (every message it
// showed, a shared phone included) is erased with its state.
func TestErasePlaygroundScreen(t *testing.T) {
	t.Parallel()
	key := messenger.ChatKey{Platform: messenger.Playground, ID: "operator"}
	f := &fakeStores{found: true}
	if _, err := (Eraser{CRM: f, States: f}).Erase(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	screen := "state:" + string(localchat.ScreenKey(key).Platform)
	if got := strings.Join(f.calls, ","); got != "state,"+screen+",crm,state,"+screen {
		t.Errorf("calls %s; want the state and the page erased before and after the CRM record", got)
	}
}
