package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// segEditView is the data of the segment editor (new or existing).
type segEditView struct {
	// New is true for a segment not saved yet (the name is editable).
	New                           bool
	Name, Description, Expression string
	// NameError and Error say why a save was refused.
	NameError, Error string
	Preview          segPreview
	Campaigns        []segCampaign
	// InUse is the refusal of a delete while campaigns or segments use it.
	InUse string
}

// segPreview is the live part of the editor: the count, or the parser's
// error with its position, sample cards and the compiled explanation.
type segPreview struct {
	Lang i18n.Lang
	// Empty is true before anything is typed; Loading while the preview
	// of a saved segment's expression is on its way.
	Empty, Loading bool
	Count          string
	Err            *segErrorView
	// Failed is true when the database could not count.
	Failed  bool
	Samples []segCard
	Explain *segExplain
}

// segErrorView is a compile error with its place shown under the line.
type segErrorView struct {
	Source       string
	Line, Column int
	Msg          string
	// Text is the expression's line with the error, Caret a line with ^
	// under the error's column.
	Text, Caret string
}

// segCard is one sample client.
type segCard struct {
	ID                            int64
	Name, Platform, City, Age     string
	Tags                          []string
	Subscribed, Blocked           bool
	LifecycleStage, Source, Phone string
}

// segExplain is how the expression is computed: the SQL it compiles to
// with its arguments, the saved segments and scenarios it reads, and the
// moment relative times are counted from.
type segExplain struct {
	Dialect, SQL string
	Args         []string
	References   []string
	Scenarios    []string
	Now          string
}

// segmentNew is the editor of a new segment.
func (c *Console) segmentNew(w http.ResponseWriter, r *http.Request) {
	v := segEditView{New: true, Preview: segPreview{Lang: langOf(r.Context()), Empty: true}}
	c.render(w, r, http.StatusOK, "segments_edit", "segments.new.title", v)
}

// segmentEdit is the editor of the saved segment {name}; its count,
// samples and explanation follow.
func (c *Console) segmentEdit(w http.ResponseWriter, r *http.Request) {
	p := c.cfg.Segments
	d, err := p.Book.GetSegment(r.Context(), r.PathValue("name"))
	if errors.Is(err, postgres.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.cfg.Logger.Error("console: get segment", "err", err)
		c.serverError(w, r)
		return
	}
	v, ok := c.segEditOf(w, r, d)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "segments_edit", "segments.edit.title", v)
}

// segEditOf is the editor of the saved d with its campaigns; the preview
// (count, samples, explanation) loads by itself after the page (htmx posts
// the expression to segmentPreview), so the page is there at once. False
// when it answered an error already.
func (c *Console) segEditOf(w http.ResponseWriter, r *http.Request, d *segment.Definition) (segEditView, bool) {
	lang := langOf(r.Context())
	v := segEditView{Name: d.Name, Description: d.Description, Expression: d.Expression,
		Preview: segPreview{Lang: lang, Loading: true}}
	uses, err := c.cfg.Segments.Queries.SegmentCampaigns(r.Context())
	if err != nil {
		c.cfg.Logger.Error("console: campaigns of segments", "err", err)
		c.serverError(w, r)
		return v, false
	}
	v.Campaigns = segCampaignsOf(lang, uses[d.Name])
	return v, true
}

// segmentPreview answers the live preview of the expression typed so far
// (POST, so the expression, which may hold a phone number, stays out of
// URLs and logs): 200 with the count, samples and explanation, or 422 with
// the parser's error and its position.
func (c *Console) segmentPreview(w http.ResponseWriter, r *http.Request) {
	pv := c.preview(r.Context(), langOf(r.Context()), r.PostFormValue("expression"))
	status := http.StatusOK
	if pv.Err != nil {
		status = http.StatusUnprocessableEntity
	}
	c.segWrite(w, status, "segments_edit", "seg-preview", pv)
}

