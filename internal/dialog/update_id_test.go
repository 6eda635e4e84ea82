package dialog

import (
	"context"
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// TestChangesCarryTheUpdateID: the CRM write of a handled update names the
// update (so the store records its answers once however often it is
// retried), and a turn no update carries names none.
func TestChangesCarryTheUpdateID(t *testing.T) {
	t.Parallel()
	f := newHandlerFixture(t)
	if err := f.h.Begin(context.Background(), testChat, "portrait", &messenger.Profile{FirstName: "Анна"}); err != nil {
		t.Fatal(err)
	}
	f.sender.take()
	f.say(t, withID(button("yes"), "41"))
	f.say(t, withID(text("Анна"), "42"))
	f.say(t, text("30")) // an update without a platform id
	if want := []string{"", "41", "42", ""}; !slices.Equal(f.clients.updates, want) {
		t.Fatalf("UpdateID of each CRM write = %q, want %q", f.clients.updates, want)
	}
}
