package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// CampaignBook creates and reads campaigns. *broadcast.Service implements
// it: a missing campaign's error wraps broadcast.ErrNotFound, bad input is
// a *broadcast.ValidationError.
type CampaignBook interface {
	Create(ctx context.Context, c broadcast.Campaign) (broadcast.Campaign, error)
	Get(ctx context.Context, id int64) (broadcast.Campaign, error)
	List(ctx context.Context) ([]broadcast.Campaign, error)
}

// CampaignControl moves campaigns between states. *broadcast.Service
// implements it: a move the state does not allow wraps
// broadcast.ErrInvalidTransition.
type CampaignControl interface {
	Start(ctx context.Context, id int64) error
	Pause(ctx context.Context, id int64) error
	Resume(ctx context.Context, id int64) error
	Cancel(ctx context.Context, id int64) error
}

// CampaignReports previews a campaign and reports on its ledger.
// *broadcast.Service implements it.
type CampaignReports interface {
	DryRun(ctx context.Context, id int64, n int) ([]broadcast.Preview, error)
	Stats(ctx context.Context, id int64) (broadcast.Stats, error)
	Deliveries(ctx context.Context, id int64, fn func(broadcast.Delivery) error) error
}

func (a *API) campaignRoutes() {
	a.route("GET /api/campaigns", a.listCampaigns)
	a.route("POST /api/campaigns", a.createCampaign)
	a.route("GET /api/campaigns/{id}", a.getCampaign)
	a.route("POST /api/campaigns/{id}/dry-run", a.dryRun)
	for action, do := range map[string]func(context.Context, int64) error{
		"start": a.cfg.Control.Start, "pause": a.cfg.Control.Pause,
		"resume": a.cfg.Control.Resume, "cancel": a.cfg.Control.Cancel,
	} {
		a.route("POST /api/campaigns/{id}/"+action, a.transition(do))
	}
	a.route("GET /api/campaigns/{id}/stats", a.campaignStats)
	a.route("GET /api/campaigns/{id}/deliveries.csv", a.exportDeliveries)
}

// classifyCampaignError maps the broadcast service's errors.
func classifyCampaignError(err error) (int, errorBody, bool) {
	var ve *broadcast.ValidationError
	switch {
	case errors.As(err, &ve):
		return http.StatusBadRequest, errorBody{Error: ve.Error(), Field: ve.Field}, true
	case errors.Is(err, broadcast.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: err.Error()}, true
	case errors.Is(err, broadcast.ErrInvalidTransition):
		return http.StatusConflict, errorBody{Error: err.Error()}, true
	}
	return 0, errorBody{}, false
}

// campaignID reads the {id} path value.
func campaignID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, badInput("id", fmt.Sprintf("campaign id must be a positive whole number, got %q", raw))
	}
	return id, nil
}

func (a *API) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.cfg.Campaigns.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]campaignJSON, 0, len(cs))
	for i := range cs {
		out = append(out, newCampaignJSON(&cs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
	return nil
}

func (a *API) createCampaign(w http.ResponseWriter, r *http.Request) error {
	var req campaignRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := req.campaign()
	if err != nil {
		return err
	}
	// Compiled here first so that a bad expression answers with its position.
	if _, err := a.cfg.Segments.CompileSegment(r.Context(), c.Segment); err != nil {
		return inField("segment", err)
	}
	created, err := a.cfg.Campaigns.Create(r.Context(), c)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/campaigns/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, newCampaignJSON(&created))
	return nil
}

// getCampaign answers the campaign as it is.
func (a *API) getCampaign(w http.ResponseWriter, r *http.Request) error {
	return a.transition(nil)(w, r)
}

// transition runs a state change (none when do is nil) and answers the
// campaign as it is after it.
func (a *API) transition(do func(context.Context, int64) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := campaignID(r)
		if err != nil {
			return err
		}
		if do != nil {
			if err := do(r.Context(), id); err != nil {
				return err
			}
		}
		c, err := a.cfg.Campaigns.Get(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newCampaignJSON(&c))
		return nil
	}
}

