package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// TestUpdateCampaign: on every backend a draft's content, schedule and
// state are replaced while its state is one of from, and a campaign in
// another state (or none) is left alone with the right error.
func TestUpdateCampaign(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			c, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: "a", Segment: "subscribed", Text: "x", State: broadcast.Draft,
				Buttons: []broadcast.Button{{Text: "b", URL: "https://x.ru"}}})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Date(2027, 1, 2, 7, 0, 0, 0, time.UTC)
			edit := broadcast.Campaign{ID: c.ID, Name: "b", Segment: `city == "Самара"`, Text: "y", ImageURL: "https://x.ru/p.jpg",
				Platforms: []messenger.Platform{messenger.VK}, StartAt: &start, State: broadcast.Scheduled,
				IgnoreFrequencyCap: true, IgnoreQuietHours: true, UpdatedAt: start.Add(-time.Hour),
				Buttons: []broadcast.Button{{Text: "s", Scenario: "portrait"}}}
			got, err := s.UpdateCampaign(ctx, edit, broadcast.Editable)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := s.GetCampaign(ctx, c.ID)
			for _, g := range []broadcast.Campaign{got, again} {
				if g.Name != "b" || g.Segment != edit.Segment || g.Text != "y" || g.ImageURL != edit.ImageURL ||
					len(g.Platforms) != 1 || g.Platforms[0] != messenger.VK || g.StartAt == nil || !g.StartAt.Equal(start) ||
					g.State != broadcast.Scheduled || !g.IgnoreFrequencyCap || !g.IgnoreQuietHours ||
					len(g.Buttons) != 1 || g.Buttons[0] != edit.Buttons[0] || !g.UpdatedAt.Equal(edit.UpdatedAt) || !g.CreatedAt.Equal(c.CreatedAt) {
					t.Errorf("after update %+v", g)
				}
			}
			if _, err := s.SetCampaignState(ctx, c.ID, []broadcast.State{broadcast.Scheduled}, broadcast.Running, time.Now()); err != nil {
				t.Fatal(err)
			}
			edit.Name = "c"
			if _, err := s.UpdateCampaign(ctx, edit, broadcast.Editable); !errors.Is(err, broadcast.ErrInvalidTransition) {
				t.Errorf("update of a running campaign: %v", err)
			}
			if cur, _ := s.GetCampaign(ctx, c.ID); cur.Name != "b" || cur.State != broadcast.Running {
				t.Errorf("a running campaign changed: %+v", cur)
			}
			edit.ID = c.ID + 100
			if _, err := s.UpdateCampaign(ctx, edit, broadcast.Editable); !errors.Is(err, broadcast.ErrNotFound) {
				t.Errorf("update of no campaign: %v", err)
			}
		})
	}
}
