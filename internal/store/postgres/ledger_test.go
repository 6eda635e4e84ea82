package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// TestLedger runs the delivery ledger's claim and record rules on every
// backend: SQLite claims in a transaction, PostgreSQL in one statement.
func TestLedger(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"ClaimsAreDisjointUntilTheLeasePasses", testClaimLease},
		{"RecordHonoursTheClaim", testRecordClaim},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b.open(t))
				})
			}
		})
	}
}

const testLease = time.Minute

// ledgerWorld is a running campaign with n queued Telegram recipients.
type ledgerWorld struct {
	s        *Store
	campaign int64
	clients  []int64 // in id order
}

func newLedgerWorld(t *testing.T, s *Store, n int) *ledgerWorld {
	t.Helper()
	ctx := context.Background()
	w := &ledgerWorld{s: s}
	entries := make([]broadcast.Entry, n)
	for i := range entries {
		key := newKey()
		c := apply(t, s, key, nil)
		w.clients = append(w.clients, c.ID)
		entries[i] = broadcast.Entry{ClientID: c.ID, Platform: key.Platform, PlatformUserID: key.ID, Status: broadcast.StatusQueued}
	}
	c, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: "t", Segment: "subscribed", Text: "Новости", State: broadcast.Draft})
	if err != nil {
		t.Fatal(err)
	}
	w.campaign = c.ID
	if _, err := s.SetCampaignState(ctx, c.ID, []broadcast.State{broadcast.Draft}, broadcast.Running, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEntries(ctx, c.ID, entries, w.clients[n-1], true); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *ledgerWorld) claim(t *testing.T, worker string, limit int, now time.Time) []broadcast.Claimed {
	t.Helper()
	rows, err := w.s.Claim(context.Background(), broadcast.ClaimRequest{Worker: worker, CampaignID: w.campaign,
		Platform: messenger.Telegram, Limit: limit, Lease: testLease, Now: now})
	if err != nil {
		t.Fatalf("claim for %s: %v", worker, err)
	}
	return rows
}

func (w *ledgerWorld) record(t *testing.T, outcomes ...broadcast.Outcome) {
	t.Helper()
	for i := range outcomes {
		outcomes[i].CampaignID = w.campaign
		if outcomes[i].At.IsZero() {
			outcomes[i].At = time.Now()
		}
	}
	if err := w.s.Record(context.Background(), outcomes); err != nil {
		t.Fatal(err)
	}
}

// row reads one ledger row's status, attempts and claimant.
func (w *ledgerWorld) row(t *testing.T, client int64) (status string, attempts int, claimedBy string) {
	t.Helper()
	var by *string
	if _, err := queryOne(w.s.db, "SELECT status, attempts, claimed_by FROM deliveries WHERE campaign_id = ? AND client_id = ?",
		[]any{w.campaign, client}, &status, &attempts, &by); err != nil {
		t.Fatal(err)
	}
	if by != nil {
		claimedBy = *by
	}
	return status, attempts, claimedBy
}

func ids(rows []broadcast.Claimed) map[int64]broadcast.Claimed {
	out := map[int64]broadcast.Claimed{}
	for _, r := range rows {
		out[r.ClientID] = r
	}
	return out
}

func testClaimLease(t *testing.T, s *Store) {
	w := newLedgerWorld(t, s, 10)
	now := time.Now().Add(time.Second)
	a := w.claim(t, "a", 4, now)
	b := w.claim(t, "b", 100, now)
	if len(a) != 4 || len(b) != 6 {
		t.Fatalf("claimed %d and %d rows, want 4 and the other 6", len(a), len(b))
	}
	for id := range ids(a) {
		if _, twice := ids(b)[id]; twice {
			t.Fatalf("client %d claimed by both workers", id)
		}
	}
	for _, r := range append(a, b...) {
		if r.Attempts != 1 || r.Reclaimed || r.PlatformUserID == "" {
			t.Fatalf("fresh claim %+v, want attempt 1, not reclaimed, with the recipient", r)
		}
	}
	if c := w.claim(t, "c", 100, now.Add(testLease-time.Second)); len(c) != 0 {
		t.Fatalf("%d rows claimed again within the lease", len(c))
	}
	d := w.claim(t, "d", 100, now.Add(testLease+time.Second))
	if len(d) != 10 {
		t.Fatalf("%d rows taken over after the lease, want 10", len(d))
	}
	for _, r := range d {
		if r.Attempts != 2 || !r.Reclaimed {
			t.Fatalf("taken-over claim %+v, want attempt 2, reclaimed", r)
		}
	}
}

