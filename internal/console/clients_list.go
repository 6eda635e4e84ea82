package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// clientPageSize is how many clients one page of Клиенты shows;
// clientExportBatch how many an export reads per keyset page.
const (
	clientPageSize    = 50
	clientExportBatch = 1000
)

// clientListView is the data of the Клиенты page.
type clientListView struct {
	Search, Segment string
	Status          clientStatusView
	Rows            []clientRowView
	// Paged is true past the first page; Filtered when a filter is set.
	Paged, Filtered bool
	// Older links to the next, older page ("" on the last one); Newest to
	// the first page with the same filter; Export to the CSV of every
	// matching client.
	Older, Newest, Export string
	// CanSave offers "save as segment" (a valid expression is applied);
	// OpenSave shows its form open (?save=1: the funnel's "save as
	// segment").
	CanSave, OpenSave bool
	// SaveName, SaveDescription and SaveError are the save form's values
	// and its error after a refused save.
	SaveName, SaveDescription, SaveError string
	// Saved names the segment just saved; Deleted is set after an erasure.
	Saved   string
	Deleted bool
}

// clientStatusView is the live status under the filter (the fragment
// "clients-status"): how many clients match, or what is wrong.
type clientStatusView struct {
	Lang i18n.Lang
	// Count is the number of matching clients, when Counted.
	Count   int64
	Counted bool
	// Pending asks the page to load the count (POST /clients/count) once
	// shown.
	Pending bool
	// Expr is the segment expression's error; BadSearch a search that
	// cannot be run.
	Expr      *clientExprError
	BadSearch bool
}

// clientExprError is a segment expression's error with its position: Text is
// the expression's line the error is on, Caret spaces (tabs kept) up to a
// "^" under the column.
type clientExprError struct {
	Msg          string
	Line, Column int
	Text, Caret  string
}

// clientRowView is one client as the table shows it.
type clientRowView struct {
	ID                          int64
	Name, Username, Phone, City string
	Platform                    string
	Subscribed                  bool
	Tags                        []string
	Created, CreatedISO         string
}

// clientList is Клиенты: search and segment filters with a live count, the
// clients newest first, paged by the keyset cursor ?before=<id>.
func (c *Console) clientList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := clientListView{Deleted: q.Get("deleted") == "1"}
	if name := q.Get("saved"); segment.ValidateName(name) == nil {
		v.Saved = name // only a segment name is echoed in the notice
	}
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			lang := langOf(r.Context())
			c.render(w, r, http.StatusBadRequest, "error", "clients.bad_cursor.title", i18n.T(lang, "clients.bad_cursor.text"))
			return
		}
		before = n
	}
	status, ok := c.fillClientList(w, r, &v, clientFilterFrom(q), before)
	if !ok {
		return
	}
	v.OpenSave = v.CanSave && q.Get("save") == "1"
	c.render(w, r, status, "clients", "clients.title", v)
}

// fillClientList fills v's filter, status, rows and links; ok false after
// answering a failure (500).
func (c *Console) fillClientList(w http.ResponseWriter, r *http.Request, v *clientListView, f clientFilter, before int64) (int, bool) {
	ctx := r.Context()
	v.Search, v.Segment = f.Search, f.Segment
	v.Filtered = f.Search != "" || f.Segment != ""
	v.Paged = before > 0
	v.Status = clientStatusView{Lang: langOf(ctx)}
	opt, err := c.clientOptions(ctx, f)
	var clients []crm.Client
	if err == nil {
		opt.BeforeID, opt.Limit = before, clientPageSize+1
		clients, err = c.cfg.Clients.Clients.ListClients(ctx, opt)
	}
	if err != nil {
		if !c.clientBadFilter(&v.Status, err, f.Segment) {
			c.cfg.Logger.Error("console: list clients", "err", err)
			c.serverError(w, r)
			return 0, false
		}
		return http.StatusOK, true
	}
	// The count comes with the status fragment the page loads next (one
	// query per request: the page's time is the page's, the count's the
	// fragment's).
	v.Status.Pending = true
	v.CanSave = f.Segment != ""
	more := len(clients) > clientPageSize
	if more {
		clients = clients[:clientPageSize]
	}
	layout := i18n.T(langOf(ctx), "clients.time_layout")
	for i := range clients {
		v.Rows = append(v.Rows, newClientRow(&clients[i], layout))
	}
	if more {
		v.Older = f.url("/clients", clients[len(clients)-1].ID)
	}
	if v.Paged {
		v.Newest = f.url("/clients", 0)
	}
	v.Export = f.url("/clients/export.csv", 0)
	return http.StatusOK, true
}

