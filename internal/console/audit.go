package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/console/i18n"
)

// auditPageSize is how many entries one page of Журнал shows.
const auditPageSize = 50

// auditActions are the actions the services record (account.AuditActions),
// in the order the action filter offers them; each has a label
// "audit.action.<action>" in every catalog (TestAuditActionsLabelled). An
// action not listed shows raw.
var auditActions = account.AuditActions()

// actionLabel is action's label in l, or action itself when the catalog has
// none (an action newer than the console).
func actionLabel(l i18n.Lang, action string) string {
	key := "audit.action." + action
	if !i18n.Has(l, key) {
		return action
	}
	return i18n.T(l, key)
}

// auditView is the data of the Журнал page.
type auditView struct {
	// Actor and Action are the filter as asked (empty: any).
	Actor, Action string
	// Actions are the action filter's choices.
	Actions []auditOption
	Rows    []auditRow
	// Paged is true past the first page; Filtered when a filter is set.
	Paged, Filtered bool
	// Older links to the next, older page ("" on the last one); Newest to
	// the first page with the same filter.
	Older, Newest string
}

// auditOption is one choice of the action filter.
type auditOption struct {
	Value, Label string
	Selected     bool
}

// auditRow is one entry as the table shows it.
type auditRow struct {
	ID                   int64
	Time, Datetime       string
	Actor, Action, Label string
	Object, Details      string
}

// auditPage is Журнал: the audit log newest first, filtered by actor and
// action, paged by the keyset cursor ?before=<id> (no offset, no count).
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r.Context())
	q := r.URL.Query()
	f := account.AuditFilter{
		Actor:  strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")),
		Limit:  auditPageSize + 1, // one more tells whether an older page exists
	}
	if s := q.Get("before"); s != "" {
		before, err := strconv.ParseInt(s, 10, 64)
		if err != nil || before <= 0 {
			c.render(w, r, http.StatusBadRequest, "error", "audit.bad_cursor.title", i18n.T(lang, "audit.bad_cursor.text"))
			return
		}
		f.Before = before
	}
	entries, err := c.cfg.Audit.Audit(r.Context(), f)
	if err != nil {
		c.cfg.Logger.Error("console: read the audit log", "err", err)
		c.serverError(w, r)
		return
	}
	c.render(w, r, http.StatusOK, "audit", "audit.title", newAuditView(lang, f, entries))
}

// newAuditView builds the page from up to auditPageSize+1 entries.
func newAuditView(lang i18n.Lang, f account.AuditFilter, entries []account.AuditEntry) auditView {
	v := auditView{Actor: f.Actor, Action: f.Action, Paged: f.Before != 0, Filtered: f.Actor != "" || f.Action != ""}
	v.Actions = actionOptions(lang, f.Action)
	more := len(entries) > auditPageSize
	if more {
		entries = entries[:auditPageSize]
	}
	layout := i18n.T(lang, "audit.time_layout")
	for _, e := range entries {
		at := e.At.UTC()
		v.Rows = append(v.Rows, auditRow{
			ID: e.ID, Time: at.Format(layout), Datetime: at.Format(time.RFC3339),
			Actor: e.Actor, Action: e.Action, Label: actionLabel(lang, e.Action),
			Object: e.Object, Details: e.Details,
		})
	}
	if more {
		v.Older = auditURL(f.Actor, f.Action, entries[len(entries)-1].ID)
	}
	if v.Paged {
		v.Newest = auditURL(f.Actor, f.Action, 0)
	}
	return v
}

// actionOptions are the action filter's choices, selected marking the
// current one; an action the console does not know is offered raw so the
// form keeps it.
func actionOptions(lang i18n.Lang, selected string) []auditOption {
	opts := make([]auditOption, 0, len(auditActions)+1)
	known := false
	for _, a := range auditActions {
		opts = append(opts, auditOption{Value: a, Label: actionLabel(lang, a), Selected: a == selected})
		known = known || a == selected
	}
	if selected != "" && !known {
		opts = append(opts, auditOption{Value: selected, Label: selected, Selected: true})
	}
	return opts
}

// auditURL is the Журнал page with the filter and, when before > 0, the
// keyset cursor.
func auditURL(actor, action string, before int64) string {
	q := url.Values{}
	if actor != "" {
		q.Set("actor", actor)
	}
	if action != "" {
		q.Set("action", action)
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return "/audit"
	}
	return "/audit?" + q.Encode()
}
