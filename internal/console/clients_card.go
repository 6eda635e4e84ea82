package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// The card shows at most this many answers and deliveries (newest first).
const (
	clientCardAnswers    = 200
	clientCardDeliveries = 100
)

// clientCardView is the data of the client card.
type clientCardView struct {
	ID   int64
	Name string
	// Fields are the portrait's fields, Consent its consent and
	// subscription stamps, Attributes the free attributes.
	Fields, Consent, Attributes []clientFieldRow
	Tags                        []string
	Source, Manager             string
	// Managers are the console's users, offered as the assigned manager.
	Managers   []string
	Answers    []clientAnswerRow
	Deliveries []clientDeliveryRow
	// TagError and ManagerError say why an edit was refused; Saved is set
	// after an edit.
	TagError, ManagerError string
	TagValue, ManagerValue string
	Saved                  bool
	// Transcript is a page of the client's messages, newest first
	// (?msgs_before=<id> pages it), when the hand-off service is
	// configured (TranscriptOn); TranscriptOlder and TranscriptNewest page
	// it; LiveRequest is the client's live hand-off request (0: none).
	TranscriptOn                      bool
	Transcript                        []transcriptRow
	TranscriptOlder, TranscriptNewest string
	LiveRequest                       int64
}

// clientFieldRow is one labelled value; Datetime is set for a time.
type clientFieldRow struct {
	Label, Value, Datetime string
	// Empty marks an unknown value (the template says so).
	Empty bool
}

// clientAnswerRow is one answer of the history.
type clientAnswerRow struct {
	Time, Datetime               string
	Scenario, Step, Field, Value string
}

// clientDeliveryRow is one campaign's delivery to the client.
type clientDeliveryRow struct {
	CampaignID             int64
	Campaign, Status       string
	Reason, Time, Datetime string
}

// clientPortraitFields are the card's portrait fields in order (crm.Client,
// docs/SEGMENTS.md); each has a label "clients.field.<name>".
var clientPortraitFields = []string{
	"platform", "platform_user_id", "first_name", "last_name", "username", "phone", "email", "gender",
	"birth_date", "age", "city", "region", "family_status", "children_count", "income_level", "occupation",
	"language", "lifecycle_stage", "temperature", "timezone", "created_at", "last_seen_at",
}

// clientEnumFields are the fields whose values have labels
// "clients.value.<field>.<value>".
var clientEnumFields = []string{"gender", "family_status", "income_level", "lifecycle_stage", "temperature"}

// clientCard is a client's card.
func (c *Console) clientCard(w http.ResponseWriter, r *http.Request) {
	id, ok := c.clientID(w, r)
	if !ok {
		return
	}
	c.showClientCard(w, r, id, http.StatusOK, clientCardView{Saved: r.URL.Query().Get("saved") == "1"})
}

// showClientCard renders the card of client id over v's edit state.
func (c *Console) showClientCard(w http.ResponseWriter, r *http.Request, id int64, status int, v clientCardView) {
	ctx := r.Context()
	q := c.cfg.Clients.Clients
	cl, err := q.ClientByID(ctx, id)
	if err != nil {
		c.cfg.Logger.Error("console: client card", "client", id, "err", err)
		c.serverError(w, r)
		return
	}
	if cl == nil {
		c.notFound(w, r)
		return
	}
	answers, err := q.Answers(ctx, id, clientCardAnswers)
	if err != nil {
		c.cfg.Logger.Error("console: client answers", "client", id, "err", err)
		c.serverError(w, r)
		return
	}
	deliveries, err := q.ClientDeliveries(ctx, id, clientCardDeliveries)
	if err != nil {
		c.cfg.Logger.Error("console: client deliveries", "client", id, "err", err)
		c.serverError(w, r)
		return
	}
	lang := langOf(ctx)
	fillClientCard(&v, lang, cl)
	layout := i18n.T(lang, "clients.time_layout")
	for _, a := range answers {
		t, iso := clientStamp(a.CreatedAt, layout)
		v.Answers = append(v.Answers, clientAnswerRow{Time: t, Datetime: iso, Scenario: a.Scenario, Step: a.Step, Field: a.Field, Value: a.Value})
	}
	for _, d := range deliveries {
		at := d.UpdatedAt
		if d.SentAt != nil {
			at = *d.SentAt
		}
		t, iso := clientStamp(at, layout)
		v.Deliveries = append(v.Deliveries, clientDeliveryRow{CampaignID: d.CampaignID, Campaign: d.Campaign,
			Status: clientLabel(lang, "clients.delivery.status."+d.Status, d.Status), Reason: d.Reason, Time: t, Datetime: iso})
	}
	v.Managers = c.clientManagerNames(r)
	if !c.clientTranscript(r, &v, cl) {
		c.serverError(w, r)
		return
	}
	c.render(w, r, status, "clients_card", "clients.card.title", v)
}

