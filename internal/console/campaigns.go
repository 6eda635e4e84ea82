package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
)

// CampaignReader reads a campaign, its statistics and its ledger:
// *broadcast.Service implements it (the API's Reports and the CLI use the
// same methods, so the numbers agree everywhere).
type CampaignReader interface {
	Get(ctx context.Context, id int64) (broadcast.Campaign, error)
	Stats(ctx context.Context, id int64) (broadcast.Stats, error)
	Deliveries(ctx context.Context, id int64, fn func(broadcast.Delivery) error) error
}

// CampaignControl moves a campaign through its lifecycle: the audited
// control service of the API (*admin.Audited over *broadcast.Service), so
// the audit log names the console's user.
type CampaignControl interface {
	Start(ctx context.Context, id int64) error
	Pause(ctx context.Context, id int64) error
	Resume(ctx context.Context, id int64) error
	Cancel(ctx context.Context, id int64) error
}

// CampaignLedger reads campaigns and ledgers a page at a time
// (*postgres.Store implements it): the list newest first by keyset, the
// counts of a page of campaigns in one query, and a campaign's failed and
// blocked deliveries by keyset.
type CampaignLedger interface {
	CampaignPage(ctx context.Context, before int64, limit int) ([]broadcast.Campaign, error)
	LedgerCounts(ctx context.Context, ids []int64) (map[int64]broadcast.Stats, error)
	FailedDeliveries(ctx context.Context, campaignID, after int64, limit int) ([]broadcast.Delivery, error)
}

// CampaignPages is what Рассылки needs of the services. The zero value
// leaves the section "not ready yet"; Campaigns, Control and Ledger are
// needed together.
type CampaignPages struct {
	Campaigns CampaignReader
	Control   CampaignControl
	Ledger    CampaignLedger
	// Policy is the deployment's mailing etiquette (broadcast.Service's
	// Policy), shown on a campaign's page; nil: not shown.
	Policy *broadcast.Policy

	// finished keeps the counts of campaigns finished a while ago
	// (campaigns_cache.go); set by campaignRoutes.
	finished *finishedStats
}

func (p *CampaignPages) configured() bool {
	return p.Campaigns != nil && p.Control != nil && p.Ledger != nil
}

// Page sizes of Рассылки.
const (
	campaignListSize = 50
	failuresPageSize = 50
)

// How often a campaign's page refreshes its progress (htmx polling of the
// progress fragment): every second while it runs; a paused campaign only
// finishes the batches in the workers' hands, and a scheduled one waits
// for its time (then the page reloads as running), so they poll slower.
const (
	pollRunning   = "1s"
	pollPaused    = "5s"
	pollScheduled = "10s"
	// pollList: the list refreshes its table while a campaign of it runs.
	pollList = "5s"
)

// campaignRoutes registers Рассылки's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) campaignRoutes(mux *http.ServeMux) {
	if !c.cfg.Campaigns.configured() {
		return
	}
	c.cfg.Campaigns.finished = newFinishedStats()
	c.sectionPages["/campaigns"] = c.campaignList
	c.handle(mux, "GET /campaigns/{id}", account.RoleManager, c.campaignPage)
	c.handle(mux, "GET /campaigns/{id}/progress", account.RoleManager, c.campaignProgress)
	c.handle(mux, "GET /campaigns/{id}/deliveries.csv", account.RoleManager, c.campaignExport)
	for _, a := range campaignActions {
		c.handle(mux, "POST /campaigns/{id}/"+a.name, account.RoleManager, c.campaignAction(a))
	}
}

// campaignAction is one control of a campaign's page.
type campaignAction struct {
	name string // start, pause, resume, cancel: the path and the catalog keys
	// shown tells whether a campaign in state offers the action.
	shown func(broadcast.State) bool
	do    func(CampaignControl, context.Context, int64) error
}

// campaignActions are the controls in the order the page shows them. The
// service decides what is allowed; shown only keeps the page from offering
// a move the state does not allow.
var campaignActions = []campaignAction{
	{"start", func(s broadcast.State) bool { return s == broadcast.Draft || s == broadcast.Scheduled }, CampaignControl.Start},
	{"pause", func(s broadcast.State) bool { return broadcast.CanTransition(s, broadcast.Paused) }, CampaignControl.Pause},
	{"resume", func(s broadcast.State) bool { return s == broadcast.Paused }, CampaignControl.Resume},
	{"cancel", func(s broadcast.State) bool { return broadcast.CanTransition(s, broadcast.Cancelled) }, CampaignControl.Cancel},
}

