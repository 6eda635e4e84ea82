package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// TestClaimByBot: one person in two Telegram bots and the unnamed bot is
// three ledger rows; each bot's claim takes only its own row, with the
// recipient's bot, and the fill reads the bot from the client.
func TestClaimByBot(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			bots := []string{"", "shop", "club"}
			byBot := map[string]int64{}
			for _, bot := range bots {
				c := apply(t, s, messenger.ChatKey{Platform: messenger.Telegram, Bot: bot, ID: "42"}, nil)
				byBot[bot] = c.ID
			}
			c, err := s.CreateCampaign(ctx, broadcast.Campaign{Name: "t", Segment: "subscribed", Text: "x", State: broadcast.Draft})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetCampaignState(ctx, c.ID, []broadcast.State{broadcast.Draft}, broadcast.Running, time.Now()); err != nil {
				t.Fatal(err)
			}
			seg, err := s.CompileSegment(ctx, `platform == "telegram"`)
			if err != nil {
				t.Fatal(err)
			}
			recipients, err := s.Recipients(ctx, seg, 0, 10)
			if err != nil || len(recipients) != 3 {
				t.Fatalf("Recipients = %+v, %v; want the three cards", recipients, err)
			}
			var entries []broadcast.Entry
			for _, r := range recipients {
				if byBot[r.Bot] != r.ClientID {
					t.Errorf("recipient %d has bot %q; want the bot of its card", r.ClientID, r.Bot)
				}
				entries = append(entries, broadcast.Entry{ClientID: r.ClientID, Platform: r.Platform, Bot: r.Bot,
					PlatformUserID: r.PlatformUserID, Status: broadcast.StatusQueued})
			}
			if err := s.AddEntries(ctx, c.ID, entries, recipients[2].ClientID, true); err != nil {
				t.Fatal(err)
			}
			for _, bot := range []string{"shop", "", "club"} {
				rows, err := s.Claim(ctx, broadcast.ClaimRequest{Worker: "w-" + bot, CampaignID: c.ID, Platform: messenger.Telegram,
					Bot: bot, Limit: 10, Lease: time.Minute, Now: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1 || rows[0].ClientID != byBot[bot] || rows[0].Bot != bot {
					t.Errorf("claim of bot %q = %+v; want only client %d of that bot", bot, rows, byBot[bot])
				}
			}
		})
	}
}
