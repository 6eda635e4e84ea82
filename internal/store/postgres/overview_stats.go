package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// ClientOverview is the console's Обзор: how many clients there are, by
// platform, and the open hand-off requests (the charts by day are
// OverviewCharts).
type ClientOverview struct {
	// Platforms are the counts of each platform that has clients, the
	// largest first (ties by name).
	Platforms []PlatformCounts
	// Total sums Platforms (its Platform is empty).
	Total PlatformCounts
	// OpenHandoffs counts the hand-off requests still open.
	OpenHandoffs int64
}

// PlatformCounts are one platform's client counts.
type PlatformCounts struct {
	Platform messenger.Platform
	// Total counts every client; New those created in the last 7 days;
	// Subscribed those who consented to mailings; Blocked those who blocked
	// the bot.
	Total, New, Subscribed, Blocked int64
}

// ClientOverview counts the clients for Обзор as of now: per platform
// (every client, new in the last 7 days, subscribed, blocked) and the open
// hand-offs. Every count reads an index (migrations 14 and 27), never the
// clients' rows.
func (s *Store) ClientOverview(ctx context.Context, now time.Time) (ClientOverview, error) {
	var o ClientOverview
	// The two reads are independent: on PostgreSQL they run at once on
	// their own connections (SQLite's one connection takes them in turn).
	var wg sync.WaitGroup
	var platformErr, handoffErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		o.Platforms, platformErr = s.platformCounts(ctx, now.Add(-7*24*time.Hour))
	}()
	if _, err := queryOne(s.db.WithContext(ctx), "SELECT COUNT(*) FROM handoffs WHERE status = 'open'", nil,
		&o.OpenHandoffs); err != nil {
		handoffErr = fmt.Errorf("client overview: open hand-offs: %w", err)
	}
	wg.Wait()
	if err := errors.Join(platformErr, handoffErr); err != nil {
		return ClientOverview{}, err
	}
	for _, p := range o.Platforms {
		o.Total.Total += p.Total
		o.Total.New += p.New
		o.Total.Subscribed += p.Subscribed
		o.Total.Blocked += p.Blocked
	}
	return o, nil
}

// platformCounts counts each platform's clients with three index-only
// reads (migration 14): every client by platform and subscription, the
// blocked ones (a partial index), the new ones of the week (a range of
// created_at).
func (s *Store) platformCounts(ctx context.Context, weekAgo time.Time) ([]PlatformCounts, error) {
	by := map[string]*PlatformCounts{}
	get := func(platform string) *PlatformCounts {
		p, ok := by[platform]
		if !ok {
			p = &PlatformCounts{Platform: messenger.Platform(platform)}
			by[platform] = p
		}
		return p
	}
	db := s.db.WithContext(ctx)
	err := eachRow(db, "SELECT platform, subscribed, COUNT(*) FROM clients GROUP BY platform, subscribed", nil,
		func(scan func(...any) error) error {
			var platform string
			var subscribed bool
			var n int64
			if err := scan(&platform, &subscribed, &n); err != nil {
				return err
			}
			p := get(platform)
			p.Total += n
			if subscribed {
				p.Subscribed += n
			}
			return nil
		})
	if err == nil {
		err = eachRow(db, "SELECT platform, COUNT(*) FROM clients WHERE blocked_at IS NOT NULL GROUP BY platform", nil,
			func(scan func(...any) error) error {
				var platform string
				var n int64
				err := scan(&platform, &n)
				get(platform).Blocked = n
				return err
			})
	}
	if err == nil {
		err = eachRow(db, "SELECT platform, COUNT(*) FROM clients WHERE created_at >= ? GROUP BY platform",
			[]any{stampTime(weekAgo)}, func(scan func(...any) error) error {
				var platform string
				var n int64
				err := scan(&platform, &n)
				get(platform).New = n
				return err
			})
	}
	if err != nil {
		return nil, fmt.Errorf("client overview: platforms: %w", err)
	}
	out := make([]PlatformCounts, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PlatformCounts) int {
		if a.Total != b.Total {
			return int(b.Total - a.Total)
		}
		return strings.Compare(string(a.Platform), string(b.Platform))
	})
	return out, nil
}

// eachRow runs q and calls fn with each row's Scan.
func eachRow(db *gorm.DB, q string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ActiveCampaigns returns the campaigns that are scheduled, running or
// paused, newest first (campaigns_state_idx).
func (s *Store) ActiveCampaigns(ctx context.Context) ([]broadcast.Campaign, error) {
	return s.campaigns(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE state IN (?, ?, ?) ORDER BY id DESC",
		string(broadcast.Running), string(broadcast.Paused), string(broadcast.Scheduled))
}

// FinishedCampaigns returns up to limit campaigns that finished (done or
// cancelled) at or after since, the latest first: Обзор shows how they
// ended once they are no longer under way (campaigns_state_idx).
func (s *Store) FinishedCampaigns(ctx context.Context, since time.Time, limit int) ([]broadcast.Campaign, error) {
	return s.campaigns(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE state IN (?, ?) AND finished_at >= ? "+
		"ORDER BY finished_at DESC, id DESC LIMIT ?",
		string(broadcast.Done), string(broadcast.Cancelled), stampTime(since), limit)
}

// SegmentCampaign is a campaign that uses a saved segment.
type SegmentCampaign struct {
	ID    int64
	Name  string
	State broadcast.State
}

// Finished reports whether the campaign no longer needs its segment (done
// or cancelled).
func (c SegmentCampaign) Finished() bool {
	return c.State == broadcast.Done || c.State == broadcast.Cancelled
}

// SegmentCampaigns maps each saved segment's name to the campaigns whose
// expression names it directly with segment("name"), newest first.
func (s *Store) SegmentCampaigns(ctx context.Context) (map[string][]SegmentCampaign, error) {
	return segmentCampaigns(s.db.WithContext(ctx))
}

func segmentCampaigns(db *gorm.DB) (map[string][]SegmentCampaign, error) {
	rows, err := db.Raw("SELECT id, name, state, segment FROM campaigns ORDER BY id DESC").Rows()
	if err != nil {
		return nil, fmt.Errorf("campaigns of segments: %w", err)
	}
	defer rows.Close()
	out := map[string][]SegmentCampaign{}
	for rows.Next() {
		var c SegmentCampaign
		var state, expr string
		if err := rows.Scan(&c.ID, &c.Name, &state, &expr); err != nil {
			return nil, fmt.Errorf("campaigns of segments: %w", err)
		}
		c.State = broadcast.State(state)
		for _, name := range segment.References(expr) {
			out[name] = append(out[name], c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("campaigns of segments: %w", err)
	}
	return out, nil
}

// campaignsUsing is ErrSegmentInUse naming the unfinished campaigns that
// use the saved segment name, nil when none does.
func campaignsUsing(db *gorm.DB, name string) error {
	all, err := segmentCampaigns(db)
	if err != nil {
		return err
	}
	var users []string
	for _, c := range all[name] {
		if !c.Finished() {
			users = append(users, fmt.Sprintf("%d %q (%s)", c.ID, c.Name, c.State))
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("%w: used by campaigns %s; cancel them or wait until they finish", ErrSegmentInUse,
			strings.Join(users, ", "))
	}
	return nil
}
