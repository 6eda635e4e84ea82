package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/segment"
)

// ComposeCampaigns creates campaigns: admin.Audited over
// broadcast.Service, so that the audit log names the console's user.
type ComposeCampaigns interface {
	// Create validates and stores a draft (scheduled with StartAt); bad
	// input is a *broadcast.ValidationError naming its field.
	Create(ctx context.Context, c broadcast.Campaign) (broadcast.Campaign, error)
}

// ComposePlanner previews an unsaved campaign: *broadcast.Service.
type ComposePlanner interface {
	// PreviewDraft renders the text for up to n sample clients of the
	// segment, with who would be skipped and why.
	PreviewDraft(ctx context.Context, c broadcast.Campaign, n int) ([]broadcast.Preview, error)
	// Summarize applies the etiquette to the whole segment, as the ledger
	// fill would at the campaign's start.
	Summarize(ctx context.Context, c broadcast.Campaign) (broadcast.Summary, error)
}

// ComposeSegments compiles and counts segment expressions and lists the
// saved segments: *postgres.Store.
type ComposeSegments interface {
	// CompileSegment gives a *segment.Error for a bad expression.
	CompileSegment(ctx context.Context, expr string) (*segment.Segment, error)
	CountSegment(ctx context.Context, seg *segment.Segment) (int64, error)
	ListSegments(ctx context.Context) ([]segment.Definition, error)
}

// ComposeScenarios lists the scenarios a button may start.
type ComposeScenarios interface {
	ScenarioIDs(ctx context.Context) ([]string, error)
}

// ComposePages is what Рассылки's composer needs of the services. The
// zero value leaves no composer; Campaigns, Planner and Segments are
// required for one.
type ComposePages struct {
	Campaigns ComposeCampaigns
	Planner   ComposePlanner
	Segments  ComposeSegments
	// Drafts, when set, lets drafts and scheduled campaigns be edited at
	// /campaigns/{id}/edit; nil: no editing.
	Drafts ComposeDrafts
	// Scenarios, when set, offers the scenarios as a list for scenario
	// buttons; nil: the scenario's id is typed.
	Scenarios ComposeScenarios
	// Location is the timezone schedules are typed and shown in (the
	// deployment's DEFAULT_TIMEZONE). Default UTC.
	Location *time.Location
	// Policy is the etiquette the service applies (shown on the form);
	// nil: not described.
	Policy *broadcast.Policy
	// Now is the clock (the schedule's earliest value). Default time.Now.
	Now func() time.Time
}

func (p *ComposePages) configured() bool {
	return p.Campaigns != nil && p.Planner != nil && p.Segments != nil
}

func (p *ComposePages) location() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

// composeSamples is how many sample recipients the preview renders for.
const composeSamples = 3

// composeRoutes registers the composer's routes: the form, its live
// fragments (count, preview, dry-run summary) and creating the draft.
func (c *Console) composeRoutes(mux *http.ServeMux) {
	if !c.cfg.Compose.configured() {
		return
	}
	c.handle(mux, "GET /campaigns/new", account.RoleManager, c.composeNew)
	c.handle(mux, "POST /campaigns/new", account.RoleManager, c.composeCreate)
	c.handle(mux, "POST /campaigns/new/count", account.RoleManager, c.composeCount)
	c.handle(mux, "POST /campaigns/new/preview", account.RoleManager, c.composePreview)
	c.handle(mux, "POST /campaigns/new/dry-run", account.RoleManager, c.composeDryRun)
	c.editRoutes(mux)
}

// composeNew is «Новая рассылка»: an empty form, the saved segment
// ?segment=NAME chosen (Сегменты links here).
func (c *Console) composeNew(w http.ResponseWriter, r *http.Request) {
	f := composeForm{Platform: "all", Saved: r.URL.Query().Get("segment")}
	c.renderCompose(w, r, http.StatusOK, f, nil)
}

