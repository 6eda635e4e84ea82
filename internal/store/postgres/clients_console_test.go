package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestClientsKeysetAndCount: BeforeID pages newest first without gaps or
// repeats, with the filters; CountClients counts what the filters select
// whatever the cursor.
func TestClientsKeysetAndCount(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			platform := messenger.Platform(fmt.Sprintf("keyset%d", keySeq.Add(1)))
			var all, annas []int64 // newest first
			for i := range 7 {
				name := "Борис"
				if i%2 == 0 {
					name = "Анна"
				}
				c := apply(t, s, messenger.ChatKey{Platform: platform, ID: fmt.Sprint(i)},
					&crm.Changes{Now: t0, Profile: &messenger.Profile{FirstName: name}})
				all = append([]int64{c.ID}, all...)
				if name == "Анна" {
					annas = append([]int64{c.ID}, annas...)
				}
			}
			for _, tt := range []struct {
				name string
				opt  ListOptions
				want []int64
			}{
				{"all", ListOptions{Platform: platform}, all},
				{"search", ListOptions{Platform: platform, Search: "анна"}, annas},
			} {
				var got []int64
				opt := tt.opt
				opt.Limit = 3
				for pages := 0; ; pages++ {
					if pages > 5 {
						t.Fatalf("%s: pages never end", tt.name)
					}
					page, err := s.ListClients(ctx, opt)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range page {
						got = append(got, c.ID)
					}
					if len(page) < opt.Limit {
						break
					}
					opt.BeforeID = page[len(page)-1].ID
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s: keyset pages %v, want %v", tt.name, got, tt.want)
				}
				opt.BeforeID = all[0]
				n, err := s.CountClients(ctx, opt)
				if err != nil || n != int64(len(tt.want)) {
					t.Errorf("%s: CountClients = %d, %v; want %d", tt.name, n, err, len(tt.want))
				}
			}
			if _, err := s.CountClients(ctx, ListOptions{Search: "%%"}); err == nil {
				t.Error("CountClients accepted a search without a letter or digit")
			}
			if c, err := s.ClientByID(ctx, annas[0]); err != nil || c == nil || c.FirstName != "Анна" {
				t.Errorf("ClientByID = %+v, %v", c, err)
			}
			if c, err := s.ClientByID(ctx, all[0]+1000); err != nil || c != nil {
				t.Errorf("ClientByID of a missing id = %+v, %v; want nil, nil", c, err)
			}
		})
	}
}

// TestClientDeliveriesAndErasure: the card lists a client's deliveries
// with the campaign's name and outcome; erasing the client (DeleteClient)
// removes its answers and its ledger rows (platform id, message id) and
// keeps the other client's.
func TestClientDeliveriesAndErasure(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			key, otherKey := newKey(), newKey()
			ch := func() *crm.Changes {
				return &crm.Changes{Now: t0, UpdateID: "1", Profile: &messenger.Profile{FirstName: "Анна"},
					Answers: []crm.Answer{{Scenario: "portrait", Step: "city", Field: "city", Value: "Самара"}}}
			}
			c, other := apply(t, s, key, ch()), apply(t, s, otherKey, ch())
			camp, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: "Весна <b>", Segment: "subscribed", Text: "x", State: broadcast.Draft})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetCampaignState(ctx, camp.ID, []broadcast.State{broadcast.Draft}, broadcast.Running, time.Now()); err != nil {
				t.Fatal(err)
			}
			entries := []broadcast.Entry{
				{ClientID: c.ID, Platform: key.Platform, PlatformUserID: key.ID, Status: broadcast.StatusQueued},
				{ClientID: other.ID, Platform: otherKey.Platform, PlatformUserID: otherKey.ID, Status: broadcast.StatusSkipped, Reason: "unsubscribed"},
			}
			if err := s.AddEntries(ctx, camp.ID, entries, other.ID, true); err != nil {
				t.Fatal(err)
			}
			ds, err := s.ClientDeliveries(ctx, other.ID, 10)
			if err != nil || len(ds) != 1 {
				t.Fatalf("ClientDeliveries = %+v, %v; want one", ds, err)
			}
			if d := ds[0]; d.Campaign != "Весна <b>" || d.CampaignID != camp.ID || d.Status != broadcast.StatusSkipped ||
				d.Reason != "unsubscribed" || d.SentAt != nil || d.UpdatedAt.IsZero() {
				t.Errorf("delivery %+v", d)
			}
			if found, err := s.DeleteClient(ctx, key); err != nil || !found {
				t.Fatalf("DeleteClient = %v, %v", found, err)
			}
			for q, want := range map[string]int64{
				"SELECT COUNT(*) FROM answers WHERE client_id = ?":    0,
				"SELECT COUNT(*) FROM deliveries WHERE client_id = ?": 0,
				"SELECT COUNT(*) FROM clients WHERE id = ?":           0,
			} {
				if n := count(t, s, q, c.ID); n != want {
					t.Errorf("%s = %d after erasure, want %d", q, n, want)
				}
				if n := count(t, s, q, other.ID); n != 1 {
					t.Errorf("%s = %d for the other client, want 1", q, n)
				}
			}
			if n := count(t, s, "SELECT COUNT(*) FROM deliveries WHERE platform_user_id = ? AND platform = ?", key.ID, string(key.Platform)); n != 0 {
				t.Errorf("the ledger keeps the erased client's platform id in %d rows", n)
			}
		})
	}
}

// TestEditClient: a manager's edit adds and removes tags and sets the
// manager without touching last_seen_at or creating a missing client.
func TestEditClient(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			key := newKey()
			c := apply(t, s, key, &crm.Changes{Now: t0, AddTags: []string{"old", "keep"}})
			anna := "Анна Менеджер"
			found, err := s.EditClient(ctx, c.ID, ClientEdit{AddTags: []string{"vip", "keep"}, RemoveTags: []string{"old"},
				Manager: &anna, Now: at(5)})
			if err != nil || !found {
				t.Fatalf("EditClient = %v, %v", found, err)
			}
			got := get(t, s, key)
			slices.Sort(got.Tags)
			if !slices.Equal(got.Tags, []string{"keep", "vip"}) || got.AssignedManager != anna {
				t.Errorf("after edit: tags %v, manager %q", got.Tags, got.AssignedManager)
			}
			if !got.LastSeenAt.Equal(c.LastSeenAt) || !got.UpdatedAt.Equal(at(5)) {
				t.Errorf("last seen %v (was %v), updated %v", got.LastSeenAt, c.LastSeenAt, got.UpdatedAt)
			}
			empty := ""
			if _, err := s.EditClient(ctx, c.ID, ClientEdit{Manager: &empty, Now: at(6)}); err != nil {
				t.Fatal(err)
			}
			if got := get(t, s, key); got.AssignedManager != "" || len(got.Tags) != 2 {
				t.Errorf("clearing the manager: %+v", got)
			}
			if found, err := s.EditClient(ctx, c.ID+1000, ClientEdit{AddTags: []string{"x"}, Now: at(7)}); err != nil || found {
				t.Errorf("EditClient of a missing client = %v, %v; want false, nil", found, err)
			}
		})
	}
}