func testRecordClaim(t *testing.T, s *Store) {
	w := newLedgerWorld(t, s, 5)
	now := time.Now().Add(time.Second)
	w.claim(t, "stale", 100, now)
	if got := len(w.claim(t, "live", 100, now.Add(testLease+time.Second))); got != 5 {
		t.Fatalf("the live worker took over %d rows, want 5", got)
	}
	c := w.clients
	// The stale worker outlived its lease: its hand-back, failure and block
	// of rows the live worker holds change nothing; its send is recorded.
	w.record(t,
		broadcast.Outcome{Worker: "stale", ClientID: c[0], Status: broadcast.StatusQueued, Unsent: true},
		broadcast.Outcome{Worker: "stale", ClientID: c[1], Status: broadcast.StatusFailed, Reason: broadcast.ReasonBadRequest},
		broadcast.Outcome{Worker: "stale", ClientID: c[2], Status: broadcast.StatusSent, MessageID: "7"},
	)
	tests := []struct {
		client            int64
		status, claimedBy string
		attempts          int
	}{
		{c[0], broadcast.StatusQueued, "live", 2},
		{c[1], broadcast.StatusQueued, "live", 2},
		{c[2], broadcast.StatusSent, "", 2},
	}
	for _, tt := range tests {
		if st, n, by := w.row(t, tt.client); st != tt.status || by != tt.claimedBy || n != tt.attempts {
			t.Errorf("after the stale worker's outcomes, client %d: %s, %d attempts, claimed by %q; want %s, %d, %q",
				tt.client, st, n, by, tt.status, tt.attempts, tt.claimedBy)
		}
	}
	// The live worker's outcomes: its send of a row already sent is a no-op.
	w.record(t,
		broadcast.Outcome{Worker: "live", ClientID: c[0], Status: broadcast.StatusQueued, Unsent: true},
		broadcast.Outcome{Worker: "live", ClientID: c[1], Status: broadcast.StatusBlocked, Reason: broadcast.ReasonBlocked},
		broadcast.Outcome{Worker: "live", ClientID: c[2], Status: broadcast.StatusFailed, Reason: broadcast.ReasonBadRequest},
		broadcast.Outcome{Worker: "live", ClientID: c[3], Status: broadcast.StatusSent, MessageID: "8"},
		broadcast.Outcome{Worker: "live", ClientID: c[4], Status: broadcast.StatusQueued, Reason: broadcast.ReasonQuietHours,
			NotBefore: now.Add(8 * time.Hour)},
	)
	tests = []struct {
		client            int64
		status, claimedBy string
		attempts          int
	}{
		{c[0], broadcast.StatusQueued, "", 1}, // handed back unsent: the claim does not count
		{c[1], broadcast.StatusBlocked, "", 2},
		{c[2], broadcast.StatusSent, "", 2},
		{c[3], broadcast.StatusSent, "", 2},
		{c[4], broadcast.StatusQueued, "", 2}, // back for the client's morning
	}
	for _, tt := range tests {
		if st, n, by := w.row(t, tt.client); st != tt.status || by != tt.claimedBy || n != tt.attempts {
			t.Errorf("after the live worker's outcomes, client %d: %s, %d attempts, claimed by %q; want %s, %d, %q",
				tt.client, st, n, by, tt.status, tt.attempts, tt.claimedBy)
		}
	}
	var sentStamped, blocked int
	if _, err := queryOne(s.db, "SELECT COUNT(last_broadcast_at), COUNT(blocked_at) FROM clients", nil, &sentStamped, &blocked); err != nil {
		t.Fatal(err)
	}
	if sentStamped != 2 || blocked != 1 {
		t.Errorf("%d clients stamped with a broadcast, %d blocked; want 2 and 1", sentStamped, blocked)
	}
	if n, err := s.Pending(context.Background(), w.campaign); err != nil || n != 2 {
		t.Errorf("Pending = %d, %v; want 2 queued", n, err)
	}
	st, err := s.DeliveryStats(context.Background(), w.campaign, now.Add(-time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Targeted != 5 || st.Sent != 2 || st.Blocked != 1 || st.Queued != 2 ||
		len(st.QueuedByReason) != 1 || st.QueuedByReason[broadcast.ReasonQuietHours] != 1 {
		t.Errorf("stats %+v, want 5 targeted, 2 sent, 1 blocked, 2 queued of which 1 waits for quiet hours", st)
	}
}
