package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// DefaultMaxBodyBytes is APIConfig.MaxBodyBytes when it is not set.
const DefaultMaxBodyBytes = 1 << 20

// APIConfig configures the managers' JSON API under /api (docs/API.md).
type APIConfig struct {
	// Token is the bearer token every request must carry
	// (Authorization: Bearer <ADMIN_TOKEN>). Default "": the API is disabled
	// and every request gets 503 saying what to set.
	Token string
	// Segments counts and samples segment expressions. Required.
	Segments SegmentQueries
	// SavedSegments keeps named segments. Required.
	SavedSegments SavedSegments
	// Campaigns creates, lists and reads campaigns. Required.
	Campaigns CampaignBook
	// Control starts, pauses, resumes and cancels campaigns. Required.
	Control CampaignControl
	// Reports previews, counts and exports campaigns. Required.
	Reports CampaignReports
	// Clients erases clients (DELETE /api/clients/{id}, 152-FZ):
	// *ClientService. Default nil: no such route.
	Clients ClientEraser
	// Handoffs lists hand-off requests (GET /api/handoffs) and reads
	// transcripts (GET /api/clients/{id}/messages): *handoff.Service.
	// Default nil: no such routes.
	Handoffs HandoffReader
	// Funnels computes scenario funnels (GET /api/scenarios/{id}/funnel):
	// *funnel.Service. Default nil: no such route.
	Funnels FunnelReader
	// Overview counts Обзор's charts (GET /api/overview/charts):
	// *postgres.Store. Default nil: no such route.
	Overview OverviewCharter
	// Location is the time zone of the charts' days (DEFAULT_TIMEZONE).
	// Default UTC.
	Location *time.Location
	// MaxBodyBytes caps a request body; a larger one gets 413.
	// Default DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// Logger defaults to slog.Default(). The token is never logged.
	Logger *slog.Logger
}

func (c *APIConfig) setDefaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func (c *APIConfig) validate() error {
	var errs []error
	if c.Segments == nil || c.SavedSegments == nil {
		errs = append(errs, errors.New("admin api: Segments and SavedSegments are required"))
	}
	if c.Campaigns == nil || c.Control == nil || c.Reports == nil {
		errs = append(errs, errors.New("admin api: Campaigns, Control and Reports are required"))
	}
	return errors.Join(errs...)
}

// API is the managers' HTTP JSON API. Mount it on a Server with
// Handle("/api/", api).
type API struct {
	cfg APIConfig
	mux *http.ServeMux
	log *slog.Logger
}

// NewAPI returns the API with every route registered.
func NewAPI(cfg APIConfig) (*API, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &API{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger}
	a.segmentRoutes()
	a.campaignRoutes()
	if cfg.Clients != nil {
		a.route("DELETE /api/clients/{id}", a.deleteClient)
	}
	if cfg.Handoffs != nil {
		a.handoffRoutes()
	}
	if cfg.Funnels != nil {
		a.funnelRoutes()
	}
	if cfg.Overview != nil {
		a.overviewRoutes()
	}
	return a, nil
}

// Enabled reports whether a token is configured.
func (a *API) Enabled() bool { return a.cfg.Token != "" }

// ServeHTTP authenticates the request and routes it. Unknown paths get a
// JSON 404, a known path with another method a JSON 405.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.authorize(w, r) {
		return
	}
	if h, pattern := a.mux.Handler(r); pattern == "" {
		a.routeError(w, r, h)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
	a.mux.ServeHTTP(w, r) // routes again, which sets the path values
}

// routeError answers a request no route takes with the status the mux
// chose (404, 405 with its Allow header) as a JSON error.
func (a *API) routeError(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	msg := "no such API endpoint: " + r.Method + " " + r.URL.Path + " (see docs/API.md)"
	if rec.code == http.StatusMethodNotAllowed {
		msg = "method " + r.Method + " is not allowed on " + r.URL.Path + "; use " + rec.header.Get("Allow")
	}
	writeJSON(w, rec.code, errorBody{Error: msg})
}

// statusRecorder keeps only the status and headers a handler writes.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return len(b), nil
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}