// clientBadFilter puts a filter's fixable error into st (a segment's located in
// src, the expression) and reports whether it was one.
func (c *Console) clientBadFilter(st *clientStatusView, err error, src string) bool {
	var se *segment.Error
	switch {
	case errors.As(err, &se):
		st.Expr = newClientExprError(se).withSource(src)
		return true
	case errors.Is(err, postgres.ErrBadSearch):
		st.BadSearch = true
		return true
	}
	return false
}

// newClientExprError locates se in its expression. A saved segment's inner
// error (se.Err) is reported at the reference, where the person typed.
func newClientExprError(se *segment.Error) *clientExprError {
	e := &clientExprError{Msg: se.Msg, Line: se.Line, Column: se.Column}
	var inner *segment.Error
	if errors.As(se.Err, &inner) && inner != se {
		e.Msg = se.Msg + ": " + inner.Error()
	}
	return e
}

// withSource fills e's line of src and the caret under its column.
func (e *clientExprError) withSource(src string) *clientExprError {
	if e == nil {
		return nil
	}
	lines := strings.Split(src, "\n")
	if e.Line < 1 || e.Line > len(lines) {
		return e
	}
	line := []rune(strings.TrimRight(lines[e.Line-1], "\r"))
	var caret strings.Builder
	for i := 0; i < e.Column-1 && i < len(line); i++ {
		if line[i] == '\t' {
			caret.WriteRune('\t')
		} else {
			caret.WriteRune(' ')
		}
	}
	caret.WriteRune('^')
	e.Text, e.Caret = string(line), caret.String()
	return e
}

func newClientRow(cl *crm.Client, layout string) clientRowView {
	return clientRowView{
		ID: cl.ID, Name: clientName(cl), Username: cl.Username, Phone: cl.Phone, City: cl.City,
		Platform: clientPlatform(cl), Subscribed: cl.Subscribed, Tags: cl.Tags,
		Created: cl.CreatedAt.UTC().Format(layout), CreatedISO: cl.CreatedAt.UTC().Format(time.RFC3339),
	}
}

// clientName is the client's first and last name ("" when neither is
// known: the templates say "client #id").
func clientName(cl *crm.Client) string {
	return strings.TrimSpace(cl.FirstName + " " + cl.LastName)
}

// clientPlatform is the platform with the bot's name, if any ("telegram
// shop").
func clientPlatform(cl *crm.Client) string {
	if cl.Bot == "" {
		return string(cl.Platform)
	}
	return string(cl.Platform) + " " + cl.Bot
}

