package console

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// Handoffs is what Диалоги (the managers' inbox), the transcript of the
// client card and Обзор's hand-off tile need of the hand-off service
// (*handoff.Service implements it). Every rule — who may take what, what
// a reply may hold, when a request is over its SLA — is the service's: the
// console only calls it and shows the answer.
type Handoffs interface {
	// Inbox lists the requests of manager's inbox tab.
	Inbox(ctx context.Context, manager string, f handoff.Filter) ([]handoff.Request, error)
	// Counts counts manager's tabs (and the requests over the SLA).
	Counts(ctx context.Context, manager string) (handoff.Counts, error)
	// Get returns request id (handoff.ErrNotFound when none).
	Get(ctx context.Context, id int64) (handoff.Request, error)
	// LiveOf returns the client's live request (handoff.ErrNotFound when
	// none).
	LiveOf(ctx context.Context, clientID int64) (handoff.Request, error)
	// Transcript returns a page of the client's messages.
	Transcript(ctx context.Context, clientID int64, p handoff.Page) ([]crm.Message, error)
	// Take assigns request id to manager (*handoff.TakenError when another
	// manager was first, handoff.ErrClosed when it is over).
	Take(ctx context.Context, id int64, manager string) (handoff.Request, error)
	// Reply sends manager's text to the client of request id, waiting up
	// to wait for the send (handoff.ErrEmpty, *handoff.TooLongError,
	// handoff.ErrClosed, *handoff.TakenError before queueing).
	Reply(ctx context.Context, id int64, manager, text string, wait time.Duration) (crm.Message, error)
	// Return gives the chat back to the bot: the paused step is re-asked,
	// or scenario (when not "") starts.
	Return(ctx context.Context, id int64, by, scenario string) error
	// Stats returns the open requests and the reply times since since.
	Stats(ctx context.Context, since time.Time) (handoff.Stats, error)
	// SLA is how long a client may wait for an answer (HANDOFF_SLA).
	SLA() time.Duration
}

// Диалоги's sizes and timings.
const (
	// inboxPageSize requests a page of a tab.
	inboxPageSize = 50
	// transcriptPageSize messages a page of a transcript (the request's
	// page and the client card).
	transcriptPageSize = 50
	// inboxPoll: the inbox list (with its tab counts) refreshes itself.
	inboxPoll = "5s"
	// requestPoll: a request's page refreshes its state and transcript,
	// so the client's new messages appear without a reload.
	requestPoll = "2s"
	// badgePoll: the menu's waiting count refreshes itself.
	badgePoll = "30s"
	// replyWait is how long a reply waits for the send before the page
	// says it is queued.
	replyWait = 5 * time.Second
	// replyMaxText is the longest reply Telegram and VK take in one
	// message (characters): the reply box's counter shows it; the service
	// enforces the platform's own limit (*handoff.TooLongError).
	replyMaxText = 4096
	// inboxLastText cuts the last message in an inbox row (characters).
	inboxLastText = 140
	// handoffStatsPeriod is the period Обзор's reply times cover.
	handoffStatsPeriod = 7 * 24 * time.Hour
	// badgeTimeout bounds the menu badge's count on every page.
	badgeTimeout = 2 * time.Second
)

// inboxRoutes registers Диалоги's routes and, when the hand-off service
// is configured, its page in c.sectionPages.
func (c *Console) inboxRoutes(mux *http.ServeMux) {
	if c.cfg.Handoffs == nil {
		return
	}
	c.sectionPages["/inbox"] = c.inboxPage
	c.handle(mux, "GET /inbox/badge", account.RoleManager, c.inboxBadge)
	c.handle(mux, "GET /inbox/{id}", account.RoleManager, c.requestPage)
	c.handle(mux, "GET /inbox/{id}/live", account.RoleManager, c.requestLive)
	c.handle(mux, "POST /inbox/{id}/take", account.RoleManager, c.requestTake)
	c.handle(mux, "POST /inbox/{id}/reply", account.RoleManager, c.requestReply)
	c.handle(mux, "POST /inbox/{id}/return", account.RoleManager, c.requestReturn)
}

// inboxTabs are Диалоги's tabs in order.
var inboxTabs = []handoff.Tab{handoff.TabWaiting, handoff.TabMine, handoff.TabAll, handoff.TabClosed}