func findAction(name string) (campaignAction, bool) {
	for _, a := range campaignActions {
		if a.name == name {
			return a, true
		}
	}
	return campaignAction{}, false
}

// campaignList is Рассылки: every campaign newest first with its state and
// exact progress from the ledger, keyset-paged by ?before=<id>.
func (c *Console) campaignList(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			c.render(w, r, http.StatusBadRequest, "error", "campaigns.bad_cursor.title", i18n.T(lang, "campaigns.bad_cursor.text"))
			return
		}
		before = n
	}
	p := c.cfg.Campaigns
	list, err := p.Ledger.CampaignPage(r.Context(), before, campaignListSize+1)
	if err != nil {
		c.cfg.Logger.Error("console: list campaigns", "err", err)
		c.serverError(w, r)
		return
	}
	more := len(list) > campaignListSize
	if more {
		list = list[:campaignListSize]
	}
	counts, err := c.ledgerCounts(r.Context(), list)
	if err != nil {
		c.cfg.Logger.Error("console: count campaign ledgers", "err", err)
		c.serverError(w, r)
		return
	}
	c.render(w, r, http.StatusOK, "campaigns", "campaigns.title", newCampaignListView(lang, list, counts, before, more))
}

// ledgerCounts counts the ledgers of list: the kept counts of campaigns
// finished a while ago, one grouped query for the others.
func (c *Console) ledgerCounts(ctx context.Context, list []broadcast.Campaign) (map[int64]broadcast.Stats, error) {
	p := c.cfg.Campaigns
	out := make(map[int64]broadcast.Stats, len(list))
	var ids []int64
	for i := range list {
		if st, ok := p.finished.get(&list[i], false); ok {
			out[list[i].ID] = st
		} else {
			ids = append(ids, list[i].ID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	counts, err := p.Ledger.LedgerCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if _, kept := out[list[i].ID]; !kept {
			st := counts[list[i].ID] // absent: no rows
			out[list[i].ID] = st
			p.finished.put(&list[i], st, false)
		}
	}
	return out, nil
}

// campaignID reads the {id} of the path; ok false when it is no id.
func campaignID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// loadCampaign reads campaign {id} and its statistics; it answers 404 or
// 500 itself and returns ok false then.
func (c *Console) loadCampaign(w http.ResponseWriter, r *http.Request) (broadcast.Campaign, broadcast.Stats, bool) {
	id, ok := campaignID(r)
	if !ok {
		c.notFound(w, r)
		return broadcast.Campaign{}, broadcast.Stats{}, false
	}
	camp, err := c.cfg.Campaigns.Campaigns.Get(r.Context(), id)
	if errors.Is(err, broadcast.ErrNotFound) {
		c.notFound(w, r)
		return camp, broadcast.Stats{}, false
	}
	if err != nil {
		c.cfg.Logger.Error("console: get campaign", "campaign", id, "err", err)
		c.serverError(w, r)
		return camp, broadcast.Stats{}, false
	}
	if st, ok := c.cfg.Campaigns.finished.get(&camp, true); ok {
		return camp, st, true
	}
	st, err := c.cfg.Campaigns.Campaigns.Stats(r.Context(), id)
	if err != nil {
		c.cfg.Logger.Error("console: campaign stats", "campaign", id, "err", err)
		c.serverError(w, r)
		return camp, st, false
	}
	c.cfg.Campaigns.finished.put(&camp, st, true)
	return camp, st, true
}

// campaignPage is a campaign's page: what it sends to whom and when, the
// controls, progress (polled while it runs), the statistics and the
// failures (?failed_after=<client id> pages them).
func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request) {
	c.showCampaign(w, r, http.StatusOK, "")
}

// showCampaign renders a campaign's page with status and, when errText is
// set, that error above the controls.
func (c *Console) showCampaign(w http.ResponseWriter, r *http.Request, status int, errText string) {
	lang := langOf(r.Context())
	var after int64
	if s := r.URL.Query().Get("failed_after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			c.render(w, r, http.StatusBadRequest, "error", "campaigns.bad_cursor.title", i18n.T(lang, "campaigns.bad_cursor.text"))
			return
		}
		after = n
	}
	camp, st, ok := c.loadCampaign(w, r)
	if !ok {
		return
	}
	failures, err := c.cfg.Campaigns.Ledger.FailedDeliveries(r.Context(), camp.ID, after, failuresPageSize+1)
	if err != nil {
		c.cfg.Logger.Error("console: failed deliveries", "campaign", camp.ID, "err", err)
		c.serverError(w, r)
		return
	}
	v := newCampaignView(lang, &camp, &st, c.cfg.Campaigns.Policy)
	v.Error = errText
	v.Failures = newFailuresView(lang, camp.ID, after, failures)
	if a, ok := findAction(r.URL.Query().Get("confirm")); ok && a.shown(camp.State) && errText == "" {
		v.Confirm = newConfirmView(lang, camp.State, &st, a.name)
	}
	c.render(w, r, status, "campaigns_show", "campaigns.page_title", v)
}