// clientCount is the live status fragment: the count of the clients the
// form's search and segment select, or the error with its position.
func (c *Console) clientCount(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	f := clientFilterFrom(r.PostForm)
	st := clientStatusView{Lang: langOf(r.Context())}
	opt, err := c.clientOptions(r.Context(), f)
	if err == nil {
		st.Count, err = c.cfg.Clients.Clients.CountClients(r.Context(), opt)
	}
	switch {
	case err == nil:
		st.Counted = true
	case !c.clientBadFilter(&st, err, f.Segment):
		c.cfg.Logger.Error("console: count clients", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	c.clientFragment(w, "clients", "clients-status", st)
}

// clientFragment writes one template of page's set alone (an htmx swap).
func (c *Console) clientFragment(w http.ResponseWriter, page, name string, data any) {
	var buf strings.Builder
	if err := c.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		c.cfg.Logger.Error("console: render fragment", "page", page, "fragment", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(buf.String()))
}

// clientExport streams every client the filter selects as CSV
// (admin.ClientCSV: UTF-8 with a BOM, the portrait's columns), newest
// first, in keyset pages of clientExportBatch.
func (c *Console) clientExport(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	f := clientFilterFrom(r.URL.Query())
	opt, err := c.clientOptions(r.Context(), f)
	if err == nil {
		opt.Limit = 1
		_, err = c.cfg.Clients.Clients.ListClients(r.Context(), opt) // a bad search fails before the header is sent
	}
	if err != nil {
		if isBadClientFilter(err) {
			c.render(w, r, http.StatusBadRequest, "error", "clients.export.bad.title", i18n.T(lang, "clients.export.bad.text"))
			return
		}
		c.cfg.Logger.Error("console: export clients", "err", err)
		c.serverError(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="clients-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	if opt.Segment != nil {
		opt.Segment = opt.Segment.At(time.Now()) // "the last 7 days" stays the same days on every page
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
	out := admin.NewClientCSV(w)
	complete := c.clientWriteExport(r.Context(), rc, out, opt)
	if log := c.clientExportLog(); log != nil {
		// Audited whatever the outcome: the rows written have left. The
		// request may be cancelled by now; the entry is written anyway.
		log.RecordExport(context.WithoutCancel(actorContext(r)), admin.ClientExport{Segment: f.Segment,
			Searched: f.Search != "", Rows: out.Rows(), Incomplete: !complete})
	}
	if !complete {
		// The status is sent: abort the response, so that a cut file never
		// passes for a whole one (the download fails).
		panic(http.ErrAbortHandler)
	}
}

// clientExportLog is Exports, else the Editor when it can audit exports
// (*admin.ClientService can), else nil.
func (c *Console) clientExportLog() ClientExportLog {
	if c.cfg.Clients.Exports != nil {
		return c.cfg.Clients.Exports
	}
	log, _ := c.cfg.Clients.Editor.(ClientExportLog)
	return log
}

// clientWriteExport writes every client opt selects to out in keyset
// pages of clientExportBatch; false when it was cut short (logged).
func (c *Console) clientWriteExport(ctx context.Context, rc *http.ResponseController, out *admin.ClientCSV, opt postgres.ListOptions) bool {
	opt.Limit = clientExportBatch
	for {
		page, err := c.cfg.Clients.Clients.ListClients(ctx, opt)
		if err != nil {
			c.cfg.Logger.Error("console: export clients cut short", "rows", out.Rows(), "err", err)
			return false
		}
		for i := range page {
			if err := out.Write(&page[i]); err != nil {
				c.cfg.Logger.Warn("console: export clients: write", "rows", out.Rows(), "err", err)
				return false
			}
		}
		if len(page) < opt.Limit {
			break
		}
		opt.BeforeID = page[len(page)-1].ID
		if err := out.Flush(); err != nil {
			return false
		}
		_ = rc.Flush()
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
	}
	if err := out.Flush(); err != nil {
		c.cfg.Logger.Warn("console: export clients: write", "rows", out.Rows(), "err", err)
		return false
	}
	return true
}

// clientSaveSegment saves the applied expression as a named segment
// through the audited saved-segment service; the name and description
// rules are the service's (segment.Definition.Validate).
func (c *Console) clientSaveSegment(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	f := clientFilterFrom(r.PostForm)
	d := segment.Definition{Name: strings.TrimSpace(r.PostForm.Get("name")), Expression: f.Segment,
		Description: strings.TrimSpace(r.PostForm.Get("description"))}
	err := d.Validate()
	if err == nil {
		_, err = c.cfg.Clients.Saver.SaveSegment(actorContext(r), d)
	}
	if err == nil {
		q := f.query(0)
		q.Set("saved", d.Name)
		http.Redirect(w, r, "/clients?"+q.Encode(), http.StatusSeeOther)
		return
	}
	var se *segment.Error
	if !errors.As(err, &se) && d.Validate() == nil {
		c.cfg.Logger.Error("console: save segment", "err", err)
		c.serverError(w, r)
		return
	}
	v := clientListView{SaveName: d.Name, SaveDescription: d.Description, SaveError: err.Error()}
	if _, ok := c.fillClientList(w, r, &v, f, 0); !ok {
		return
	}
	c.renderAt(w, r, "/clients?"+f.query(0).Encode(), http.StatusUnprocessableEntity, "clients", "clients.title", v)
}
