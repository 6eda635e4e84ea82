package console

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/messenger"
)

// stateLabel is a campaign state in words («Идёт»); an unknown state shows raw.
func stateLabel(l i18n.Lang, s broadcast.State) string {
	key := "campaigns.state." + string(s)
	if !i18n.Has(l, key) {
		return string(s)
	}
	return i18n.T(l, key)
}

// reasonLabel is a skip or failure reason in words; an unknown one shows raw.
func reasonLabel(l i18n.Lang, reason string) string {
	if reason == "" {
		reason = "none"
	}
	key := "campaigns.reason." + reason
	if !i18n.Has(l, key) {
		return reason
	}
	return i18n.T(l, key)
}

// number formats n with the language's digit grouping: «100 000», "100,000".
func number(l i18n.Lang, n int) string {
	return i18n.Number(l, int64(n))
}

// decimal formats f with one decimal in the language's way («2,5», "2.5").
func decimal(l i18n.Lang, f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if l == i18n.Ru {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// duration formats d rounded to seconds: «45 с», «5 мин 10 с», «2 ч 03 мин».
func duration(l i18n.Lang, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return i18n.T(l, "campaigns.duration.hm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return i18n.T(l, "campaigns.duration.ms", int(d.Minutes()), int(d.Seconds())%60)
	}
	return i18n.T(l, "campaigns.duration.s", int(d.Seconds()))
}

// stamp is a time as the pages show it, in UTC, with its RFC 3339 form.
type stamp struct{ Text, Datetime string }

func newStamp(l i18n.Lang, t *time.Time) *stamp {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &stamp{Text: u.Format(i18n.T(l, "campaigns.time_layout")), Datetime: u.Format(time.RFC3339)}
}

// bar is a progress bar: <progress max value> with the numbers as text.
type bar struct {
	Max, Value int
	Percent    int
	// Indeterminate: the audience is still being listed.
	Indeterminate bool
	Label         string
}

// progressOf is a campaign's progress: the ledger rows that reached a
// final status (sent, failed, blocked, skipped) of all its rows — exact,
// counted from the ledger. A finished campaign with no rows is complete.
func progressOf(l i18n.Lang, state broadcast.State, st *broadcast.Stats, filled bool) bar {
	handled := st.Targeted - st.Queued
	b := bar{Max: max(st.Targeted, 1), Value: handled}
	switch {
	case st.Targeted > 0:
		b.Percent = handled * 100 / st.Targeted
	case state.Final():
		b.Max, b.Value, b.Percent = 1, 1, 100
	case state == broadcast.Running && !filled:
		b.Indeterminate = true
	}
	b.Label = i18n.T(l, "campaigns.progress.label", b.Percent, number(l, handled), number(l, st.Targeted))
	return b
}

// campaignListView is the data of Рассылки.
type campaignListView struct {
	Rows []campaignListRow
	// Paged is true past the first page; Older and Newest link the pages.
	Paged         bool
	Older, Newest string
	// Live: a campaign of the page is running, so the table refreshes
	// itself from Self every Interval (and stops once none runs).
	Live           bool
	Self, Interval string
}

// campaignListRow is one campaign in the list.
type campaignListRow struct {
	ID                   int64
	Name                 string
	State, StateLabel    string
	Progress             bar
	Sent, Audience       string
	Skipped, Failed      int
	SkippedText          string
	FailedText           string
	Created              *stamp
	HasLedger, Scheduled bool
	StartAt              *stamp
}

func newCampaignListView(l i18n.Lang, list []broadcast.Campaign, counts map[int64]broadcast.Stats, before int64, more bool) campaignListView {
	// poll=1 marks the refresh as a background poll (sessionIsPoll).
	v := campaignListView{Paged: before > 0, Self: "/campaigns?poll=1", Interval: pollList}
	if before > 0 {
		v.Self += "&before=" + strconv.FormatInt(before, 10)
	}
	for i := range list {
		c := &list[i]
		v.Live = v.Live || c.State == broadcast.Running
		st := counts[c.ID]
		row := campaignListRow{
			ID: c.ID, Name: c.Name, State: string(c.State), StateLabel: stateLabel(l, c.State),
			Progress: progressOf(l, c.State, &st, c.Filled),
			Sent:     number(l, st.Sent), Audience: number(l, st.Targeted),
			Skipped: st.Skipped, Failed: st.Failed + st.Blocked,
			Created: newStamp(l, &c.CreatedAt), HasLedger: st.Targeted > 0 || c.StartedAt != nil,
			Scheduled: c.State == broadcast.Scheduled, StartAt: newStamp(l, c.StartAt),
		}
		if st.Skipped > 0 {
			row.SkippedText = i18n.T(l, "campaigns.list.skipped", number(l, st.Skipped))
		}
		if row.Failed > 0 {
			row.FailedText = i18n.T(l, "campaigns.list.failed", number(l, row.Failed))
		}
		v.Rows = append(v.Rows, row)
	}
	if more && len(list) > 0 {
		v.Older = "/campaigns?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	if v.Paged {
		v.Newest = "/campaigns"
	}
	return v
}

// campaignView is the data of a campaign's page.
type campaignView struct {
	ID                int64
	Name              string
	State, StateLabel string
	Text              string
	Segment           string
	Platforms         string
	Schedule          string
	ImageURL          string
	Buttons           []string
	Policies          []string
	Created           *stamp
	// Actions are the controls the state offers; Confirm, when set, asks
	// to confirm one of them.
	Actions  []actionButton
	Confirm  *confirmView
	Error    string
	Progress progressView
	Failures failuresView
	// Export links the ledger as CSV (once there is a ledger).
	Export string
	// Edit links the composer's edit page while the service allows an
	// edit (broadcast.Editable states); "" otherwise.
	Edit string
}

// actionButton is a control: a GET to the page asking to confirm it.
type actionButton struct {
	Name, Label string
	Danger      bool
}

// confirmView asks to confirm an action before its POST.
type confirmView struct {
	Action, Title, Text, Yes, No string
	Danger                       bool
}

func newCampaignView(l i18n.Lang, c *broadcast.Campaign, st *broadcast.Stats, policy *broadcast.Policy) campaignView {
	v := campaignView{
		ID: c.ID, Name: c.Name, State: string(c.State), StateLabel: stateLabel(l, c.State),
		Text: c.Text, Segment: c.Segment, Platforms: platformsText(l, c.Platforms),
		ImageURL: c.ImageURL, Created: newStamp(l, &c.CreatedAt),
		Progress: newProgressView(l, c, st),
	}
	switch {
	case c.StartAt != nil && c.State == broadcast.Scheduled:
		v.Schedule = i18n.T(l, "campaigns.schedule.at", newStamp(l, c.StartAt).Text)
	case c.StartAt != nil:
		v.Schedule = i18n.T(l, "campaigns.schedule.was", newStamp(l, c.StartAt).Text)
	default:
		v.Schedule = i18n.T(l, "campaigns.schedule.manual")
	}
	for _, b := range c.Buttons {
		if b.URL != "" {
			v.Buttons = append(v.Buttons, i18n.T(l, "campaigns.button.url", b.Text, b.URL))
		} else {
			v.Buttons = append(v.Buttons, i18n.T(l, "campaigns.button.scenario", b.Text, b.Scenario))
		}
	}
	v.Policies = policiesText(l, c, policy)
	for _, a := range campaignActions {
		if a.shown(c.State) {
			label := i18n.T(l, "campaigns.action."+a.name)
			if a.name == "start" && c.State == broadcast.Scheduled {
				label = i18n.T(l, "campaigns.action.start_now")
			}
			v.Actions = append(v.Actions, actionButton{Name: a.name, Label: label, Danger: a.name == "cancel"})
		}
	}
	if slices.Contains(broadcast.Editable, c.State) {
		v.Edit = "/campaigns/" + strconv.FormatInt(c.ID, 10) + "/edit"
	}
	if st.Targeted > 0 || c.StartedAt != nil {
		v.Export = "/campaigns/" + strconv.FormatInt(c.ID, 10) + "/deliveries.csv"
	}
	return v
}

func newConfirmView(l i18n.Lang, state broadcast.State, st *broadcast.Stats, action string) *confirmView {
	v := &confirmView{
		Action: action, Title: i18n.T(l, "campaigns.confirm."+action+".title"),
		Yes: i18n.T(l, "campaigns.confirm."+action+".yes"), No: i18n.T(l, "campaigns.confirm.no"),
		Danger: action == "cancel",
	}
	switch action {
	case "cancel":
		v.Text = i18n.T(l, "campaigns.confirm.cancel.text", number(l, st.Queued))
		if state == broadcast.Draft || state == broadcast.Scheduled {
			v.Text = i18n.T(l, "campaigns.confirm.cancel.text_unstarted")
		}
	default:
		v.Text = i18n.T(l, "campaigns.confirm."+action+".text")
	}
	return v
}

// platformsText names the campaign's platforms («все: Telegram и VK»).
func platformsText(l i18n.Lang, ps []messenger.Platform) string {
	if len(ps) == 0 {
		return i18n.T(l, "campaigns.platforms.all")
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		switch p {
		case messenger.Telegram:
			names[i] = "Telegram"
		case messenger.VK:
			names[i] = "VK"
		default:
			names[i] = string(p)
		}
	}
	return strings.Join(names, ", ")
}

// policiesText says in words how the frequency cap and the quiet hours
// apply to the campaign.
func policiesText(l i18n.Lang, c *broadcast.Campaign, p *broadcast.Policy) []string {
	var out []string
	switch {
	case c.IgnoreFrequencyCap:
		out = append(out, i18n.T(l, "campaigns.policy.cap_ignored"))
	case p == nil:
	case p.FrequencyCap <= 0:
		out = append(out, i18n.T(l, "campaigns.policy.cap_none"))
	case p.FrequencyCap%(24*time.Hour) == 0:
		out = append(out, i18n.T(l, "campaigns.policy.cap", i18n.Plural(l, "campaigns.days", int64(p.FrequencyCap/(24*time.Hour)))))
	default:
		out = append(out, i18n.T(l, "campaigns.policy.cap", i18n.Plural(l, "campaigns.hours", int64(p.FrequencyCap/time.Hour))))
	}
	switch {
	case c.IgnoreQuietHours:
		out = append(out, i18n.T(l, "campaigns.policy.quiet_ignored"))
	case p == nil:
	case p.Quiet.Start == p.Quiet.End:
		out = append(out, i18n.T(l, "campaigns.policy.quiet_none"))
	default:
		from, to, _ := strings.Cut(p.Quiet.String(), "-")
		out = append(out, i18n.T(l, "campaigns.policy.quiet", from, to))
	}
	return out
}

// progressView is the progress fragment: polled while Live.
type progressView struct {
	Lang              i18n.Lang
	ID                int64
	State, StateLabel string
	// Live: the campaign runs, is paused or waits for its time, so the
	// fragment polls every Interval.
	Live     bool
	Interval string
	// Started: the campaign has a ledger (it ran); else only Note shows.
	Started bool
	Bar     bar
	// Listing: the audience is still being written to the ledger.
	Listing bool
	Note    string
	Rows    []breakdownRow
	// Sum is the breakdown as an equation that adds up to the audience.
	Sum           string
	Rate, ETA     string
	Took          string
	StartedAt     *stamp
	FinishedAt    *stamp
	Final, Paused bool
}

// breakdownRow is one line of the statistics: a count and what it means,
// with its reasons.
type breakdownRow struct {
	Label, Help, Count string
	Total              bool
	Reasons            []reasonCount
}

// reasonCount is one reason of a breakdown line.
type reasonCount struct{ Label, Code, Count string }

func reasons(l i18n.Lang, m map[string]int) []reasonCount {
	codes := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			codes = append(codes, k)
		}
	}
	sort.Slice(codes, func(i, j int) bool {
		if m[codes[i]] != m[codes[j]] {
			return m[codes[i]] > m[codes[j]]
		}
		return codes[i] < codes[j]
	})
	out := make([]reasonCount, len(codes))
	for i, k := range codes {
		out[i] = reasonCount{Label: reasonLabel(l, k), Code: k, Count: number(l, m[k])}
	}
	return out
}

