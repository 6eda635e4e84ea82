package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
)

// ComposeDrafts reads and edits draft and scheduled campaigns:
// admin.Audited over broadcast.Service (the edit is audited as
// campaign.edit).
type ComposeDrafts interface {
	// Get returns a campaign; the error wraps broadcast.ErrNotFound for
	// none.
	Get(ctx context.Context, id int64) (broadcast.Campaign, error)
	// Update replaces a draft's or scheduled campaign's content and
	// schedule: broadcast.ErrInvalidTransition once it has started, a
	// *broadcast.ValidationError for bad input.
	Update(ctx context.Context, id int64, c broadcast.Campaign) (broadcast.Campaign, error)
}

// editRoutes registers the draft editor when the composer has Drafts.
func (c *Console) editRoutes(mux *http.ServeMux) {
	if c.cfg.Compose.Drafts == nil {
		return
	}
	c.handle(mux, "GET /campaigns/{id}/edit", account.RoleManager, c.composeEdit)
	c.handle(mux, "POST /campaigns/{id}/edit", account.RoleManager, c.composeSave)
}

// editable loads the campaign the request names for editing; ok false
// when it answered already (404 for none, 409 for one that has started).
func (c *Console) editable(w http.ResponseWriter, r *http.Request) (broadcast.Campaign, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.notFound(w, r)
		return broadcast.Campaign{}, false
	}
	camp, err := c.cfg.Compose.Drafts.Get(r.Context(), id)
	switch {
	case errors.Is(err, broadcast.ErrNotFound):
		c.notFound(w, r)
		return camp, false
	case err != nil:
		c.cfg.Logger.Error("console: get campaign", "campaign", id, "err", err)
		c.serverError(w, r)
		return camp, false
	case camp.State != broadcast.Draft && camp.State != broadcast.Scheduled:
		c.notEditable(w, r, camp.ID)
		return camp, false
	}
	return camp, true
}

// notEditable answers 409: the campaign has started and keeps its message.
func (c *Console) notEditable(w http.ResponseWriter, r *http.Request, id int64) {
	lang := langOf(r.Context())
	c.render(w, r, http.StatusConflict, "error", "compose.edit.locked.title", i18n.T(lang, "compose.edit.locked", id))
}

// composeEdit is the composer over a draft's values.
func (c *Console) composeEdit(w http.ResponseWriter, r *http.Request) {
	camp, ok := c.editable(w, r)
	if !ok {
		return
	}
	c.renderEdit(w, r, http.StatusOK, camp.ID, formOf(camp, c.cfg.Compose.location()), nil)
}

// composeSave saves the edited draft and goes to its page; errors show the
// form again with the values as typed.
func (c *Console) composeSave(w http.ResponseWriter, r *http.Request) {
	cur, ok := c.editable(w, r)
	if !ok {
		return
	}
	f := readComposeForm(w, r)
	lang := langOf(r.Context())
	camp, errs := f.campaign(lang, c.cfg.Compose.location())
	if len(errs) > 0 {
		c.renderEdit(w, r, http.StatusUnprocessableEntity, cur.ID, f, errs)
		return
	}
	out, err := c.cfg.Compose.Drafts.Update(actorContext(r), cur.ID, camp)
	var ve *broadcast.ValidationError
	switch {
	case errors.As(err, &ve):
		c.renderEdit(w, r, http.StatusUnprocessableEntity, cur.ID, f, fieldErrors{f.fieldOf(ve.Field): validationText(lang, ve)})
		return
	case errors.Is(err, broadcast.ErrInvalidTransition):
		c.notEditable(w, r, cur.ID)
		return
	case errors.Is(err, broadcast.ErrNotFound):
		c.notFound(w, r)
		return
	case err != nil:
		c.cfg.Logger.Error("console: update campaign", "campaign", cur.ID, "err", err)
		c.serverError(w, r)
		return
	}
	c.toCampaign(w, r, out.ID)
}

// renderEdit renders the composer editing campaign id.
func (c *Console) renderEdit(w http.ResponseWriter, r *http.Request, status int, id int64, f composeForm, errs fieldErrors) {
	v, err := c.composeView(r, f, errs)
	if err != nil {
		c.cfg.Logger.Error("console: composer", "err", err)
		c.serverError(w, r)
		return
	}
	v.Editing, v.Action = true, "/campaigns/"+strconv.FormatInt(id, 10)+"/edit"
	v.Back = "/campaigns/" + strconv.FormatInt(id, 10)
	c.render(w, r, status, "compose", "compose.edit.title", v)
}

// formOf is campaign camp as the composer's form shows it.
func formOf(camp broadcast.Campaign, loc *time.Location) composeForm {
	f := composeForm{Name: camp.Name, Expr: camp.Segment, Text: camp.Text, ImageURL: camp.ImageURL, Platform: "all",
		IgnoreCap: camp.IgnoreFrequencyCap, IgnoreQuiet: camp.IgnoreQuietHours}
	if name, ok := savedName(camp.Segment); ok {
		f.Saved, f.Expr = name, ""
	}
	if len(camp.Platforms) == 1 {
		f.Platform = string(camp.Platforms[0])
	}
	if camp.StartAt != nil {
		f.StartAt = camp.StartAt.In(loc).Format(scheduleLayout)
	}
	for i, b := range camp.Buttons {
		if i < len(f.Buttons) {
			f.Buttons[i] = buttonForm{Text: b.Text, URL: b.URL, Scenario: b.Scenario}
		}
	}
	return f
}

// savedName is the name in a segment that is exactly segment("name") (as
// the composer and the API store a saved segment).
func savedName(expr string) (string, bool) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "segment(")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(inner)
	if err != nil || strconv.Quote(name) != inner {
		return "", false
	}
	return name, true
}
