package postgres

import (
	"context"
	"testing"

	"github.com/chathub/chathub/internal/broadcast"
)

// TestConsoleCampaignReads: the console's campaign page, ledger counts and
// failed deliveries on every backend.
func TestConsoleCampaignReads(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			w := newLedgerWorld(t, s, 10)
			// Rows 0-1 sent, 2 blocked, 3-5 failed, 6 skipped, 7-9 queued.
			set := func(i int, status, reason string) {
				t.Helper()
				if err := s.db.Exec("UPDATE deliveries SET status = ?, reason = ? WHERE campaign_id = ? AND client_id = ?",
					status, reason, w.campaign, w.clients[i]).Error; err != nil {
					t.Fatal(err)
				}
			}
			set(0, broadcast.StatusSent, "")
			set(1, broadcast.StatusSent, "")
			set(2, broadcast.StatusBlocked, broadcast.ReasonBlocked)
			for i := 3; i <= 5; i++ {
				set(i, broadcast.StatusFailed, broadcast.ReasonBadRequest)
			}
			set(6, broadcast.StatusSkipped, broadcast.ReasonFrequencyCap)
			empty, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: "empty", Segment: "subscribed", Text: "x", State: broadcast.Draft})
			if err != nil {
				t.Fatal(err)
			}

			counts, err := s.LedgerCounts(ctx, []int64{w.campaign, empty.ID})
			if err != nil {
				t.Fatal(err)
			}
			want := broadcast.Stats{Targeted: 10, Queued: 3, Sent: 2, Failed: 3, Blocked: 1, Skipped: 1}
			if got := counts[w.campaign]; got.Targeted != want.Targeted || got.Queued != want.Queued || got.Sent != want.Sent ||
				got.Failed != want.Failed || got.Blocked != want.Blocked || got.Skipped != want.Skipped {
				t.Errorf("counts %+v, want %+v", got, want)
			}
			if _, ok := counts[empty.ID]; ok {
				t.Errorf("a campaign without rows has counts")
			}

			page, err := s.CampaignPage(ctx, 0, 1)
			if err != nil || len(page) != 1 || page[0].ID != empty.ID {
				t.Fatalf("first page %+v, %v; want the newest campaign", page, err)
			}
			page, err = s.CampaignPage(ctx, empty.ID, 5)
			if err != nil || len(page) != 1 || page[0].ID != w.campaign {
				t.Fatalf("older page %+v, %v", page, err)
			}

			failed, err := s.FailedDeliveries(ctx, w.campaign, 0, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(failed) != 3 || failed[0].ClientID != w.clients[2] || failed[0].Status != broadcast.StatusBlocked ||
				failed[2].ClientID != w.clients[4] || failed[2].Reason != broadcast.ReasonBadRequest {
				t.Fatalf("first failures page %+v", failed)
			}
			rest, err := s.FailedDeliveries(ctx, w.campaign, failed[2].ClientID, 3)
			if err != nil || len(rest) != 1 || rest[0].ClientID != w.clients[5] {
				t.Fatalf("next failures page %+v, %v", rest, err)
			}
		})
	}
}
