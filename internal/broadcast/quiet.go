package broadcast

import (
	"context"
	"fmt"
	"time"
)

// RecheckQuietHours re-applies the quiet hours as this Service has them now
// to campaign c's rows held for them: a hold computed under another setting
// (the window changed or was turned off, DEFAULT_TIMEZONE changed) ends when
// the current setting says, earlier or later, and a row no longer in quiet
// hours is due at once. It returns how many rows it moved. Resume calls it,
// and Workers call it once per campaign when they start (the settings come
// from the environment, so they change with a restart).
func (s *Service) RecheckQuietHours(ctx context.Context, c Campaign) (int, error) {
	now := s.cfg.Now()
	var after int64
	moved := 0
	for {
		page, err := s.cfg.Admin.QuietHolds(ctx, c.ID, after, s.cfg.FillBatch)
		if err != nil {
			return moved, fmt.Errorf("recheck quiet hours of campaign %d: %w", c.ID, err)
		}
		var changed []Hold
		for _, h := range page {
			nb := s.policy.quietUntil(&c, &h.Recipient, now)
			if !nb.Equal(h.NotBefore) {
				changed = append(changed, Hold{Recipient: h.Recipient, NotBefore: nb})
			}
		}
		if len(changed) > 0 {
			if err := s.cfg.Admin.MoveHolds(ctx, c.ID, changed, now); err != nil {
				return moved, fmt.Errorf("recheck quiet hours of campaign %d: %w", c.ID, err)
			}
			moved += len(changed)
		}
		if len(page) < s.cfg.FillBatch {
			if moved > 0 {
				s.log.InfoContext(ctx, "campaign quiet-hours holds moved to the current setting", "campaign", c.ID,
					"rows", moved, "quiet_hours", s.policy.Quiet.String())
			}
			return moved, nil
		}
		after = page[len(page)-1].ClientID
	}
}

// quietUntil is when the quiet hours that hold r at now end under p (zero:
// not in them, or c ignores them).
func (p *Policy) quietUntil(c *Campaign, r *Recipient, now time.Time) time.Time {
	if c.IgnoreQuietHours {
		return time.Time{}
	}
	return p.QuietUntil(r.Timezone, now)
}

// QuietUntil is when the quiet hours that hold a client of timezone (an
// IANA name; "" or an unknown name: Location) at now end under p; zero
// when now is outside them. Campaigns and reminders (internal/remind)
// follow this one rule.
func (p *Policy) QuietUntil(timezone string, now time.Time) time.Time {
	return p.Quiet.Until(now.In(p.location(timezone)))
}

// recheckOnce re-applies the quiet hours to campaign c's holds the first
// time this process's supervisor sees it running (the supervisor's only).
func (w *Workers) recheckOnce(ctx context.Context, c *Campaign) {
	if w.rechecked[c.ID] {
		return
	}
	if _, err := w.svc.RecheckQuietHours(ctx, *c); err != nil {
		w.log.WarnContext(ctx, "broadcast: recheck quiet hours", "campaign", c.ID, "err", err)
		return
	}
	w.rechecked[c.ID] = true
}
