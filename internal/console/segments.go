package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// SegmentBook is the saved segments as every writer changes them: through
// the audited service (*admin.Audited), so that a save or a delete is in
// the audit log under the signed-in user.
type SegmentBook interface {
	ListSegments(ctx context.Context) ([]segment.Definition, error)
	// GetSegment's error wraps postgres.ErrNotFound when there is none.
	GetSegment(ctx context.Context, name string) (*segment.Definition, error)
	// SaveSegment creates or replaces d; a bad expression is a
	// *segment.Error.
	SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error)
	// DeleteSegment's error wraps postgres.ErrSegmentInUse while other
	// segments or unfinished campaigns use it.
	DeleteSegment(ctx context.Context, name string) error
}

// SegmentQueries compiles and runs segment expressions against the
// clients (*postgres.Store).
type SegmentQueries interface {
	// CompileSegment compiles expr with the saved segments; a bad one is
	// a *segment.Error with its position.
	CompileSegment(ctx context.Context, expr string) (*segment.Segment, error)
	CountSegment(ctx context.Context, seg *segment.Segment) (int64, error)
	// PeekSegment gives a few clients of seg from a random place, without
	// sorting every match.
	PeekSegment(ctx context.Context, seg *segment.Segment, n int) ([]crm.Client, error)
	// SegmentCampaigns maps saved segments to the campaigns using them.
	SegmentCampaigns(ctx context.Context) (map[string][]postgres.SegmentCampaign, error)
	// Dialect names the SQL the explanation shows ("postgres", "sqlite").
	Dialect() string
}

// SegmentPages is what Сегменты needs of the services. The zero value leaves
// the section "not ready yet".
type SegmentPages struct {
	Book    SegmentBook
	Queries SegmentQueries
}

// segQueryTimeout bounds the queries of one live preview or count, so an
// expression typed half-way cannot keep the database busy.
const segQueryTimeout = 10 * time.Second

// segSampleSize is how many sample cards the editor shows.
const segSampleSize = 5

// segmentRoutes registers Сегменты's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) segmentRoutes(mux *http.ServeMux) {
	p := c.cfg.Segments
	if p.Book == nil || p.Queries == nil {
		return
	}
	c.sectionPages["/segments"] = c.segmentList
	c.handle(mux, "GET /segments/new", account.RoleManager, c.segmentNew)
	c.handle(mux, "POST /segments/count", account.RoleManager, c.segmentPreview)
	c.handle(mux, "POST /segments/save", account.RoleManager, c.segmentSave)
	c.handle(mux, "GET /segments/{name}", account.RoleManager, c.segmentEdit)
	c.handle(mux, "GET /segments/{name}/count", account.RoleManager, c.segmentCount)
	c.handle(mux, "POST /segments/{name}/delete", account.RoleManager, c.segmentDelete)
}

// segListView is the data of Сегменты's list.
type segListView struct {
	Rows []segRow
	// Saved and Deleted name the segment just saved or deleted.
	Saved, Deleted string
}

// segRow is one saved segment in the list.
type segRow struct {
	Name, Description, Expression string
	Campaigns                     []segCampaign
}

// segCampaign is a campaign using a segment.
type segCampaign struct {
	ID         int64
	Name       string
	StateLabel string
	// Finished is true once it no longer needs the segment.
	Finished bool
}

// segmentList is Сегменты: every saved segment with its campaigns; each
// count arrives by itself (segmentCount), so the page costs one query
// however many segments there are.
func (c *Console) segmentList(w http.ResponseWriter, r *http.Request) {
	p := c.cfg.Segments
	lang := langOf(r.Context())
	defs, err := p.Book.ListSegments(r.Context())
	if err != nil {
		c.cfg.Logger.Error("console: list segments", "err", err)
		c.serverError(w, r)
		return
	}
	uses, err := p.Queries.SegmentCampaigns(r.Context())
	if err != nil {
		c.cfg.Logger.Error("console: campaigns of segments", "err", err)
		c.serverError(w, r)
		return
	}
	// The notices echo only a segment name: the saved one must be on the
	// list, the deleted one a valid name (a crafted link shows nothing).
	v := segListView{}
	if name := r.URL.Query().Get("deleted"); segment.ValidateName(name) == nil {
		v.Deleted = name
	}
	saved := r.URL.Query().Get("saved")
	for _, d := range defs {
		if d.Name == saved {
			v.Saved = saved
		}
		v.Rows = append(v.Rows, segRow{Name: d.Name, Description: d.Description, Expression: d.Expression,
			Campaigns: segCampaignsOf(lang, uses[d.Name])})
	}
	c.render(w, r, http.StatusOK, "segments", "segments.title", v)
}

func segCampaignsOf(lang i18n.Lang, cs []postgres.SegmentCampaign) []segCampaign {
	out := make([]segCampaign, 0, len(cs))
	for _, sc := range cs {
		out = append(out, segCampaign{ID: sc.ID, Name: sc.Name, StateLabel: ovLabel(lang, "segments.state.", string(sc.State)),
			Finished: sc.Finished()})
	}
	return out
}

// segCountView is the count fragment of one saved segment.
type segCountView struct {
	Lang  i18n.Lang
	Count string
	// Failed is true when the segment does not compile or count.
	Failed bool
}

// segmentCount answers the count fragment of the saved segment {name}
// (the list loads each with htmx).
func (c *Console) segmentCount(w http.ResponseWriter, r *http.Request) {
	p := c.cfg.Segments
	lang := langOf(r.Context())
	ctx, cancel := context.WithTimeout(r.Context(), segQueryTimeout)
	defer cancel()
	v := segCountView{Lang: lang}
	d, err := p.Book.GetSegment(ctx, r.PathValue("name"))
	if errors.Is(err, postgres.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err == nil {
		var seg *segment.Segment
		if seg, err = p.Queries.CompileSegment(ctx, d.Expression); err == nil {
			var n int64
			if n, err = p.Queries.CountSegment(ctx, seg); err == nil {
				v.Count = i18n.Plural(lang, "segments.clients", n)
			}
		}
	}
	if err != nil {
		c.cfg.Logger.Warn("console: count a saved segment", "err", err)
		v.Failed = true
	}
	c.segWrite(w, http.StatusOK, "segments", "seg-count", v)
}

// segWrite writes one template of page alone (an htmx swap) with status.
func (c *Console) segWrite(w http.ResponseWriter, status int, page, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := c.pages[page].ExecuteTemplate(w, name, data); err != nil {
		c.cfg.Logger.Error("console: render fragment", "page", page, "fragment", name, "err", err)
	}
}
