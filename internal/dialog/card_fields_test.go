package dialog

import (
	"maps"
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/scenario"
)

// TestClientCardMatchesLoader checks that the card texts see holds exactly
// the names the scenario loader lets texts use (scenario.CardFields), so
// that a name validate accepts is one the engine passes.
func TestClientCardMatchesLoader(t *testing.T) {
	t.Parallel()
	got := slices.Sorted(maps.Keys(ClientCard(&crm.Client{})))
	if want := scenario.CardFields(); !slices.Equal(got, want) {
		t.Errorf("ClientCard keys = %v\nscenario.CardFields = %v", got, want)
	}
}
