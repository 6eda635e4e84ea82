package console

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/messenger"
)

// inboxView is Диалоги's data.
type inboxView struct {
	Lang i18n.Lang
	Tab  handoff.Tab
	Tabs []inboxTab
	Rows []inboxRow
	// Self is the list's own address, polled (with poll=1) while it shows
	// live requests; Interval is how often.
	Self, Interval string
	Live           bool
	// OverSLA counts the live requests over the SLA, SLA is it in words.
	OverSLA int64
	SLA     string
	// Older and Newest page the tab ("" when there is no such page).
	Older, Newest string
}

// inboxTab is one tab with its count ("" for the closed tab, not counted).
type inboxTab struct {
	Tab     handoff.Tab
	Key     string
	Href    string
	Count   string
	Current bool
}

// inboxRow is one request of a tab.
type inboxRow struct {
	ID                    int64
	Name                  string
	Phone, City           string
	Tags                  []string
	Last                  string
	LastFrom              string
	Waiting, WaitingSince string
	// Late: the client waits longer than the SLA (red, and said in words).
	Late    bool
	Manager string
	Status  string
	Closed  *stamp
	// ReturnFailed says why the chat could not be returned to the bot
	// (a request closed as return_failed); "" otherwise.
	ReturnFailed string
}

// newInboxView builds Диалоги's tab from a page of list (at most
// inboxPageSize+1: one more means an older page exists).
func newInboxView(lang i18n.Lang, tab handoff.Tab, before int64, list []handoff.Request, counts handoff.Counts, sla time.Duration, now time.Time) inboxView {
	v := inboxView{Lang: lang, Tab: tab, Interval: inboxPoll, OverSLA: int64(counts.OverSLA), SLA: waitingText(lang, sla)}
	n := map[handoff.Tab]int{handoff.TabWaiting: counts.Waiting, handoff.TabMine: counts.Mine, handoff.TabAll: counts.All}
	for _, t := range inboxTabs {
		it := inboxTab{Tab: t, Key: "inbox.tab." + string(t), Href: inboxURL(t, 0), Current: t == tab}
		if c, ok := n[t]; ok {
			it.Count = i18n.Number(lang, int64(c))
		}
		v.Tabs = append(v.Tabs, it)
	}
	more := len(list) > inboxPageSize
	if more {
		list = list[:inboxPageSize]
	}
	for i := range list {
		v.Rows = append(v.Rows, newInboxRow(lang, &list[i], sla, now))
	}
	if more {
		v.Older = inboxURL(tab, list[len(list)-1].ID)
	}
	if before > 0 {
		v.Newest = inboxURL(tab, 0)
	}
	// The first page of a live tab refreshes itself; older pages and the
	// closed tab stay as they are.
	if tab != handoff.TabClosed && before == 0 {
		v.Live = true
		v.Self = inboxURL(tab, 0) + "&" + sessionPollParam + "=1"
	}
	return v
}

// inboxURL is a tab's address, an older page when before > 0.
func inboxURL(tab handoff.Tab, before int64) string {
	q := url.Values{"tab": {string(tab)}}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	return "/inbox?" + q.Encode()
}

func newInboxRow(lang i18n.Lang, r *handoff.Request, sla time.Duration, now time.Time) inboxRow {
	row := inboxRow{ID: r.ID, Name: requestName(lang, r), Phone: r.Phone, City: r.City, Tags: r.Tags,
		Manager: r.Manager, Status: clientLabel(lang, "inbox.status."+string(r.Status), string(r.Status))}
	if m := r.LastMessage; m != nil {
		row.Last = cutText(messageText(lang, m), inboxLastText)
		row.LastFrom = authorLabel(lang, m, row.Name)
	} else if r.Question != "" {
		row.Last = cutText(r.Question, inboxLastText)
		row.LastFrom = row.Name
	}
	if wait := r.Waiting(now); wait > 0 {
		row.Waiting = waitingText(lang, wait)
		row.Late = sla > 0 && wait > sla
		row.WaitingSince = r.WaitingSince.UTC().Format(time.RFC3339)
	}
	row.Closed = newStamp(lang, r.ClosedAt)
	row.ReturnFailed = returnTrouble(lang, r)
	return row
}