// fillClientCard fills v's portrait from cl.
func fillClientCard(v *clientCardView, lang i18n.Lang, cl *crm.Client) {
	layout := i18n.T(lang, "clients.time_layout")
	v.ID, v.Name, v.Source, v.Manager = cl.ID, clientName(cl), cl.Source, cl.AssignedManager
	if v.Name == "" {
		v.Name = i18n.T(lang, "clients.unnamed", cl.ID)
	}
	if v.ManagerValue == "" && v.ManagerError == "" {
		v.ManagerValue = cl.AssignedManager
	}
	v.Tags = slices.Sorted(slices.Values(cl.Tags))
	vals := clientPortraitValues(cl)
	for _, f := range clientPortraitFields {
		row := clientFieldRow{Label: i18n.T(lang, "clients.field."+f)}
		switch x := vals[f].(type) {
		case string:
			row.Value = x
			if slices.Contains(clientEnumFields, f) && x != "" {
				row.Value = clientLabel(lang, "clients.value."+f+"."+x, x)
			}
		case *int:
			if x != nil {
				row.Value = strconv.Itoa(*x)
			}
		case *time.Time:
			if x != nil && !x.IsZero() {
				if f == "birth_date" {
					row.Value = x.Format(time.DateOnly)
				} else {
					row.Value, row.Datetime = clientStamp(*x, layout)
				}
			}
		}
		row.Empty = row.Value == ""
		v.Fields = append(v.Fields, row)
	}
	sub := i18n.T(lang, "clients.no")
	if cl.Subscribed {
		sub = i18n.T(lang, "clients.yes")
	}
	v.Consent = []clientFieldRow{{Label: i18n.T(lang, "clients.field.subscribed"), Value: sub}}
	for _, s := range []struct {
		key string
		at  *time.Time
	}{{"consent_at", cl.ConsentAt}, {"unsubscribed_at", cl.UnsubscribedAt}, {"blocked_at", cl.BlockedAt},
		{"handoff_requested_at", cl.HandoffRequestedAt}} {
		row := clientFieldRow{Label: i18n.T(lang, "clients.field."+s.key), Empty: s.at == nil}
		if s.at != nil {
			row.Value, row.Datetime = clientStamp(*s.at, layout)
		}
		v.Consent = append(v.Consent, row)
	}
	keys := make([]string, 0, len(cl.Attributes))
	for k := range cl.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.Attributes = append(v.Attributes, clientFieldRow{Label: k, Value: clientAttributeText(cl.Attributes[k])})
	}
}

// clientPortraitValues are cl's portrait fields by name: a string, *int or
// *time.Time.
func clientPortraitValues(cl *crm.Client) map[string]any {
	created, seen := cl.CreatedAt, cl.LastSeenAt
	return map[string]any{
		"platform": clientPlatform(cl), "platform_user_id": cl.PlatformUserID, "first_name": cl.FirstName,
		"last_name": cl.LastName, "username": cl.Username, "phone": cl.Phone, "email": cl.Email,
		"gender": cl.Gender, "birth_date": cl.BirthDate, "age": cl.Age, "city": cl.City, "region": cl.Region,
		"family_status": cl.FamilyStatus, "children_count": cl.ChildrenCount, "income_level": cl.IncomeLevel,
		"occupation": cl.Occupation, "language": cl.Language, "lifecycle_stage": cl.LifecycleStage,
		"temperature": cl.Temperature, "timezone": cl.Timezone, "created_at": &created, "last_seen_at": &seen,
	}
}

// clientAttributeText shows an attribute's value: text as is, a list joined
// with commas, anything else as JSON.
func clientAttributeText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, clientAttributeText(e))
		}
		return strings.Join(parts, ", ")
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// clientStamp formats t in UTC with layout and as RFC 3339.
func clientStamp(t time.Time, layout string) (string, string) {
	u := t.UTC()
	return u.Format(layout), u.Format(time.RFC3339)
}

// clientLabel is key's text in lang, or raw when the catalog has none.
func clientLabel(lang i18n.Lang, key, raw string) string {
	if i18n.Has(lang, key) {
		return i18n.T(lang, key)
	}
	return raw
}

// clientManagerNames are the console users' names (none when they cannot be
// read: the field still takes free text).
func (c *Console) clientManagerNames(r *http.Request) []string {
	if c.cfg.Clients.Users == nil {
		return nil
	}
	users, err := c.cfg.Clients.Users.Users(r.Context())
	if err != nil {
		c.cfg.Logger.Warn("console: list users for the manager field", "err", err)
		return nil
	}
	names := make([]string, 0, len(users))
	for _, u := range users {
		names = append(names, u.Name)
	}
	slices.Sort(names)
	return names
}

// clientAddTag adds the typed tag.
func (c *Console) clientAddTag(w http.ResponseWriter, r *http.Request) {
	c.editClient(w, r, func(form func(string) string) (admin.ClientChange, *clientCardView) {
		tag := form("tag")
		return admin.ClientChange{AddTags: []string{tag}}, &clientCardView{TagValue: tag}
	})
}

// clientRemoveTag removes a tag.
func (c *Console) clientRemoveTag(w http.ResponseWriter, r *http.Request) {
	c.editClient(w, r, func(form func(string) string) (admin.ClientChange, *clientCardView) {
		return admin.ClientChange{RemoveTags: []string{form("tag")}}, &clientCardView{}
	})
}

