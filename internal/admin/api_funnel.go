package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/messenger"
)

// FunnelReader computes scenario funnels (*funnel.Service implements it).
type FunnelReader interface {
	Funnel(ctx context.Context, q funnel.Query) (*funnel.Report, error)
}

// funnelRoutes registers the scenario funnel.
func (a *API) funnelRoutes() {
	a.route("GET /api/scenarios/{id}/funnel", a.scenarioFunnel)
}

// scenarioFunnel answers GET /api/scenarios/{id}/funnel?since=&version=&platform=&source=&bot=
// with funnel.Export (docs/API.md, docs/FUNNEL.md).
func (a *API) scenarioFunnel(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	since := q.Get("since")
	if since == "" {
		since = funnel.DefaultPeriod
	}
	period, err := funnel.ParsePeriod(since)
	if err != nil {
		return badInput("since", err.Error())
	}
	if p := q.Get("platform"); p != "" && !messenger.Platform(p).Valid() {
		return badInput("platform", fmt.Sprintf("platform must be telegram, vk or terminal, got %q", p))
	}
	rep, err := a.cfg.Funnels.Funnel(r.Context(), funnel.Query{Scenario: r.PathValue("id"), Bot: q.Get("bot"),
		Period: period, Version: q.Get("version"), Platform: q.Get("platform"), Source: q.Get("source")})
	switch {
	case errors.Is(err, funnel.ErrUnknownScenario):
		return &statusError{status: http.StatusNotFound, msg: err.Error()}
	case errors.Is(err, funnel.ErrChooseBot):
		return badInput("bot", err.Error())
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, rep.Export())
	return nil
}