// inboxPage is Диалоги: a tab of requests (?tab=, default waiting) with
// the tabs' counts, keyset-paged by ?before=<id>. A background poll gets
// the list fragment only.
func (c *Console) inboxPage(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	q := r.URL.Query()
	tab := handoff.TabWaiting
	if t := q.Get("tab"); t != "" {
		tab = handoff.Tab(t)
	}
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			n = -1
		}
		before = n
	}
	if !knownTab(tab) || before < 0 {
		c.render(w, r, http.StatusBadRequest, "error", "inbox.bad_link.title", i18n.T(lang, "inbox.bad_link.text"))
		return
	}
	me := userFrom(r.Context()).Name
	h := c.cfg.Handoffs
	counts, err := h.Counts(r.Context(), me)
	if err != nil {
		c.inboxFailed(w, r, "console: inbox counts", err)
		return
	}
	list, err := h.Inbox(r.Context(), me, handoff.Filter{Tab: tab, Manager: me, BeforeID: before, Limit: inboxPageSize + 1})
	if err != nil {
		c.inboxFailed(w, r, "console: inbox", err)
		return
	}
	v := newInboxView(lang, tab, before, list, counts, h.SLA(), time.Now())
	if sessionIsPoll(r) {
		c.fragment(w, "inbox", "inbox-body", v)
		return
	}
	c.render(w, r, http.StatusOK, "inbox", "inbox.title", v)
}

func knownTab(t handoff.Tab) bool {
	for _, k := range inboxTabs {
		if k == t {
			return true
		}
	}
	return false
}

// inboxBadge is the menu's waiting count, polled by the badge itself.
func (c *Console) inboxBadge(w http.ResponseWriter, r *http.Request) {
	b := c.menuBadge(r)
	if b == nil {
		b = &menuBadge{Polling: "/inbox/badge?" + sessionPollParam + "=1"}
	}
	c.fragment(w, "inbox", "inbox-badge", b)
}

// requestID reads the {id} of the path; ok false when it is no id.
func requestID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// requestPage is a request's page: its state, the controls, the reply
// box, the client's card summary and the transcript (newest first, paged
// by ?before=<message id>; the first page refreshes itself).
func (c *Console) requestPage(w http.ResponseWriter, r *http.Request) {
	v, ok := c.loadRequest(w, r)
	if !ok {
		return
	}
	switch {
	case r.URL.Query().Get("taken") == "1":
		v.Notice = i18n.T(v.Lang, "inbox.notice.taken")
	case r.URL.Query().Get("returned") == "1":
		v.Notice = i18n.T(v.Lang, "inbox.notice.returned")
	}
	c.render(w, r, http.StatusOK, "inbox_show", "inbox.request.title", v)
}

// loadRequest reads request {id} with a page of its transcript (?before=)
// and builds its view; it answers 404, 400 or 500 itself (ok false).
func (c *Console) loadRequest(w http.ResponseWriter, r *http.Request) (*requestView, bool) {
	lang := langOf(r.Context())
	id, ok := requestID(r)
	if !ok {
		c.notFound(w, r)
		return nil, false
	}
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			c.render(w, r, http.StatusBadRequest, "error", "inbox.bad_link.title", i18n.T(lang, "inbox.bad_link.text"))
			return nil, false
		}
		before = n
	}
	h := c.cfg.Handoffs
	req, err := h.Get(r.Context(), id)
	if errors.Is(err, handoff.ErrNotFound) {
		c.notFound(w, r)
		return nil, false
	}
	if err != nil {
		c.inboxFailed(w, r, "console: get request", err, "request", id)
		return nil, false
	}
	msgs, err := h.Transcript(r.Context(), req.ClientID, handoff.Page{BeforeID: before, Limit: transcriptPageSize + 1})
	if err != nil {
		c.inboxFailed(w, r, "console: transcript", err, "request", id)
		return nil, false
	}
	v := newRequestView(lang, &req, msgs, before, h.SLA(), time.Now(), userFrom(r.Context()).Name)
	v.Scenarios = c.returnScenarios(r.Context(), &req)
	return v, true
}

