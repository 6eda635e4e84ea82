package admin

import (
	"context"
	"errors"
	"testing"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
)

// fakeEditor edits campaign 1 only.
type fakeEditor struct{}

func (fakeEditor) Update(_ context.Context, id int64, c broadcast.Campaign) (broadcast.Campaign, error) {
	if id != 1 {
		return broadcast.Campaign{}, broadcast.ErrNotFound
	}
	c.ID = id
	return c, nil
}

// TestAuditedRecordsEdit: an edit is recorded as campaign.edit under the
// context's actor with the new name; a failed one is not recorded.
func TestAuditedRecordsEdit(t *testing.T) {
	t.Parallel()
	log := &fakeAudit{}
	a := &Audited{Edit: fakeEditor{}, Log: log, Actor: "api"}
	ctx := account.WithActor(context.Background(), "anna")
	if _, err := a.Update(ctx, 1, broadcast.Campaign{Name: "Зима"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, 2, broadcast.Campaign{Name: "x"}); !errors.Is(err, broadcast.ErrNotFound) {
		t.Fatalf("missing campaign: %v", err)
	}
	if len(log.entries) != 1 || log.entries[0].Actor != "anna" || log.entries[0].Action != "campaign.edit" ||
		log.entries[0].Object != "campaign 1" || log.entries[0].Details != `"Зима"` {
		t.Errorf("recorded %+v", log.entries)
	}
	if _, err := (&Audited{Log: log}).Update(ctx, 1, broadcast.Campaign{}); err == nil {
		t.Error("no editor: no error")
	}
}