// composeCreate creates the draft through the audited service and goes to
// its page; a validation error shows the form again with every value as
// typed and the error next to its field (422).
func (c *Console) composeCreate(w http.ResponseWriter, r *http.Request) {
	f := readComposeForm(w, r)
	camp, errs := f.campaign(langOf(r.Context()), c.cfg.Compose.location())
	if len(errs) > 0 {
		c.renderCompose(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	out, err := c.cfg.Compose.Campaigns.Create(actorContext(r), camp)
	var ve *broadcast.ValidationError
	switch {
	case errors.As(err, &ve):
		c.renderCompose(w, r, http.StatusUnprocessableEntity, f, fieldErrors{f.fieldOf(ve.Field): validationText(langOf(r.Context()), ve)})
		return
	case err != nil:
		c.cfg.Logger.Error("console: create campaign", "err", err)
		c.serverError(w, r)
		return
	}
	c.toCampaign(w, r, out.ID)
}

// toCampaign sends the browser to campaign id's page.
func (c *Console) toCampaign(w http.ResponseWriter, r *http.Request, id int64) {
	page := "/campaigns/" + strconv.FormatInt(id, 10)
	if r.Header.Get("HX-Request") == "true" {
		// htmx (the boosted form) loads the campaign's page in full.
		w.Header().Set("HX-Redirect", page)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, page, http.StatusSeeOther)
}

// renderCompose renders the composer's page with f's values and errs.
func (c *Console) renderCompose(w http.ResponseWriter, r *http.Request, status int, f composeForm, errs fieldErrors) {
	v, err := c.composeView(r, f, errs)
	if err != nil {
		c.cfg.Logger.Error("console: composer", "err", err)
		c.serverError(w, r)
		return
	}
	c.render(w, r, status, "compose", "compose.title", v)
}

// composeCount is the live count of the segment as typed (or the saved
// one chosen), or the parser's error with its position.
func (c *Console) composeCount(w http.ResponseWriter, r *http.Request) {
	f := readComposeForm(w, r)
	lang := langOf(r.Context())
	v := countView{Lang: lang}
	expr := f.segmentExpr()
	if expr == "" {
		c.composeFragment(w, r, "compose-count", v)
		return
	}
	seg, err := c.cfg.Compose.Segments.CompileSegment(r.Context(), expr)
	var se *segment.Error
	switch {
	case errors.As(err, &se):
		v.Error = segmentErrorText(lang, se)
	case err != nil:
		c.fragmentError(w, r, "compose-count", err)
		return
	default:
		n, err := c.cfg.Compose.Segments.CountSegment(r.Context(), seg)
		if err != nil {
			c.fragmentError(w, r, "compose-count", err)
			return
		}
		v.Counted, v.Count = true, countText(lang, "compose.count.clients", n)
	}
	c.composeFragment(w, r, "compose-count", v)
}

// composePreview renders the text for sample clients of the segment and
// shows how the message looks on Telegram and VK.
func (c *Console) composePreview(w http.ResponseWriter, r *http.Request) {
	f := readComposeForm(w, r)
	camp, _ := f.campaign(langOf(r.Context()), c.cfg.Compose.location())
	v, err := c.previewView(r.Context(), langOf(r.Context()), f, camp)
	if err != nil {
		c.fragmentError(w, r, "compose-preview", err)
		return
	}
	c.composeFragment(w, r, "compose-preview", v)
}

// composeDryRun is the dry-run summary over the whole segment: who would
// get the message, who would be skipped and why, and the etiquette's
// warnings.
func (c *Console) composeDryRun(w http.ResponseWriter, r *http.Request) {
	f := readComposeForm(w, r)
	lang := langOf(r.Context())
	camp, errs := f.campaign(langOf(r.Context()), c.cfg.Compose.location())
	v := summaryView{Lang: lang}
	if msg, ok := errs["start_at"]; ok {
		v.Error = msg
		c.composeFragment(w, r, "compose-summary", v)
		return
	}
	sum, err := c.cfg.Compose.Planner.Summarize(r.Context(), camp)
	var ve *broadcast.ValidationError
	switch {
	case errors.As(err, &ve):
		v.Error = validationText(lang, ve)
	case err != nil:
		c.fragmentError(w, r, "compose-summary", err)
		return
	default:
		v = summarize(lang, sum, c.cfg.Compose.location(), camp.StartAt != nil)
	}
	c.composeFragment(w, r, "compose-summary", v)
}

// composeFragment renders one of compose.html's fragments alone (an htmx swap).
func (c *Console) composeFragment(w http.ResponseWriter, r *http.Request, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if err := c.pages["compose"].ExecuteTemplate(w, name, data); err != nil {
		c.cfg.Logger.Error("console: render fragment", "fragment", name, "err", err)
	}
}

// fragmentError answers a fragment whose service failed: the cause is
// logged, the fragment says only that it failed.
func (c *Console) fragmentError(w http.ResponseWriter, r *http.Request, name string, err error) {
	c.cfg.Logger.Error("console: composer", "fragment", name, "err", err)
	lang := langOf(r.Context())
	c.composeFragment(w, r, "compose-failed", failedView{Lang: lang, Text: i18n.T(lang, "compose.failed")})
}

// failedView is the data of the compose-failed fragment.
type failedView struct {
	Lang i18n.Lang
	Text string
}