func newProgressView(l i18n.Lang, c *broadcast.Campaign, st *broadcast.Stats) progressView {
	v := progressView{
		Lang: l, ID: c.ID, State: string(c.State), StateLabel: stateLabel(l, c.State),
		Started: st.Targeted > 0 || c.StartedAt != nil,
		Bar:     progressOf(l, c.State, st, c.Filled), Listing: c.State == broadcast.Running && !c.Filled,
		StartedAt: newStamp(l, c.StartedAt), FinishedAt: newStamp(l, c.FinishedAt),
		Final: c.State.Final(), Paused: c.State == broadcast.Paused,
	}
	switch c.State {
	case broadcast.Running:
		v.Live, v.Interval = true, pollRunning
	case broadcast.Paused:
		v.Live, v.Interval = true, pollPaused
	case broadcast.Scheduled:
		v.Live, v.Interval = true, pollScheduled
	}
	if !v.Started {
		v.Note = i18n.T(l, "campaigns.progress.not_started")
		if c.State == broadcast.Cancelled {
			v.Note = i18n.T(l, "campaigns.progress.cancelled_unsent")
		}
		return v
	}
	v.Rows = []breakdownRow{
		{Label: i18n.T(l, "campaigns.stat.audience"), Help: i18n.T(l, "campaigns.stat.audience.help"), Count: number(l, st.Targeted), Total: true},
		{Label: i18n.T(l, "campaigns.stat.sent"), Help: i18n.T(l, "campaigns.stat.sent.help"), Count: number(l, st.Sent)},
		{Label: i18n.T(l, "campaigns.stat.failed"), Help: i18n.T(l, "campaigns.stat.failed.help"), Count: number(l, st.Failed), Reasons: reasons(l, st.FailedByReason)},
		{Label: i18n.T(l, "campaigns.stat.blocked"), Help: i18n.T(l, "campaigns.stat.blocked.help"), Count: number(l, st.Blocked)},
		{Label: i18n.T(l, "campaigns.stat.skipped"), Help: i18n.T(l, "campaigns.stat.skipped.help"), Count: number(l, st.Skipped), Reasons: reasons(l, st.SkippedByReason)},
		{Label: i18n.T(l, "campaigns.stat.queued"), Help: i18n.T(l, "campaigns.stat.queued.help"), Count: number(l, st.Queued), Reasons: reasons(l, st.QueuedByReason)},
	}
	v.Sum = i18n.T(l, "campaigns.stat.sum", number(l, st.Sent), number(l, st.Failed), number(l, st.Blocked),
		number(l, st.Skipped), number(l, st.Queued), number(l, st.Targeted))
	switch {
	case c.State.Final():
		v.Took = i18n.T(l, "campaigns.progress.took", duration(l, st.Duration), decimal(l, st.Rate))
	case st.StartedAt != nil:
		v.Rate = i18n.T(l, "campaigns.progress.rate", decimal(l, st.Rate))
		v.ETA = eta(l, c.State, st)
	}
	return v
}

