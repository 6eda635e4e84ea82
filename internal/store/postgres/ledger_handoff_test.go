package postgres

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// TestLedgerHandoff: a recipient with a live hand-off request is marked
// InHandoff (the broadcaster skips it, broadcast.ReasonInHandoff), and a
// recorded send writes the message into the client's transcript once.
func TestLedgerHandoff(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			w := newLedgerWorld(t, s, 3)
			key := keyOf(t, s, w.clients[0])
			apply(t, s, key, &crm.Changes{Now: time.Now(), Handoff: &crm.Handoff{Reason: "manager"}})
			closed := keyOf(t, s, w.clients[2])
			apply(t, s, closed, &crm.Changes{Now: time.Now(), Handoff: &crm.Handoff{Reason: "manager"}})
			if err := s.db.Exec("UPDATE handoffs SET status = 'closed' WHERE client_id = ?", w.clients[2]).Error; err != nil {
				t.Fatal(err)
			}
			claimed := w.claim(t, "w", 10, time.Now().Add(time.Second))
			want := map[int64]bool{w.clients[0]: true, w.clients[1]: false, w.clients[2]: false}
			if len(claimed) != 3 {
				t.Fatalf("claimed %d rows, want 3", len(claimed))
			}
			for _, c := range claimed {
				if c.InHandoff != want[c.ClientID] {
					t.Errorf("client %d InHandoff = %v, want %v", c.ClientID, c.InHandoff, want[c.ClientID])
				}
			}
			seg, err := s.CompileSegment(ctx, `platform == "telegram"`)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := s.Recipients(ctx, seg, 0, 10)
			if err != nil || len(recs) != 3 {
				t.Fatalf("Recipients = %d, %v; want 3", len(recs), err)
			}
			for _, r := range recs {
				if r.InHandoff != want[r.ClientID] {
					t.Errorf("recipient %d InHandoff = %v, want %v", r.ClientID, r.InHandoff, want[r.ClientID])
				}
			}
			sent := broadcast.Outcome{Worker: "w", ClientID: w.clients[1], Status: broadcast.StatusSent, MessageID: "77",
				Text: "Скидка 10%\x00", At: time.Now()}
			w.record(t, sent)
			w.record(t, sent) // recorded again: the row is sent already, nothing more is written
			ms, err := s.Transcript(ctx, w.clients[1], handoff.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Text != "Скидка 10%" || ms[0].AuthorKind != crm.AuthorBroadcast ||
				ms[0].Author != strconv.FormatInt(w.campaign, 10) || ms[0].Direction != crm.DirectionOut ||
				ms[0].PlatformMsgID != "77" || ms[0].HandoffID != 0 {
				t.Errorf("transcript %+v, want the broadcast once", ms)
			}
		})
	}
}