// clientSetManager sets (or, empty, clears) the assigned manager.
func (c *Console) clientSetManager(w http.ResponseWriter, r *http.Request) {
	c.editClient(w, r, func(form func(string) string) (admin.ClientChange, *clientCardView) {
		m := form("manager")
		return admin.ClientChange{Manager: &m}, &clientCardView{ManagerValue: m}
	})
}

// editClient runs one edit from the posted form through the audited
// client service, then shows the card again (303 on success; the card
// with the reason, 422, when the edit is refused).
func (c *Console) editClient(w http.ResponseWriter, r *http.Request,
	build func(form func(string) string) (admin.ClientChange, *clientCardView)) {
	id, ok := c.clientID(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	ch, v := build(r.PostForm.Get)
	err := c.cfg.Clients.Editor.Edit(actorContext(r), id, ch)
	switch {
	case err == nil:
		http.Redirect(w, r, "/clients/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
	case errors.Is(err, admin.ErrNoClient):
		c.notFound(w, r)
	case errors.Is(err, admin.ErrBadEdit):
		lang := langOf(r.Context())
		if ch.Manager != nil {
			v.ManagerError = i18n.T(lang, "clients.manager.bad", crm.MaxTextLen)
		} else {
			v.TagError = i18n.T(lang, "clients.tags.bad", crm.MaxTextLen)
		}
		c.showClientCard(w, renderRequestAt(w, r, "/clients/"+strconv.FormatInt(id, 10)), id, http.StatusUnprocessableEntity, *v)
	default:
		c.cfg.Logger.Error("console: edit client", "client", id, "err", err)
		c.serverError(w, r)
	}
}

// clientDeleteView is the data of the deletion's confirmation page.
type clientDeleteView struct {
	ID   int64
	Name string
}

// clientDeleteConfirm asks to confirm the erasure.
func (c *Console) clientDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	id, ok := c.clientID(w, r)
	if !ok {
		return
	}
	cl, err := c.cfg.Clients.Clients.ClientByID(r.Context(), id)
	if err != nil {
		c.cfg.Logger.Error("console: client to delete", "client", id, "err", err)
		c.serverError(w, r)
		return
	}
	if cl == nil {
		c.notFound(w, r)
		return
	}
	name := clientName(cl)
	if name == "" {
		name = i18n.T(langOf(r.Context()), "clients.unnamed", cl.ID)
	}
	c.render(w, r, http.StatusOK, "clients_delete", "clients.delete.title", clientDeleteView{ID: id, Name: name})
}

// clientDelete erases the client (admin.ClientService.Erase) and returns
// to Клиенты saying so.
func (c *Console) clientDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := c.clientID(w, r)
	if !ok {
		return
	}
	err := c.cfg.Clients.Editor.Erase(actorContext(r), id)
	switch {
	case err == nil:
		http.Redirect(w, r, "/clients?deleted=1", http.StatusSeeOther)
	case errors.Is(err, admin.ErrNoClient):
		c.notFound(w, r)
	default:
		c.cfg.Logger.Error("console: erase client", "client", id, "err", err)
		c.serverError(w, r)
	}
}

// clientTranscript fills the card's Переписка: a page of the client's
// messages newest first (?msgs_before=<message id>) and a link to a live
// hand-off request. It reports false when the service failed (logged).
func (c *Console) clientTranscript(r *http.Request, v *clientCardView, cl *crm.Client) bool {
	h := c.cfg.Handoffs
	if h == nil {
		return true
	}
	v.TranscriptOn = true
	var before int64
	if n, err := strconv.ParseInt(r.URL.Query().Get("msgs_before"), 10, 64); err == nil && n > 0 {
		before = n
	}
	msgs, err := h.Transcript(r.Context(), cl.ID, handoff.Page{BeforeID: before, Limit: transcriptPageSize + 1})
	if err != nil {
		c.cfg.Logger.Error("console: client transcript", "client", cl.ID, "err", err)
		return false
	}
	more := len(msgs) > transcriptPageSize
	if more {
		msgs = msgs[:transcriptPageSize]
	}
	lang := langOf(r.Context())
	for i := range msgs {
		v.Transcript = append(v.Transcript, newTranscriptRow(lang, &msgs[i], v.Name))
	}
	base := "/clients/" + strconv.FormatInt(cl.ID, 10)
	if more {
		v.TranscriptOlder = base + "?msgs_before=" + strconv.FormatInt(msgs[len(msgs)-1].ID, 10) + "#card-transcript"
	}
	if before > 0 {
		v.TranscriptNewest = base + "#card-transcript"
	}
	live, err := h.LiveOf(r.Context(), cl.ID)
	switch {
	case err == nil:
		v.LiveRequest = live.ID
	case !errors.Is(err, handoff.ErrNotFound):
		c.cfg.Logger.Warn("console: client's live request", "client", cl.ID, "err", err)
	}
	return true
}