// returnTrouble words a return to the bot that fails: the reason it was
// given up (a request closed as return_failed), or the failed tries of one
// still going on; "" when there is none.
func returnTrouble(lang i18n.Lang, r *handoff.Request) string {
	why := clientLabel(lang, "inbox.return_fail."+r.ReturnError, r.ReturnError)
	switch {
	case r.CloseReason == handoff.CloseReturnFailed:
		return i18n.T(lang, "inbox.return_failed", why)
	case r.Status == handoff.StatusReturning && r.ReturnAttempts > 0:
		return i18n.T(lang, "inbox.return_retrying", i18n.Number(lang, int64(r.ReturnAttempts)),
			i18n.Number(lang, handoff.MaxReturnAttempts), why)
	}
	return ""
}

// requestName is the client's name to show, «Клиент №5» when it has none.
func requestName(lang i18n.Lang, r *handoff.Request) string {
	if n := strings.TrimSpace(r.ClientName); n != "" {
		return n
	}
	return i18n.T(lang, "clients.unnamed", r.ClientID)
}

// cutText cuts s to at most n characters, marking a cut with "…".
func cutText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// waitingText is a waiting time in words: «менее минуты», «12 мин»,
// «1 ч 05 мин», «2 дн 3 ч».
func waitingText(lang i18n.Lang, d time.Duration) string {
	switch {
	case d < time.Minute:
		return i18n.T(lang, "inbox.wait.under_minute")
	case d < time.Hour:
		return i18n.T(lang, "inbox.wait.m", int(d.Minutes()))
	case d < 24*time.Hour:
		return i18n.T(lang, "inbox.wait.hm", int(d.Hours()), int(d.Minutes())%60)
	}
	return i18n.T(lang, "inbox.wait.dh", int(d.Hours())/24, int(d.Hours())%24)
}

// messageText is what a transcript message said in words: its text, the
// button pressed, what media it carried.
func messageText(lang i18n.Lang, m *crm.Message) string {
	var parts []string
	if m.Button != "" {
		parts = append(parts, i18n.T(lang, "inbox.msg.button", m.Button))
	}
	if m.Media != "" {
		parts = append(parts, "["+mediaLabel(lang, m.Media)+"]")
	}
	if m.Text != "" && m.Text != m.Button {
		parts = append(parts, m.Text)
	}
	return strings.Join(parts, " ")
}

// mediaLabel is a media kind in words («фото», «голосовое сообщение»);
// a kind the console does not know reads as an attachment.
func mediaLabel(lang i18n.Lang, kind string) string {
	if key := "inbox.media." + kind; i18n.Has(lang, key) {
		return i18n.T(lang, key)
	}
	return i18n.T(lang, "inbox.media."+messenger.MediaOther)
}

// authorLabel is who wrote m: the client (by name), the bot, a manager (by
// name), a campaign, the hub.
func authorLabel(lang i18n.Lang, m *crm.Message, client string) string {
	switch m.AuthorKind {
	case crm.AuthorClient:
		return client
	case crm.AuthorManager:
		if m.Author != "" {
			return i18n.T(lang, "inbox.author.manager", m.Author)
		}
	case crm.AuthorBroadcast:
		return i18n.T(lang, "inbox.author.broadcast", m.Author)
	}
	return clientLabel(lang, "inbox.author."+m.AuthorKind, m.AuthorKind)
}

// failText is why a manager's reply was not delivered, in words; an
// unknown reason shows raw.
func failText(lang i18n.Lang, reason string) string {
	if reason == "" {
		reason = handoff.FailRefused
	}
	return clientLabel(lang, "inbox.fail."+reason, reason)
}

// requestView is a request's page.
type requestView struct {
	Lang   i18n.Lang
	ID     int64
	Client requestClient
	Live   requestLiveView
	// Older and Newest page the transcript.
	Older, Newest string
	// CanTake: nobody took it and it is live; Mine: the viewer took it;
	// Open: it is live (reply and return offered).
	CanTake, Mine, Open bool
	Scenarios           []scenarioChoice
	// ResumeStep names the step re-asked on a return ("" outside a
	// scenario).
	ResumeStep string
	// Draft is the reply box's text; Max the counter's limit.
	Draft    string
	Max      int
	MaxText  string // Max as the language writes numbers
	Notice   string
	Error    string
	Interval string
}

// DraftLen is the reply box's text length in characters (the counter's
// value before the script keeps it current).
func (v *requestView) DraftLen() int { return utf8.RuneCountInString(v.Draft) }

// requestClient is the client's card summary beside the transcript.
type requestClient struct {
	ID                 int64
	Name, Phone, City  string
	Tags               []string
	AssignedManager    string
	Platform, Scenario string
	Question, Reason   string
	Created            *stamp
}

