package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// campaignColumns is the column list every campaign read selects, in the
// order campaignTargets scans it.
const campaignColumns = `id, name, segment, text, buttons, image_url, platforms, start_at, state,
	ignore_frequency_cap, ignore_quiet_hours, segment_at, fill_cursor, filled,
	created_at, updated_at, started_at, finished_at`

// campaignRow receives one row of campaignColumns.
type campaignRow struct {
	c                  broadcast.Campaign
	buttons, platforms string
	state              string
}

func (r *campaignRow) targets() []any {
	c := &r.c
	return []any{&c.ID, &c.Name, &c.Segment, &c.Text, &r.buttons, &c.ImageURL, &r.platforms,
		timeScanner{p: &c.StartAt}, &r.state, &c.IgnoreFrequencyCap, &c.IgnoreQuietHours,
		timeScanner{p: &c.SegmentAt}, &c.FillCursor, &c.Filled,
		timeScanner{v: &c.CreatedAt}, timeScanner{v: &c.UpdatedAt}, timeScanner{p: &c.StartedAt},
		timeScanner{p: &c.FinishedAt}}
}

func (r *campaignRow) campaign() (broadcast.Campaign, error) {
	c := r.c
	c.State = broadcast.State(r.state)
	if err := json.Unmarshal([]byte(r.buttons), &c.Buttons); err != nil {
		return c, fmt.Errorf("campaign %d buttons: %w", c.ID, err)
	}
	var ps []string
	if err := json.Unmarshal([]byte(r.platforms), &ps); err != nil {
		return c, fmt.Errorf("campaign %d platforms: %w", c.ID, err)
	}
	for _, p := range ps {
		c.Platforms = append(c.Platforms, messenger.Platform(p))
	}
	if len(c.Buttons) == 0 {
		c.Buttons = nil
	}
	return c, nil
}

// CreateCampaign implements broadcast.CampaignStore.
func (s *Store) CreateCampaign(ctx context.Context, c broadcast.Campaign) (broadcast.Campaign, error) {
	buttons, err := json.Marshal(nonNil(c.Buttons))
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	platforms, err := json.Marshal(nonNil(c.Platforms))
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	now := stampTime(c.CreatedAt)
	var r campaignRow
	_, err = queryOne(s.db.WithContext(ctx), "INSERT INTO campaigns (name, segment, text, buttons, image_url, platforms, "+
		"start_at, state, ignore_frequency_cap, ignore_quiet_hours, created_at, updated_at) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING "+campaignColumns,
		[]any{c.Name, c.Segment, c.Text, string(buttons), c.ImageURL, string(platforms), s.optTime(c.StartAt),
			string(c.State), c.IgnoreFrequencyCap, c.IgnoreQuietHours, now, now}, r.targets()...)
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	return r.campaign()
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// optTime passes an optional time as a UTC time or NULL.
func (s *Store) optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return stampTime(*t)
}

// GetCampaign implements broadcast.CampaignStore; the error wraps
// broadcast.ErrNotFound when there is no such campaign.
func (s *Store) GetCampaign(ctx context.Context, id int64) (broadcast.Campaign, error) {
	return s.getCampaign(s.db.WithContext(ctx), id)
}

func (s *Store) getCampaign(db *gorm.DB, id int64) (broadcast.Campaign, error) {
	var r campaignRow
	found, err := queryOne(db, "SELECT "+campaignColumns+" FROM campaigns WHERE id = ?", []any{id}, r.targets()...)
	if err == nil && !found {
		err = broadcast.ErrNotFound
	}
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("get campaign %d: %w", id, err)
	}
	return r.campaign()
}

// ListCampaigns implements broadcast.CampaignStore: newest first.
func (s *Store) ListCampaigns(ctx context.Context) ([]broadcast.Campaign, error) {
	return s.campaigns(ctx, "SELECT "+campaignColumns+" FROM campaigns ORDER BY id DESC")
}

// DueCampaigns implements broadcast.CampaignStore.
func (s *Store) DueCampaigns(ctx context.Context, now time.Time) ([]broadcast.Campaign, error) {
	return s.campaigns(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE state = ? "+
		"OR (state = ? AND start_at <= ?) ORDER BY id", string(broadcast.Running), string(broadcast.Scheduled), stampTime(now))
}

func (s *Store) campaigns(ctx context.Context, q string, args ...any) ([]broadcast.Campaign, error) {
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []broadcast.Campaign
	for rows.Next() {
		var r campaignRow
		if err := rows.Scan(r.targets()...); err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		c, err := r.campaign()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

// SetCampaignState implements broadcast.CampaignStore. Becoming running
// stamps started_at and pins segment_at (both only the first time); done and
// cancelled stamp finished_at.
func (s *Store) SetCampaignState(ctx context.Context, id int64, from []broadcast.State, to broadcast.State, now time.Time) (broadcast.Campaign, error) {
	now = stampTime(now)
	set := "state = ?, updated_at = ?"
	args := []any{string(to), now}
	switch to {
	case broadcast.Running:
		set += ", started_at = COALESCE(started_at, ?), segment_at = COALESCE(segment_at, ?)"
		args = append(args, now, now)
	case broadcast.Done, broadcast.Cancelled:
		set += ", finished_at = ?"
		args = append(args, now)
	}
	args = append(args, id)
	states := make([]string, len(from))
	for i, f := range from {
		states[i] = string(f)
	}
	args = append(args, anyArgs(nil, states)[1:]...)
	var r campaignRow
	found, err := queryOne(s.db.WithContext(ctx), "UPDATE campaigns SET "+set+" WHERE id = ? AND state IN "+
		inList(len(states))+" RETURNING "+campaignColumns, args, r.targets()...)
	if err != nil {
		return broadcast.Campaign{}, fmt.Errorf("set campaign %d %s: %w", id, to, err)
	}
	if !found {
		cur, err := s.GetCampaign(ctx, id)
		if err != nil {
			return broadcast.Campaign{}, err
		}
		return broadcast.Campaign{}, fmt.Errorf("campaign %d is %s, not %s: %w", id, cur.State,
			strings.Join(states, "/"), broadcast.ErrInvalidTransition)
	}
	return r.campaign()
}
