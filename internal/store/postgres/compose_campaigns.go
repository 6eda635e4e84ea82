package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chathub/chathub/internal/broadcast"
)

// UpdateCampaign implements broadcast.CampaignStore: it replaces what
// campaign c.ID says and when (name, segment, text, buttons, picture,
// platforms, schedule, etiquette overrides) and sets its state to c.State,
// if its state is one of from (a compare-and-set, so a campaign that
// started meanwhile is not changed under its ledger). The error wraps
// broadcast.ErrNotFound for no such campaign and
// broadcast.ErrInvalidTransition when its state is not one of from.
func (s *Store) UpdateCampaign(ctx context.Context, c broadcast.Campaign, from []broadcast.State) (broadcast.Campaign, error) {
	buttons, err := json.Marshal(nonNil(c.Buttons))
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("update campaign %d: %w", c.ID, err)
	}
	platforms, err := json.Marshal(nonNil(c.Platforms))
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("update campaign %d: %w", c.ID, err)
	}
	states := make([]string, len(from))
	for i, f := range from {
		states[i] = string(f)
	}
	args := []any{c.Name, c.Segment, c.Text, string(buttons), c.ImageURL, string(platforms), s.optTime(c.StartAt),
		string(c.State), c.IgnoreFrequencyCap, c.IgnoreQuietHours, stampTime(c.UpdatedAt), c.ID}
	args = append(args, anyArgs(nil, states)[1:]...)
	var r campaignRow
	found, err := queryOne(s.db.WithContext(ctx), "UPDATE campaigns SET name = ?, segment = ?, text = ?, buttons = ?, "+
		"image_url = ?, platforms = ?, start_at = ?, state = ?, ignore_frequency_cap = ?, ignore_quiet_hours = ?, "+
		"updated_at = ? WHERE id = ? AND state IN "+inList(len(states))+" RETURNING "+campaignColumns, args, r.targets()...)
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("update campaign %d: %w", c.ID, err)
	}
	if !found {
		cur, err := s.GetCampaign(ctx, c.ID)
		if err != nil {
			return broadcast.Campaign{}, err
		}
		return broadcast.Campaign{}, fmt.Errorf("campaign %d is %s, not %s: %w", c.ID, cur.State,
			strings.Join(states, "/"), broadcast.ErrInvalidTransition)
	}
	return r.campaign()
}