// requestLiveView is the polled part of a request's page: its state and
// the first page of the transcript.
type requestLiveView struct {
	// Self is the fragment's address (with the version shown); empty when
	// the page does not poll (an older transcript page, a closed request).
	Self                  string
	Version               string
	Status, StatusCode    string
	Manager               string
	Waiting, WaitingSince string
	Late                  bool
	SLA                   string
	Closed                *stamp
	ClosedBy              string
	// ReturnTrouble: the return to the bot fails (see returnTrouble).
	ReturnTrouble string
	Messages      []transcriptRow
	// Paged: an older page of the transcript is shown.
	Paged bool
}

// transcriptRow is one message of a transcript.
type transcriptRow struct {
	ID       int64
	In       bool
	Author   string
	Text     string
	Time     stamp
	System   bool
	Status   string
	Failed   bool
	FailText string
}

// scenarioChoice is a scenario a chat may be returned to.
type scenarioChoice struct{ ID, Title string }

func newRequestView(lang i18n.Lang, r *handoff.Request, msgs []crm.Message, before int64, sla time.Duration, now time.Time, me string) *requestView {
	name := requestName(lang, r)
	v := &requestView{Lang: lang, ID: r.ID, Max: replyMaxText, MaxText: i18n.Number(lang, replyMaxText), Interval: requestPoll,
		Open: r.Status == handoff.StatusOpen || r.Status == handoff.StatusAssigned,
		Client: requestClient{ID: r.ClientID, Name: name, Phone: r.Phone, City: r.City, Tags: r.Tags,
			AssignedManager: r.AssignedManager, Platform: ovLabel(lang, "overview.platform.", string(r.Chat.Platform)),
			Scenario: r.Scenario, Question: r.Question, Reason: r.Reason, Created: newStamp(lang, &r.CreatedAt)}}
	v.CanTake = v.Open && r.Manager == ""
	v.Mine = r.Manager != "" && r.Manager == me
	if r.Scenario != "" {
		v.ResumeStep = r.Scenario
		if r.Step != "" {
			v.ResumeStep += " / " + r.Step
		}
	}
	more := len(msgs) > transcriptPageSize
	if more {
		msgs = msgs[:transcriptPageSize]
	}
	l := &v.Live
	l.Paged = before > 0
	l.Status = clientLabel(lang, "inbox.status."+string(r.Status), string(r.Status))
	l.StatusCode = string(r.Status)
	l.Manager = r.Manager
	l.SLA = waitingText(lang, sla)
	if wait := r.Waiting(now); wait > 0 {
		l.Waiting = waitingText(lang, wait)
		l.Late = sla > 0 && wait > sla
		l.WaitingSince = r.WaitingSince.UTC().Format(time.RFC3339)
	}
	l.Closed = newStamp(lang, r.ClosedAt)
	l.ClosedBy = r.ClosedBy
	if r.CloseReason == handoff.CloseIdle {
		l.ClosedBy = i18n.T(lang, "inbox.closed.idle")
	}
	l.ReturnTrouble = returnTrouble(lang, r)
	for i := range msgs {
		l.Messages = append(l.Messages, newTranscriptRow(lang, &msgs[i], name))
	}
	if more {
		v.Older = fmt.Sprintf("%s?before=%d", requestPath(r.ID), msgs[len(msgs)-1].ID)
	}
	if before > 0 {
		v.Newest = requestPath(r.ID)
	}
	l.Version = l.version()
	if before == 0 && r.Status.Live() {
		l.Self = fmt.Sprintf("%s/live?%s=1&v=%s", requestPath(r.ID), sessionPollParam, l.Version)
	}
	return v
}

// version is a hash of what the live part shows: a poll that finds the
// same answers 204 (nothing to swap).
func (l *requestLiveView) version() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%t|%v|%s|%s\n", l.StatusCode, l.Manager, l.Waiting, l.Late, l.Closed, l.ClosedBy, l.ReturnTrouble)
	for _, m := range l.Messages {
		fmt.Fprintf(h, "%d|%s|%s\n", m.ID, m.Status, m.FailText)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func newTranscriptRow(lang i18n.Lang, m *crm.Message, client string) transcriptRow {
	at := m.CreatedAt
	st := newStamp(lang, &at)
	row := transcriptRow{ID: m.ID, In: m.Direction == crm.DirectionIn, Author: authorLabel(lang, m, client),
		Text: messageText(lang, m), System: m.AuthorKind == crm.AuthorSystem}
	if st != nil {
		row.Time = *st
	}
	if m.Status != "" {
		row.Status = clientLabel(lang, "inbox.msg.status."+m.Status, m.Status)
		if m.Status == crm.MessageFailed {
			row.Failed, row.FailText = true, failText(lang, m.Error)
		}
	}
	return row
}
