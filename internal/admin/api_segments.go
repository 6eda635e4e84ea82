package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// SegmentQueries compiles segment expressions, with the saved segments
// available to segment("name"), and runs them. *postgres.Store implements it.
type SegmentQueries interface {
	// CompileSegment gives a *segment.Error for a bad expression.
	CompileSegment(ctx context.Context, expr string) (*segment.Segment, error)
	CountSegment(ctx context.Context, seg *segment.Segment) (int64, error)
	SampleSegment(ctx context.Context, seg *segment.Segment, n int) ([]crm.Client, error)
}

// SavedSegments keeps named segments. *postgres.Store implements it: a
// missing segment's error wraps postgres.ErrNotFound, a segment others use
// postgres.ErrSegmentInUse, and a bad expression is a *segment.Error.
type SavedSegments interface {
	SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error)
	GetSegment(ctx context.Context, name string) (*segment.Definition, error)
	ListSegments(ctx context.Context) ([]segment.Definition, error)
	DeleteSegment(ctx context.Context, name string) error
}

// DefaultSampleSize is the sample endpoint's n when the request has none.
const DefaultSampleSize = postgres.DefaultSampleSize

func (a *API) segmentRoutes() {
	a.route("POST /api/segments/count", a.countSegment)
	a.route("POST /api/segments/sample", a.sampleSegment)
	a.route("GET /api/segments", a.listSegments)
	a.route("GET /api/segments/{name}", a.getSegment)
	a.route("PUT /api/segments/{name}", a.putSegment)
	a.route("DELETE /api/segments/{name}", a.deleteSegment)
}

// route registers a handler that returns its error for writeError.
func (a *API) route(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// segmentRequest is the body of count and sample.
type segmentRequest struct {
	Expr string `json:"expr"`
	N    *int   `json:"n,omitempty"`
}

// compileRequest reads a segment request and compiles its expression.
func (a *API) compileRequest(r *http.Request) (*segmentRequest, *segment.Segment, error) {
	var req segmentRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(req.Expr) == "" {
		return nil, nil, badInput("expr", `expr is required: a segment expression such as city == "Москва" and subscribed`)
	}
	seg, err := a.cfg.Segments.CompileSegment(r.Context(), req.Expr)
	if err != nil {
		return nil, nil, inField("expr", err)
	}
	return &req, seg, nil
}

func (a *API) countSegment(w http.ResponseWriter, r *http.Request) error {
	_, seg, err := a.compileRequest(r)
	if err != nil {
		return err
	}
	n, err := a.cfg.Segments.CountSegment(r.Context(), seg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": n, "as_of": seg.Now().UTC()})
	return nil
}

func (a *API) sampleSegment(w http.ResponseWriter, r *http.Request) error {
	req, seg, err := a.compileRequest(r)
	if err != nil {
		return err
	}
	n := DefaultSampleSize
	if req.N != nil {
		n = *req.N
	}
	if n < 1 || n > postgres.MaxSampleSize {
		return badInput("n", fmt.Sprintf("n must be from 1 to %d, got %d", postgres.MaxSampleSize, n))
	}
	clients, err := a.cfg.Segments.SampleSegment(r.Context(), seg, n)
	if err != nil {
		return err
	}
	out := make([]clientJSON, 0, len(clients))
	for i := range clients {
		out = append(out, newClientJSON(&clients[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out, "as_of": seg.Now().UTC()})
	return nil
}

// definitionJSON is a saved segment as the API shows it.
type definitionJSON struct {
	Name        string    `json:"name"`
	Expression  string    `json:"expression"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Count is how many clients match now (after a save only).
	Count *int64 `json:"count,omitempty"`
}

func newDefinitionJSON(d *segment.Definition) definitionJSON {
	return definitionJSON{Name: d.Name, Expression: d.Expression, Description: d.Description,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

func (a *API) listSegments(w http.ResponseWriter, r *http.Request) error {
	defs, err := a.cfg.SavedSegments.ListSegments(r.Context())
	if err != nil {
		return err
	}
	out := make([]definitionJSON, 0, len(defs))
	for i := range defs {
		out = append(out, newDefinitionJSON(&defs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": out})
	return nil
}

func (a *API) getSegment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := a.cfg.SavedSegments.GetSegment(r.Context(), name)
	if err != nil {
		return segmentNotFound(name, err)
	}
	writeJSON(w, http.StatusOK, newDefinitionJSON(d))
	return nil
}

// putSegmentRequest is the body of PUT /api/segments/{name}.
type putSegmentRequest struct {
	Expression  string `json:"expression"`
	Description string `json:"description"`
}

// putSegment creates or replaces a saved segment and answers it with how
// many clients it selects now.
func (a *API) putSegment(w http.ResponseWriter, r *http.Request) error {
	var req putSegmentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	d := segment.Definition{Name: r.PathValue("name"), Expression: req.Expression, Description: req.Description}
	if err := segment.ValidateNewName(d.Name); err != nil {
		return badInput("name", err.Error())
	}
	if err := d.Validate(); err != nil {
		return badInput("description", err.Error())
	}
	if strings.TrimSpace(d.Expression) == "" {
		return badInput("expression", "expression is required: the segment expression to save")
	}
	saved, err := a.cfg.SavedSegments.SaveSegment(r.Context(), d)
	if err != nil {
		return inField("expression", err)
	}
	seg, err := a.cfg.Segments.CompileSegment(r.Context(), saved.Expression)
	if err != nil {
		return err
	}
	n, err := a.cfg.Segments.CountSegment(r.Context(), seg)
	if err != nil {
		return err
	}
	out := newDefinitionJSON(saved)
	out.Count = &n
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.cfg.SavedSegments.DeleteSegment(r.Context(), name); err != nil {
		return segmentNotFound(name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// segmentNotFound turns the store's not-found error into a 404.
func segmentNotFound(name string, err error) error {
	if errors.Is(err, postgres.ErrNotFound) {
		return &statusError{status: http.StatusNotFound, msg: fmt.Sprintf("no saved segment %q", name), err: err}
	}
	return err
}