// preview compiles expr and, when it compiles, counts and samples it.
func (c *Console) preview(ctx context.Context, lang i18n.Lang, expr string) segPreview {
	pv := segPreview{Lang: lang}
	if strings.TrimSpace(expr) == "" {
		pv.Empty = true
		return pv
	}
	q := c.cfg.Segments.Queries
	ctx, cancel := context.WithTimeout(ctx, segQueryTimeout)
	defer cancel()
	seg, err := q.CompileSegment(ctx, expr)
	var se *segment.Error
	if errors.As(err, &se) {
		pv.Err = segErrorOf(expr, se)
		return pv
	}
	if err != nil {
		c.cfg.Logger.Warn("console: compile a segment", "err", err)
		pv.Failed = true
		return pv
	}
	seg = seg.At(time.Now())
	// The count and the examples are two queries: run them at once.
	var clients []crm.Client
	var sampleErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		clients, sampleErr = q.PeekSegment(ctx, seg, segSampleSize)
	}()
	n, err := q.CountSegment(ctx, seg)
	<-done
	if err != nil {
		c.cfg.Logger.Warn("console: count a segment", "err", err)
		pv.Failed = true
		return pv
	}
	pv.Count = i18n.Plural(lang, "segments.clients", n)
	if sampleErr != nil {
		c.cfg.Logger.Warn("console: sample a segment", "err", sampleErr)
	}
	for i := range clients {
		pv.Samples = append(pv.Samples, segCardOf(lang, &clients[i]))
	}
	pv.Explain = segExplainOf(lang, q.Dialect(), seg)
	return pv
}

// segErrorOf shows se under the line of expr it is on (se.Source names a
// saved segment when the error is inside one: its own text is not at
// hand, so no line is shown then).
func segErrorOf(expr string, se *segment.Error) *segErrorView {
	inner := se
	for {
		var next *segment.Error
		if !errors.As(inner.Err, &next) {
			break
		}
		inner = next
	}
	v := &segErrorView{Source: se.Source, Line: se.Line, Column: se.Column, Msg: inner.Msg}
	if inner != se {
		v.Msg = inner.Error()
	}
	lines := strings.Split(expr, "\n")
	if se.Line >= 1 && se.Line <= len(lines) {
		v.Text = strings.TrimRight(lines[se.Line-1], "\r")
		v.Caret = strings.Repeat(" ", max(0, se.Column-1)) + "^"
	}
	return v
}

// segCardOf is a sample client's card.
func segCardOf(lang i18n.Lang, cl *crm.Client) segCard {
	card := segCard{ID: cl.ID, Name: clientDisplayName(lang, cl), Platform: ovLabel(lang, "overview.platform.", string(cl.Platform)),
		City: cl.City, Tags: cl.Tags, Subscribed: cl.Subscribed, Blocked: cl.BlockedAt != nil,
		LifecycleStage: cl.LifecycleStage, Source: cl.Source}
	if cl.Age != nil {
		card.Age = i18n.Plural(lang, "segments.age", int64(*cl.Age))
	}
	return card
}

// clientDisplayName is how a sample card names a client: the name, else
// @username, else «Клиент 42».
func clientDisplayName(lang i18n.Lang, cl *crm.Client) string {
	if n := strings.TrimSpace(cl.FirstName + " " + cl.LastName); n != "" {
		return n
	}
	if cl.Username != "" {
		return "@" + cl.Username
	}
	return i18n.T(lang, "segments.card.anonymous", cl.ID)
}

// segExplainOf is the compiled explanation of seg.
func segExplainOf(lang i18n.Lang, dialect string, seg *segment.Segment) *segExplain {
	w, err := seg.SQL(segment.Dialect(dialect))
	if err != nil {
		return nil
	}
	e := &segExplain{Dialect: dialect, SQL: "SELECT id FROM clients WHERE " + w.SQL,
		References: seg.References(), Scenarios: seg.Scenarios(),
		Now: seg.Now().Format(time.RFC3339)}
	for _, a := range w.Args {
		e.Args = append(e.Args, segArg(a))
	}
	return e
}

// segArg prints one SQL argument as the explanation shows it.
func segArg(a any) string {
	switch v := a.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case string:
		return `"` + v + `"`
	default:
		return fmt.Sprint(v)
	}
}

