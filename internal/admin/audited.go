package admin

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/segment"
)

// AuditLog records who did what. *account.Service implements it.
type AuditLog interface {
	Record(ctx context.Context, e account.AuditEntry) error
}

// Audited wraps the campaign and saved-segment ports so that every
// successful change (campaign.create, campaign.edit, campaign.start, campaign.pause,
// campaign.resume, campaign.cancel, segment.save, segment.delete) is
// written to the audit log; reads pass through. The actor is the one
// account.WithActor put in the context (the console's user), else Actor
// ("api" for the bearer-token API, "cli" for the command line).
//
// The change is made before it is recorded: when the audit write fails,
// the change stands, the failure is logged at ERROR and the caller sees
// success (answering "failed" for a campaign that did start would be
// worse).
type Audited struct {
	Campaigns CampaignBook
	Control   CampaignControl
	// Edit edits drafts (campaign.edit); nil: Update fails.
	Edit     CampaignEditor
	Segments SavedSegments
	Log      AuditLog
	// Actor is the actor when the context names none.
	Actor  string
	Logger *slog.Logger
}

func (a *Audited) record(ctx context.Context, action, object, details string) {
	actor, ok := account.ActorIn(ctx)
	if !ok {
		actor = a.Actor
	}
	err := a.Log.Record(ctx, account.AuditEntry{Actor: actor, Action: action, Object: object, Details: details})
	if err != nil {
		logger := a.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.ErrorContext(ctx, "audit log write failed; the change was made", "action", action, "object", object, "err", err)
	}
}

func campaignObject(id int64) string { return "campaign " + strconv.FormatInt(id, 10) }

// Create implements CampaignBook and records campaign.create with the
// campaign's name.
func (a *Audited) Create(ctx context.Context, c broadcast.Campaign) (broadcast.Campaign, error) {
	out, err := a.Campaigns.Create(ctx, c)
	if err == nil {
		a.record(ctx, account.ActionCampaignCreate, campaignObject(out.ID), strconv.Quote(out.Name))
	}
	return out, err
}

// CampaignEditor edits a draft or scheduled campaign. *broadcast.Service
// implements it: a campaign past those states wraps
// broadcast.ErrInvalidTransition, bad input is a *broadcast.ValidationError.
type CampaignEditor interface {
	Update(ctx context.Context, id int64, c broadcast.Campaign) (broadcast.Campaign, error)
}

// Update implements CampaignEditor and records campaign.edit with the
// campaign's name.
func (a *Audited) Update(ctx context.Context, id int64, c broadcast.Campaign) (broadcast.Campaign, error) {
	if a.Edit == nil {
		return broadcast.Campaign{}, errors.New("audited campaigns: no editor configured")
	}
	out, err := a.Edit.Update(ctx, id, c)
	if err == nil {
		a.record(ctx, account.ActionCampaignEdit, campaignObject(out.ID), strconv.Quote(out.Name))
	}
	return out, err
}

// Get implements CampaignBook.
func (a *Audited) Get(ctx context.Context, id int64) (broadcast.Campaign, error) {
	return a.Campaigns.Get(ctx, id)
}

// List implements CampaignBook.
func (a *Audited) List(ctx context.Context) ([]broadcast.Campaign, error) {
	return a.Campaigns.List(ctx)
}

// Start implements CampaignControl and records campaign.start.
func (a *Audited) Start(ctx context.Context, id int64) error {
	return a.control(ctx, account.ActionCampaignStart, id, a.Control.Start)
}

// Pause implements CampaignControl and records campaign.pause.
func (a *Audited) Pause(ctx context.Context, id int64) error {
	return a.control(ctx, account.ActionCampaignPause, id, a.Control.Pause)
}

// Resume implements CampaignControl and records campaign.resume.
func (a *Audited) Resume(ctx context.Context, id int64) error {
	return a.control(ctx, account.ActionCampaignResume, id, a.Control.Resume)
}

// Cancel implements CampaignControl and records campaign.cancel.
func (a *Audited) Cancel(ctx context.Context, id int64) error {
	return a.control(ctx, account.ActionCampaignCancel, id, a.Control.Cancel)
}

func (a *Audited) control(ctx context.Context, action string, id int64, do func(context.Context, int64) error) error {
	if err := do(ctx, id); err != nil {
		return err
	}
	a.record(ctx, action, campaignObject(id), "")
	return nil
}

// SaveSegment implements SavedSegments and records segment.save (the
// expression is not recorded: it may hold a client's phone or e-mail).
func (a *Audited) SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error) {
	out, err := a.Segments.SaveSegment(ctx, d)
	if err == nil {
		a.record(ctx, account.ActionSegmentSave, "segment "+out.Name, "")
	}
	return out, err
}

// GetSegment implements SavedSegments.
func (a *Audited) GetSegment(ctx context.Context, name string) (*segment.Definition, error) {
	return a.Segments.GetSegment(ctx, name)
}

// ListSegments implements SavedSegments.
func (a *Audited) ListSegments(ctx context.Context) ([]segment.Definition, error) {
	return a.Segments.ListSegments(ctx)
}

// DeleteSegment implements SavedSegments and records segment.delete.
func (a *Audited) DeleteSegment(ctx context.Context, name string) error {
	if err := a.Segments.DeleteSegment(ctx, name); err != nil {
		return err
	}
	a.record(ctx, account.ActionSegmentDelete, "segment "+name, "")
	return nil
}

var (
	_ CampaignBook    = (*Audited)(nil)
	_ CampaignControl = (*Audited)(nil)
	_ CampaignEditor  = (*Audited)(nil)
	_ SavedSegments   = (*Audited)(nil)
)
