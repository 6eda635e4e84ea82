package broadcast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chathub/chathub/internal/segment"
)

// MaxCaptionLen is Telegram's limit of a photo's caption in UTF-16 units
// (bots/telegram.MaxCaptionLen): with ImageURL, a longer text goes as the
// photo and then the text.
const MaxCaptionLen = 1024

// TextLength counts s as both platforms' limits count it: in UTF-16 units
// (as Telegram does; never fewer than VK's characters).
func TextLength(s string) int { return utf16Len(s) }

// PreviewDraft is DryRun for a campaign not stored yet (the composer's
// form): the message rendered for up to n (default 5, at most 50) random
// clients of c's segment, with who would be skipped and why. Only the
// segment and the text are checked: a bad one is a *ValidationError
// (field "segment" or "text"), as Create reports it.
func (s *Service) PreviewDraft(ctx context.Context, c Campaign, n int) ([]Preview, error) {
	if err := s.checkSegment(ctx, c.Segment); err != nil {
		return nil, err
	}
	out, err := s.previews(ctx, &c, n)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, fmt.Errorf("preview draft: %w", err)
	}
	return out, nil
}

// checkSegment compiles expr: an empty or bad expression is a
// *ValidationError on "segment".
func (s *Service) checkSegment(ctx context.Context, expr string) error {
	if _, err := s.compileSegment(ctx, expr); err != nil {
		return err
	}
	return nil
}

func (s *Service) compileSegment(ctx context.Context, expr string) (*segment.Segment, error) {
	if expr == "" {
		return nil, invalid("segment", "is empty")
	}
	seg, err := s.cfg.Segments.CompileSegment(ctx, expr)
	if err != nil {
		var se *segment.Error
		if errors.As(err, &se) {
			return nil, invalid("segment", "%s", err.Error())
		}
		return nil, fmt.Errorf("compile segment: %w", err)
	}
	return seg, nil
}

// Summary is a dry run of a campaign over its whole segment: what the
// ledger fill would do with each client at At, by the same etiquette
// (Policy.Check), plus no_channel for clients no running bot reaches.
type Summary struct {
	// At is the instant the etiquette is applied at: the campaign's StartAt,
	// or now.
	At time.Time
	// Total is the segment's clients; Send of them would get the message
	// (Held of those after their quiet hours end); Skipped counts the rest
	// by reason (ReasonBlocked, ReasonUnsubscribed, ReasonFrequencyCap,
	// ReasonPlatform, ReasonNoChannel).
	Total, Send, Held int
	Skipped           map[string]int
	// CapOverridden counts clients who got a broadcast within the frequency
	// cap and are sent to anyway (the campaign ignores the cap);
	// QuietOverridden those in their quiet hours at At who are sent to then
	// anyway (the campaign ignores quiet hours).
	CapOverridden, QuietOverridden int
	// FrequencyCap and Quiet are the etiquette applied (0 / off: none).
	FrequencyCap time.Duration
	Quiet        QuietHours
}

// Summarize walks campaign c's segment (stored or not) in keyset pages and
// applies the etiquette to every client as the ledger fill would at c's
// StartAt (now when unset): how many would be sent, held for quiet hours or
// skipped and why. The segment and the platforms are checked (a
// *ValidationError); the rest of c is not needed. It reads the segment
// once, FillBatch clients a query.
func (s *Service) Summarize(ctx context.Context, c Campaign) (Summary, error) {
	seg, err := s.compileSegment(ctx, c.Segment)
	if err != nil {
		return Summary{}, err
	}
	if err := platformsValid(c.Platforms); err != nil {
		return Summary{}, err
	}
	at := s.cfg.Now()
	if c.StartAt != nil && c.StartAt.After(at) {
		at = *c.StartAt
	}
	seg = seg.At(at.UTC())
	reach, err := s.reachable(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("summarize campaign: %w", err)
	}
	sum := Summary{At: at, Skipped: map[string]int{}, FrequencyCap: s.policy.FrequencyCap, Quiet: s.policy.Quiet}
	strict := c
	strict.IgnoreFrequencyCap, strict.IgnoreQuietHours = false, false
	var after int64
	for {
		page, err := s.cfg.Ledger.Recipients(ctx, seg, after, s.cfg.FillBatch)
		if err != nil {
			return Summary{}, fmt.Errorf("summarize campaign after client %d: %w", after, err)
		}
		for i := range page {
			s.tally(&sum, &c, &strict, &page[i], reach)
		}
		if len(page) < s.cfg.FillBatch {
			return sum, nil
		}
		after = page[len(page)-1].ClientID
	}
}

// tally adds recipient r's verdict under c to sum; strict is c without its
// etiquette overrides, to count whom they let through.
func (s *Service) tally(sum *Summary, c, strict *Campaign, r *Recipient, reach func(ChannelKey) bool) {
	sum.Total++
	v := s.policy.Check(c, r, sum.At)
	if v.Reason == "" && !reach(ChannelKey{Platform: r.Platform, Bot: r.Bot}) {
		v.Reason = ReasonNoChannel
	}
	if v.Reason != "" {
		sum.Skipped[v.Reason]++
		return
	}
	sum.Send++
	if !v.NotBefore.IsZero() {
		sum.Held++
	}
	if c.IgnoreFrequencyCap || c.IgnoreQuietHours {
		sv := s.policy.Check(strict, r, sum.At)
		switch {
		case c.IgnoreFrequencyCap && sv.Reason == ReasonFrequencyCap:
			sum.CapOverridden++
		case c.IgnoreQuietHours && sv.Reason == "" && !sv.NotBefore.IsZero():
			sum.QuietOverridden++
		}
	}
}

// Location is the default timezone of the etiquette (DEFAULT_TIMEZONE):
// the one of clients without their own, and the one the console shows
// schedules in.
func (s *Service) Location() *time.Location { return s.cfg.Location }

// Editable are the states whose campaigns Update may change: nothing has
// been sent or queued for them yet.
var Editable = []State{Draft, Scheduled}

// Update replaces campaign id's name, segment, text, buttons, picture,
// platforms, schedule and etiquette overrides with c's, validated as
// Create validates them, while the campaign is a draft or scheduled (else
// ErrInvalidTransition; ErrNotFound for no such campaign). Like Create, a
// StartAt makes it scheduled and none a draft. The state is compared and
// set in the same statement, so a campaign that starts meanwhile is left
// alone.
func (s *Service) Update(ctx context.Context, id int64, c Campaign) (Campaign, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if !slices.Contains(Editable, cur.State) {
		return Campaign{}, fmt.Errorf("campaign %d is %s, only a draft or a scheduled campaign can be edited: %w", id, cur.State, ErrInvalidTransition)
	}
	if err := s.validate(ctx, &c); err != nil {
		return Campaign{}, err
	}
	c.ID, c.State = id, Draft
	if c.StartAt != nil {
		c.State = Scheduled
	}
	c.UpdatedAt = s.cfg.Now().UTC()
	out, err := s.cfg.Campaigns.UpdateCampaign(ctx, c, Editable)
	if err != nil {
		return Campaign{}, err // the store names the operation
	}
	s.log.InfoContext(ctx, "campaign updated", "campaign", id, "state", string(out.State))
	return out, nil
}
