package broadcast

import (
	"context"
	"fmt"
	"time"
)

// Fill writes campaign c's recipients into the ledger, in keyset pages of
// FillBatch clients from c.FillCursor on, each page one multi-row insert
// (rows already there are kept) together with the new cursor. Rows that
// the etiquette excludes are written skipped with their reason; rows in
// quiet hours are queued for the hour they end. It is safe to run it again
// or from several processes: the ledger is unique per campaign × client.
func (s *Service) Fill(ctx context.Context, c Campaign) error {
	if c.Filled {
		return nil
	}
	seg, err := s.cfg.Segments.CompileSegment(ctx, c.Segment)
	if err != nil {
		return fmt.Errorf("fill campaign %d: %w", c.ID, err)
	}
	at := s.cfg.Now().UTC()
	if c.SegmentAt != nil {
		at = *c.SegmentAt
	}
	seg = seg.At(at)
	started := time.Now()
	after, total := c.FillCursor, 0
	rows := make([]Entry, 0, s.cfg.FillBatch)
	for {
		page, err := s.cfg.Ledger.Recipients(ctx, seg, after, s.cfg.FillBatch)
		if err != nil {
			return fmt.Errorf("fill campaign %d after client %d: %w", c.ID, after, err)
		}
		now := s.cfg.Now()
		rows = rows[:0]
		for i := range page {
			r := &page[i]
			v := s.policy.Check(&c, r, now)
			e := Entry{ClientID: r.ClientID, Platform: r.Platform, Bot: r.Bot, PlatformUserID: r.PlatformUserID, Status: StatusQueued, NotBefore: v.NotBefore}
			if !v.NotBefore.IsZero() {
				e.Reason = ReasonQuietHours // waits for the client's morning
			}
			if v.Reason != "" {
				e.Status, e.Reason, e.NotBefore = StatusSkipped, v.Reason, time.Time{}
			}
			rows = append(rows, e)
		}
		done := len(page) < s.cfg.FillBatch
		if len(page) > 0 {
			after = page[len(page)-1].ClientID
		}
		if err := s.cfg.Ledger.AddEntries(ctx, c.ID, rows, after, done); err != nil {
			return fmt.Errorf("fill campaign %d after client %d: %w", c.ID, after, err)
		}
		total += len(page)
		if done {
			s.log.InfoContext(ctx, "campaign ledger filled", "campaign", c.ID, "rows", total, "took", time.Since(started))
			return nil
		}
	}
}