// eta is how long the queued rows take at the current rate (an estimate,
// and said so; the counts above it are exact).
func eta(l i18n.Lang, state broadcast.State, st *broadcast.Stats) string {
	waiting := 0
	for _, n := range st.QueuedByReason {
		waiting += n
	}
	switch {
	case state == broadcast.Paused:
		return i18n.T(l, "campaigns.eta.paused")
	case st.Queued == 0:
		return i18n.T(l, "campaigns.eta.finishing")
	case st.Rate <= 0:
		return i18n.T(l, "campaigns.eta.unknown")
	}
	d := time.Duration(float64(st.Queued) / st.Rate * float64(time.Second))
	if waiting > 0 {
		return i18n.T(l, "campaigns.eta.waiting", duration(l, d), number(l, waiting))
	}
	return i18n.T(l, "campaigns.eta", duration(l, d))
}

// failuresView is the table of failed and blocked deliveries, keyset-paged
// by client id.
type failuresView struct {
	Rows []failureRow
	// Paged is true past the first page; Older and First link the pages.
	Paged        bool
	Older, First string
}

// failureRow is one failed or blocked delivery.
type failureRow struct {
	ClientID            int64
	Platform            string
	Status, StatusLabel string
	Reason, ReasonCode  string
	Attempts            int
	At                  *stamp
}

func newFailuresView(l i18n.Lang, id, after int64, rows []broadcast.Delivery) failuresView {
	v := failuresView{Paged: after > 0}
	more := len(rows) > failuresPageSize
	if more {
		rows = rows[:failuresPageSize]
	}
	for _, d := range rows {
		v.Rows = append(v.Rows, failureRow{
			ClientID: d.ClientID, Platform: platformsText(l, []messenger.Platform{d.Platform}),
			Status: d.Status, StatusLabel: i18n.T(l, "campaigns.status."+d.Status),
			Reason: reasonLabel(l, d.Reason), ReasonCode: d.Reason, Attempts: d.Attempts, At: newStamp(l, &d.UpdatedAt),
		})
	}
	base := "/campaigns/" + strconv.FormatInt(id, 10)
	if more {
		v.Older = base + "?" + url.Values{"failed_after": {strconv.FormatInt(rows[len(rows)-1].ClientID, 10)}}.Encode() + "#failures"
	}
	if v.Paged {
		v.First = base + "#failures"
	}
	return v
}