// campaignProgress is the progress fragment htmx polls while the campaign
// runs. Rendered for a finished campaign it carries no hx-trigger, so the
// polling stops; when the state differs from the one the page shows
// (?shown=), HX-Refresh reloads the page for its new controls.
func (c *Console) campaignProgress(w http.ResponseWriter, r *http.Request) {
	camp, st, ok := c.loadCampaign(w, r)
	if !ok {
		return
	}
	v := newProgressView(langOf(r.Context()), &camp, &st)
	h := w.Header()
	if shown := r.URL.Query().Get("shown"); shown != "" && shown != string(camp.State) {
		h.Set("HX-Refresh", "true")
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	if err := c.pages["campaigns_show"].ExecuteTemplate(w, "campaign-progress", v); err != nil {
		c.cfg.Logger.Error("console: render campaign progress", "campaign", camp.ID, "err", err)
	}
}

// campaignAction handles POST /campaigns/{id}/<action>: the move through
// the audited control service as the signed-in user, then back to the
// page (303); a move the state does not allow shows the page again with
// the reason in words (409).
func (c *Console) campaignAction(a campaignAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := campaignID(r)
		if !ok {
			c.notFound(w, r)
			return
		}
		err := a.do(c.cfg.Campaigns.Control, actorContext(r), id)
		switch {
		case err == nil:
			http.Redirect(w, r, "/campaigns/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		case errors.Is(err, broadcast.ErrNotFound):
			c.notFound(w, r)
		case errors.Is(err, broadcast.ErrInvalidTransition):
			c.refused(w, r, id, a.name)
		default:
			c.cfg.Logger.Error("console: campaign "+a.name, "campaign", id, "err", err)
			c.serverError(w, r)
		}
	}
}

// refused shows the campaign's page with why action is not possible in
// its current state.
func (c *Console) refused(w http.ResponseWriter, r *http.Request, id int64, action string) {
	lang := langOf(r.Context())
	camp, err := c.cfg.Campaigns.Campaigns.Get(r.Context(), id)
	if err != nil {
		c.cfg.Logger.Error("console: get campaign", "campaign", id, "err", err)
		c.serverError(w, r)
		return
	}
	text := i18n.T(lang, "campaigns.refused."+action, stateLabel(lang, camp.State))
	// The page is the campaign's, not the POST's: the language switch and
	// the address bar (htmx pushes HX-Push-Url) point at it.
	page := "/campaigns/" + strconv.FormatInt(id, 10)
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawQuery = page, ""
	r2.SetPathValue("id", strconv.FormatInt(id, 10))
	w.Header().Set("HX-Push-Url", page)
	c.showCampaign(w, r2, http.StatusConflict, text)
}

// campaignExport streams the campaign's ledger as CSV with the API's
// writer (admin.DeliveryCSV): the same columns as the API's
// deliveries.csv and `chathub broadcast export`. An error after the first
// row aborts the response, so a cut file never passes for a whole one.
func (c *Console) campaignExport(w http.ResponseWriter, r *http.Request) {
	id, ok := campaignID(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	rc := http.NewResponseController(w)
	out := admin.NewDeliveryCSV(w)
	started := false
	start := func() {
		started = true
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(id, 10)+`-deliveries.csv"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
	}
	err := c.cfg.Campaigns.Campaigns.Deliveries(r.Context(), id, func(d broadcast.Delivery) error {
		if !started {
			start()
		}
		if err := out.Write(d); err != nil {
			return err
		}
		if out.Rows()%500 == 0 {
			if err := out.Flush(); err != nil {
				return err
			}
			_ = rc.Flush()
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		}
		return nil
	})
	switch {
	case errors.Is(err, broadcast.ErrNotFound) && !started:
		c.notFound(w, r)
		return
	case err != nil && !started:
		c.cfg.Logger.Error("console: export deliveries", "campaign", id, "err", err)
		c.serverError(w, r)
		return
	case err == nil && !started:
		start()
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		c.cfg.Logger.Warn("console: deliveries export cut short", "campaign", id, "rows", out.Rows(), "err", err)
		panic(http.ErrAbortHandler)
	}
}
