package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// ClientQueries reads clients (*postgres.Store).
type ClientQueries interface {
	ListClients(ctx context.Context, opt postgres.ListOptions) ([]crm.Client, error)
	CountClients(ctx context.Context, opt postgres.ListOptions) (int64, error)
	ClientByID(ctx context.Context, id int64) (*crm.Client, error)
	Answers(ctx context.Context, clientID int64, limit int) ([]crm.Answer, error)
	ClientDeliveries(ctx context.Context, clientID int64, limit int) ([]postgres.ClientDelivery, error)
}

// ClientSegmentCompiler compiles a segment expression (*postgres.Store): a bad
// one gives a *segment.Error with its position.
type ClientSegmentCompiler interface {
	CompileSegment(ctx context.Context, expr string) (*segment.Segment, error)
}

// ClientSegmentSaver saves a named segment: the audited saved-segment service
// the API uses (*admin.Audited), so the audit log names the console user.
type ClientSegmentSaver interface {
	SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error)
}

// ClientEditor edits and erases clients with an audit trail
// (*admin.ClientService).
type ClientEditor interface {
	Edit(ctx context.Context, id int64, ch admin.ClientChange) error
	Erase(ctx context.Context, id int64) error
}

// ClientUserDirectory lists the console's users (*account.Service): their names
// are offered as assigned managers.
type ClientUserDirectory interface {
	Users(ctx context.Context) ([]account.User, error)
}

// ClientExportLog audits an export of client cards (*admin.ClientService):
// the CSV of every client a filter selects is personal data leaving the
// hub, so it is recorded as client.export under the console's user.
type ClientExportLog interface {
	RecordExport(ctx context.Context, e admin.ClientExport)
}

// ClientPages is what Клиенты needs of the services. The zero value leaves
// the section "not ready yet"; Clients, Segments, Saver and Editor are
// needed together. Users is optional (no suggestions without it).
type ClientPages struct {
	Clients  ClientQueries
	Segments ClientSegmentCompiler
	Saver    ClientSegmentSaver
	Editor   ClientEditor
	Users    ClientUserDirectory
	// Exports audits the CSV export; nil: the Editor does when it can
	// (*admin.ClientService).
	Exports ClientExportLog
}

func (p ClientPages) configured() bool {
	return p.Clients != nil && p.Segments != nil && p.Saver != nil && p.Editor != nil
}

// clientRoutes registers Клиенты's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) clientRoutes(mux *http.ServeMux) {
	if !c.cfg.Clients.configured() {
		return
	}
	c.sectionPages["/clients"] = c.clientList
	m := account.RoleManager
	c.handle(mux, "POST /clients/count", m, c.clientCount)
	c.handle(mux, "GET /clients/export.csv", m, c.clientExport)
	c.handle(mux, "POST /clients/save-segment", m, c.clientSaveSegment)
	c.handle(mux, "GET /clients/{id}", m, c.clientCard)
	c.handle(mux, "POST /clients/{id}/tags", m, c.clientAddTag)
	c.handle(mux, "POST /clients/{id}/tags/remove", m, c.clientRemoveTag)
	c.handle(mux, "POST /clients/{id}/manager", m, c.clientSetManager)
	c.handle(mux, "GET /clients/{id}/delete", m, c.clientDeleteConfirm)
	c.handle(mux, "POST /clients/{id}/delete", m, c.clientDelete)
}

// clientFilter is the list's filter as asked: a search and a segment
// expression, both optional.
type clientFilter struct {
	Search, Segment string
}

func clientFilterFrom(v url.Values) clientFilter {
	return clientFilter{Search: strings.TrimSpace(v.Get("q")), Segment: strings.TrimSpace(v.Get("segment"))}
}

// query is the filter as URL parameters (with before > 0, the cursor).
func (f clientFilter) query(before int64) url.Values {
	q := url.Values{}
	if f.Search != "" {
		q.Set("q", f.Search)
	}
	if f.Segment != "" {
		q.Set("segment", f.Segment)
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	return q
}

// url is path with the filter's query.
func (f clientFilter) url(path string, before int64) string {
	if q := f.query(before); len(q) > 0 {
		return path + "?" + q.Encode()
	}
	return path
}

// clientOptions compiles the filter into list options: a *segment.Error for a
// bad expression, an error wrapping postgres.ErrBadSearch for a bad search
// (found when the store runs it).
func (c *Console) clientOptions(ctx context.Context, f clientFilter) (postgres.ListOptions, error) {
	opt := postgres.ListOptions{Search: f.Search}
	if f.Segment != "" {
		seg, err := c.cfg.Clients.Segments.CompileSegment(ctx, f.Segment)
		if err != nil {
			return opt, err
		}
		opt.Segment = seg
	}
	return opt, nil
}

// clientID reads the {id} of a card's path: ok false after answering 404.
func (c *Console) clientID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.notFound(w, r)
		return 0, false
	}
	return id, true
}

// isBadClientFilter reports an error the person can fix in the filter.
func isBadClientFilter(err error) bool {
	var se *segment.Error
	return errors.As(err, &se) || errors.Is(err, postgres.ErrBadSearch)
}