// segmentSave saves the form's segment through the audited service, as
// the signed-in user: 303 to the list on success, the editor again with
// the error (422) when the name or the expression is refused.
func (c *Console) segmentSave(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	isNew := r.PostFormValue("new") == "1"
	d := segment.Definition{Name: strings.TrimSpace(r.PostFormValue("name")),
		Expression: r.PostFormValue("expression"), Description: strings.TrimSpace(r.PostFormValue("description"))}
	v := segEditView{New: isNew, Name: d.Name, Description: d.Description, Expression: d.Expression}
	refuse := func() {
		v.Preview = c.preview(r.Context(), lang, d.Expression)
		page := "/segments/new"
		if !isNew && segment.ValidateName(d.Name) == nil {
			page = "/segments/" + d.Name
		}
		c.renderAt(w, r, page, http.StatusUnprocessableEntity, "segments_edit", segEditTitle(isNew), v)
	}
	if err := d.Validate(); err != nil {
		v.NameError = segNameError(lang, d.Name, err)
		refuse()
		return
	}
	book := c.cfg.Segments.Book
	if isNew {
		_, err := book.GetSegment(r.Context(), d.Name)
		if err == nil {
			v.NameError = i18n.T(lang, "segments.error.exists")
			refuse()
			return
		}
		if !errors.Is(err, postgres.ErrNotFound) {
			c.cfg.Logger.Error("console: get segment", "err", err)
			c.serverError(w, r)
			return
		}
	}
	if strings.TrimSpace(d.Expression) == "" {
		v.Error = i18n.T(lang, "segments.error.empty")
		refuse()
		return
	}
	_, err := book.SaveSegment(actorContext(r), d)
	var se *segment.Error
	switch {
	case errors.As(err, &se):
		v.Error = i18n.T(lang, "segments.error.expression")
		refuse()
		return
	case err != nil:
		c.cfg.Logger.Error("console: save segment", "err", err)
		c.serverError(w, r)
		return
	}
	http.Redirect(w, r, "/segments?saved="+url.QueryEscape(d.Name), http.StatusSeeOther)
}

func segEditTitle(isNew bool) string {
	if isNew {
		return "segments.new.title"
	}
	return "segments.edit.title"
}

// segNameError says what is wrong with a name or description.
func segNameError(lang i18n.Lang, name string, err error) string {
	switch {
	case name == "":
		return i18n.T(lang, "segments.error.name_empty")
	case errors.Is(err, segment.ErrReservedName):
		return i18n.T(lang, "segments.error.name_reserved", strings.Join(segment.ReservedNames, ", "))
	case segment.ValidateName(name) != nil:
		return i18n.T(lang, "segments.error.name")
	default:
		return i18n.T(lang, "segments.error.description", segment.MaxDescriptionLength)
	}
}

// segDeleteView is the confirmation of a delete.
type segDeleteView struct {
	Name      string
	Campaigns []segCampaign
}

// segmentDelete deletes the saved segment {name} once confirmed (the first
// POST asks, the one with confirm=yes deletes), through the audited
// service as the signed-in user. While campaigns or segments use it the
// editor shows why it is refused (409).
func (c *Console) segmentDelete(w http.ResponseWriter, r *http.Request) {
	p := c.cfg.Segments
	name := r.PathValue("name")
	d, err := p.Book.GetSegment(r.Context(), name)
	if errors.Is(err, postgres.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.cfg.Logger.Error("console: get segment", "err", err)
		c.serverError(w, r)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		v, ok := c.segEditOf(w, r, d)
		if !ok {
			return
		}
		// The question has no address of its own: a reload opens the editor.
		c.renderAt(w, r, "/segments/"+url.PathEscape(d.Name), http.StatusOK, "segments_delete", "segments.delete.title",
			segDeleteView{Name: d.Name, Campaigns: v.Campaigns})
		return
	}
	err = p.Book.DeleteSegment(actorContext(r), name)
	if errors.Is(err, postgres.ErrSegmentInUse) {
		v, ok := c.segEditOf(w, r, d)
		if !ok {
			return
		}
		v.InUse = c.segInUse(r.Context(), langOf(r.Context()), name, v.Campaigns)
		c.renderAt(w, r, "/segments/"+url.PathEscape(d.Name), http.StatusConflict, "segments_edit", "segments.edit.title", v)
		return
	}
	if err != nil && !errors.Is(err, postgres.ErrNotFound) {
		c.cfg.Logger.Error("console: delete segment", "err", err)
		c.serverError(w, r)
		return
	}
	http.Redirect(w, r, "/segments?deleted="+url.QueryEscape(name), http.StatusSeeOther)
}

// segInUse says why a delete was refused: which unfinished campaigns and
// which saved segments use name.
func (c *Console) segInUse(ctx context.Context, lang i18n.Lang, name string, campaigns []segCampaign) string {
	var users []string
	for _, sc := range campaigns {
		if !sc.Finished {
			users = append(users, i18n.T(lang, "segments.in_use.campaign", sc.ID, sc.Name, sc.StateLabel))
		}
	}
	defs, err := c.cfg.Segments.Book.ListSegments(ctx)
	if err != nil {
		c.cfg.Logger.Warn("console: list segments", "err", err)
	}
	for _, d := range defs {
		if d.Name != name && slices.Contains(segment.References(d.Expression), name) {
			users = append(users, i18n.T(lang, "segments.in_use.segment", d.Name))
		}
	}
	return i18n.T(lang, "segments.error.in_use", strings.Join(users, ", "))
}