// requestLive is the fragment a request's page polls: the state and the
// first page of the transcript. When it is what the page shows (?v=, the
// fragment's hash) the answer is 204 and htmx swaps nothing, so a screen
// reader does not hear the same messages again.
func (c *Console) requestLive(w http.ResponseWriter, r *http.Request) {
	if sessionIsPoll(r) {
		r = r.WithContext(context.WithValue(r.Context(), inboxPollKey{}, true))
	}
	q := r.URL.Query()
	q.Del("before")
	r.URL.RawQuery = q.Encode()
	v, ok := c.loadRequest(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("v") == v.Live.Version {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.fragment(w, "inbox_show", "request-live", v)
}

// requestTake handles POST /inbox/{id}/take: the request becomes the
// signed-in manager's; when another manager was first the page says who.
func (c *Console) requestTake(w http.ResponseWriter, r *http.Request) {
	id, ok := requestID(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	_, err := c.cfg.Handoffs.Take(actorContext(r), id, userFrom(r.Context()).Name)
	if err == nil {
		http.Redirect(w, r, requestPath(id)+"?taken=1", http.StatusSeeOther)
		return
	}
	c.requestRefused(w, r, id, err, "")
}

// requestReply handles POST /inbox/{id}/reply: the text goes to the
// client through the bot; the page says whether it was sent, is queued or
// why the platform refused it (the text stays in the box then).
func (c *Console) requestReply(w http.ResponseWriter, r *http.Request) {
	id, ok := requestID(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	text := r.PostFormValue("text")
	msg, err := c.cfg.Handoffs.Reply(actorContext(r), id, userFrom(r.Context()).Name, text, replyWait)
	if err != nil {
		c.requestRefused(w, r, id, err, text)
		return
	}
	r2 := renderRequestAt(w, r, requestPath(id))
	r2.SetPathValue("id", strconv.FormatInt(id, 10))
	v, ok := c.loadRequest(w, r2)
	if !ok {
		return
	}
	lang := v.Lang
	switch msg.Status {
	case crm.MessageFailed:
		v.Error = i18n.T(lang, "inbox.reply.failed", failText(lang, msg.Error))
		v.Draft = text
	case crm.MessageSent:
		v.Notice = i18n.T(lang, "inbox.reply.sent")
	default:
		v.Notice = i18n.T(lang, "inbox.reply.queued")
	}
	c.render(w, r2, http.StatusOK, "inbox_show", "inbox.request.title", v)
}

// requestReturn handles POST /inbox/{id}/return: the chat goes back to the
// bot, resuming the paused step or starting the chosen scenario.
func (c *Console) requestReturn(w http.ResponseWriter, r *http.Request) {
	id, ok := requestID(r)
	if !ok {
		c.notFound(w, r)
		return
	}
	err := c.cfg.Handoffs.Return(actorContext(r), id, userFrom(r.Context()).Name, r.PostFormValue("scenario"))
	if err == nil {
		http.Redirect(w, r, requestPath(id)+"?returned=1", http.StatusSeeOther)
		return
	}
	c.requestRefused(w, r, id, err, "")
}

// requestRefused shows request id's page with why the service refused a
// take, a reply or a return (409 or 422), or answers 404 / 500; draft is
// the reply's text, kept in the box.
func (c *Console) requestRefused(w http.ResponseWriter, r *http.Request, id int64, err error, draft string) {
	lang := langOf(r.Context())
	var taken *handoff.TakenError
	var long *handoff.TooLongError
	var text string
	status := http.StatusConflict
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		c.notFound(w, r)
		return
	case errors.As(err, &taken):
		text = i18n.T(lang, "inbox.error.taken", taken.By)
	case errors.Is(err, handoff.ErrClosed):
		text = i18n.T(lang, "inbox.error.closed")
	case errors.Is(err, handoff.ErrEmpty):
		text, status = i18n.T(lang, "inbox.error.empty"), http.StatusUnprocessableEntity
	case errors.As(err, &long):
		text, status = i18n.T(lang, "inbox.error.too_long", ovLabel(lang, "overview.platform.", string(long.Platform)),
			i18n.Number(lang, int64(long.Len)), i18n.Number(lang, int64(long.Max))), http.StatusUnprocessableEntity
	default:
		c.cfg.Logger.Error("console: hand-off action", "request", id, "path", r.URL.Path, "err", err)
		c.serverError(w, r)
		return
	}
	r2 := renderRequestAt(w, r, requestPath(id))
	r2.SetPathValue("id", strconv.FormatInt(id, 10))
	v, ok := c.loadRequest(w, r2)
	if !ok {
		return
	}
	v.Error, v.Draft = text, draft
	c.render(w, r2, status, "inbox_show", "inbox.request.title", v)
}

func requestPath(id int64) string { return "/inbox/" + strconv.FormatInt(id, 10) }

// returnScenarios are the scenarios a request's chat may be returned to:
// those of the request's bot (none when Сценарии is not configured).
func (c *Console) returnScenarios(ctx context.Context, req *handoff.Request) []scenarioChoice {
	if c.cfg.Scenarios.Catalog == nil {
		return nil
	}
	var out []scenarioChoice
	for _, b := range c.cfg.Scenarios.Catalog.ScenarioBots(ctx) {
		if b.Name != req.Chat.Bot {
			continue
		}
		for _, g := range b.Scenarios {
			out = append(out, scenarioChoice{ID: g.ID, Title: g.Title})
		}
	}
	return out
}

// inboxPollKey marks a background poll of a request's page.
type inboxPollKey struct{}

// inboxFailed answers a failing service: a background poll gets 204, so
// the page keeps what it shows and keeps polling; anything else the error
// page.
func (c *Console) inboxFailed(w http.ResponseWriter, r *http.Request, msg string, err error, args ...any) {
	poll, _ := r.Context().Value(inboxPollKey{}).(bool)
	c.cfg.Logger.Error(msg, append(args, "err", err)...)
	if poll || sessionIsPoll(r) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.serverError(w, r)
}

// fragment writes template block name of page: a polled part of a page.
func (c *Console) fragment(w http.ResponseWriter, page, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		c.cfg.Logger.Error("console: render fragment", "fragment", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}