func (a *API) dryRun(w http.ResponseWriter, r *http.Request) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	n, err := queryInt(r, "n", broadcast.DefaultDryRunSize, 1, broadcast.MaxDryRunSize)
	if err != nil {
		return err
	}
	previews, err := a.cfg.Reports.DryRun(r.Context(), id, n)
	if err != nil {
		return err
	}
	out := make([]previewJSON, 0, len(previews))
	for _, p := range previews {
		out = append(out, previewJSON{ClientID: p.ClientID, Platform: string(p.Platform), Name: p.Name, Text: p.Text, Skipped: p.Skipped})
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign_id": id, "previews": out})
	return nil
}

// queryInt reads an optional whole-number query parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, badInput(name, fmt.Sprintf("%s must be a whole number from %d to %d, got %q", name, lo, hi, raw))
	}
	return n, nil
}

func (a *API) campaignStats(w http.ResponseWriter, r *http.Request) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	c, err := a.cfg.Campaigns.Get(r.Context(), id)
	if err != nil {
		return err
	}
	st, err := a.cfg.Reports.Stats(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStatsJSON(&c, &st))
	return nil
}

// campaignRequest is the body of POST /api/campaigns.
type campaignRequest struct {
	Name string `json:"name"`
	// Segment is a segment expression; SavedSegment names a saved one
	// instead (exactly one of the two).
	Segment      string       `json:"segment"`
	SavedSegment string       `json:"saved_segment"`
	Text         string       `json:"text"`
	Buttons      []buttonJSON `json:"buttons"`
	ImageURL     string       `json:"image_url"`
	Platforms    []string     `json:"platforms"`
	// StartAt is an RFC 3339 time ("2026-12-24T10:00:00+03:00"); empty: a draft.
	StartAt            string `json:"start_at"`
	IgnoreFrequencyCap bool   `json:"ignore_frequency_cap"`
	IgnoreQuietHours   bool   `json:"ignore_quiet_hours"`
}

// campaign checks what the service cannot tell apart (which segment field,
// platform names) and builds the campaign to create.
func (q *campaignRequest) campaign() (broadcast.Campaign, error) {
	expr, err := SegmentExpr(q.Segment, q.SavedSegment)
	if err != nil {
		return broadcast.Campaign{}, err
	}
	c := broadcast.Campaign{
		Name: q.Name, Segment: expr, Text: q.Text, ImageURL: q.ImageURL,
		IgnoreFrequencyCap: q.IgnoreFrequencyCap, IgnoreQuietHours: q.IgnoreQuietHours,
	}
	if q.StartAt != "" {
		at, err := time.Parse(time.RFC3339, q.StartAt)
		if err != nil {
			return broadcast.Campaign{}, badInput("start_at", fmt.Sprintf("start_at %q is not an RFC 3339 time like 2026-12-24T10:00:00+03:00", q.StartAt))
		}
		c.StartAt = &at
	}
	for _, b := range q.Buttons {
		c.Buttons = append(c.Buttons, broadcast.Button{Text: b.Text, URL: b.URL, Scenario: b.Scenario})
	}
	for i, p := range q.Platforms {
		if pl := messenger.Platform(p); pl != messenger.Telegram && pl != messenger.VK {
			return broadcast.Campaign{}, badInput(fmt.Sprintf("platforms[%d]", i), fmt.Sprintf("unknown platform %q (telegram, vk)", p))
		}
		c.Platforms = append(c.Platforms, messenger.Platform(p))
	}
	return c, nil
}

// SegmentExpr returns the campaign segment from either an expression or the
// name of a saved segment (as segment("name")); exactly one must be given.
func SegmentExpr(expr, saved string) (string, error) {
	expr, saved = strings.TrimSpace(expr), strings.TrimSpace(saved)
	switch {
	case expr != "" && saved != "":
		return "", badInput("segment", "give either segment (an expression) or saved_segment (a name), not both")
	case saved != "":
		if err := segment.ValidateName(saved); err != nil {
			return "", badInput("saved_segment", err.Error())
		}
		return "segment(" + strconv.Quote(saved) + ")", nil
	case expr == "":
		return "", badInput("segment", `segment is required: an expression such as subscribed and city == "Москва", or saved_segment`)
	}
	return expr, nil
}
