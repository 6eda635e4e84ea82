package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
)

// composeView is the data of the composer's page.
type composeView struct {
	// Editing is true for a draft's edit: the form posts to Action and
	// Back is the campaign's page; else a new campaign's.
	Editing      bool
	Action, Back string
	Form         composeForm
	Errors       fieldErrors
	// Saved are the saved segments to choose from.
	Saved []savedOption
	// Scenarios are the scenarios a button may start (nil: typed).
	Scenarios []string
	Buttons   []buttonRowView
	// Zone names the timezone the schedule is in; MinStart is now there
	// (the schedule's earliest value).
	Zone, MinStart string
	// Fields are the client card's fields a text may use.
	Fields []string
	// Policy describes the etiquette in force.
	Policy string
	// Count, Preview and Summary are the live panels as first shown.
	Count   countView
	Preview previewView
	Summary summaryView
}

// savedOption is one saved segment of the list.
type savedOption struct {
	Name, Description string
	Selected          bool
}

// buttonRowView is one button row of the form.
type buttonRowView struct {
	N     string // the row's number in field names: button0_text…
	Label string // «Кнопка 1»
	buttonForm
	Error string
}

// composeView builds the page's data from the form as typed.
func (c *Console) composeView(r *http.Request, f composeForm, errs fieldErrors) (composeView, error) {
	ctx, lang := r.Context(), langOf(r.Context())
	p := &c.cfg.Compose
	v := composeView{Action: "/campaigns/new", Back: "/campaigns", Form: f, Errors: errs, Fields: cardFields(), Count: countView{Lang: lang},
		Preview: previewView{Lang: lang}, Summary: summaryView{Lang: lang}}
	defs, err := p.Segments.ListSegments(ctx)
	if err != nil {
		return v, fmt.Errorf("list saved segments: %w", err)
	}
	for _, d := range defs {
		v.Saved = append(v.Saved, savedOption{Name: d.Name, Description: d.Description, Selected: d.Name == f.Saved})
	}
	if p.Scenarios != nil {
		if v.Scenarios, err = p.Scenarios.ScenarioIDs(ctx); err != nil {
			return v, fmt.Errorf("list scenarios: %w", err)
		}
		slices.Sort(v.Scenarios)
	}
	for i, b := range f.Buttons {
		v.Buttons = append(v.Buttons, buttonRowView{N: strconv.Itoa(i), Label: i18n.T(lang, "compose.button.n", i+1),
			buttonForm: b, Error: errs["button"+strconv.Itoa(i)]})
	}
	if msg, ok := errs["buttons"]; ok && len(v.Buttons) > 0 {
		v.Buttons[0].Error = msg
	}
	loc := p.location()
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	v.Policy = policyText(lang, p.Policy)
	v.MinStart = now().In(loc).Format(scheduleLayout)
	v.Zone = zoneName(now().In(loc))
	return v, nil
}

// cardFields are the template fields of the card, as a text writes them.
func cardFields() []string {
	names := scenario.CardFields()
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, "{{ .client."+n+" }}")
	}
	return out
}

// zoneName is "Europe/Moscow (UTC+03:00)".
func zoneName(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s (UTC%s%02d:%02d)", t.Location(), sign, off/3600, off%3600/60)
}

// countView is the live count's fragment.
type countView struct {
	Lang i18n.Lang
	// Counted is true when Count holds the segment's size.
	Counted bool
	Count   string
	// Error is the parser's error with its position.
	Error string
}

// segmentErrorText is a segment error as the composer shows it: its
// position and message.
func segmentErrorText(lang i18n.Lang, se *segment.Error) string {
	msg := se.Msg
	if se.Source != segment.DefaultSource {
		msg = i18n.T(lang, "compose.segment.error_in", se.Source) + ": " + msg
	}
	return i18n.T(lang, "compose.segment.error_at", se.Line, se.Column) + ": " + msg
}

// validationText is a service validation error as the composer shows it
// next to its field.
func validationText(lang i18n.Lang, ve *broadcast.ValidationError) string {
	switch {
	case ve.Message == "is empty":
		return i18n.T(lang, "compose.error.empty")
	case ve.Field == "name":
		return i18n.T(lang, "compose.error.name")
	}
	return ve.Message
}

// previewView is the preview's fragment: the text for sample clients and
// how the message looks on Telegram and VK.
type previewView struct {
	Lang i18n.Lang
	// Error is why there is no preview (a bad text); Note says what it is
	// rendered over when not a real client.
	Error, Note string
	Samples     []sampleView
	// Shown is the text the platform previews show (the first sample's).
	Shown    string
	Buttons  []previewButton
	ImageURL string
	Length   int
	// Platforms are the previews, one per platform the campaign targets.
	Platforms []platformPreview
	Rendered  bool
}

// sampleView is one sample recipient's message.
type sampleView struct {
	Name, Platform, Text, Skipped string
}

// previewButton is one button under the message.
type previewButton struct {
	Text string
	Link bool
}

// platformPreview is one platform's view of the message.
type platformPreview struct {
	Key, Name string
	// Limit is the platform's limit of this message (a caption's with a
	// picture on Telegram); Over when the text passes it.
	Limit       int
	Over        bool
	Caption     bool
	Description string
}

// previewView renders f's text for sample clients of its segment (over an
// empty card when there is no segment or nobody in it).
func (c *Console) previewView(ctx context.Context, lang i18n.Lang, f composeForm, camp broadcast.Campaign) (previewView, error) {
	v := previewView{Lang: lang, ImageURL: camp.ImageURL}
	if strings.TrimSpace(camp.Text) == "" {
		return v, nil // nothing written yet: the panel invites to write
	}
	tmpl, err := broadcast.ParseTemplate(camp.Text)
	var ve *broadcast.ValidationError
	if errors.As(err, &ve) {
		v.Error = validationText(lang, ve)
		return v, nil
	} else if err != nil {
		return v, err
	}
	if camp.Segment != "" {
		previews, err := c.cfg.Compose.Planner.PreviewDraft(ctx, camp, composeSamples)
		switch {
		case errors.As(err, &ve) && ve.Field == "text":
			v.Error = validationText(lang, ve)
			return v, nil
		case errors.As(err, &ve):
			v.Note = i18n.T(lang, "compose.preview.no_segment")
		case err != nil:
			return v, err
		case len(previews) == 0:
			v.Note = i18n.T(lang, "compose.preview.nobody")
		}
		for _, p := range previews {
			v.Samples = append(v.Samples, sampleView{Name: sampleName(lang, p), Platform: composePlatformName(lang, string(p.Platform)),
				Text: p.Text, Skipped: skipText(lang, p.Skipped)})
		}
	} else {
		v.Note = i18n.T(lang, "compose.preview.no_segment")
	}
	if len(v.Samples) > 0 {
		v.Shown = v.Samples[0].Text
	} else {
		text, err := tmpl.Render(&crm.Client{})
		if err != nil {
			v.Error = i18n.T(lang, "compose.preview.empty_card")
			return v, nil
		}
		v.Shown = text
	}
	v.Rendered = true
	v.Length = broadcast.TextLength(v.Shown)
	for _, b := range camp.Buttons {
		v.Buttons = append(v.Buttons, previewButton{Text: b.Text, Link: b.URL != ""})
	}
	v.Buttons = append(v.Buttons, previewButton{Text: broadcast.UnsubscribeCaption})
	for _, p := range []messenger.Platform{messenger.Telegram, messenger.VK} {
		if len(camp.Platforms) > 0 && !slices.Contains(camp.Platforms, p) {
			continue
		}
		v.Platforms = append(v.Platforms, platformPreviewOf(lang, p, v.Length, camp.ImageURL != ""))
	}
	return v, nil
}

// platformPreviewOf is platform p's limits for a text of length n.
func platformPreviewOf(lang i18n.Lang, p messenger.Platform, n int, image bool) platformPreview {
	pp := platformPreview{Key: string(p), Name: composePlatformName(lang, string(p)), Limit: broadcast.MaxMessageLen}
	if p == messenger.Telegram && image {
		pp.Caption = true
		pp.Limit = broadcast.MaxCaptionLen
	}
	pp.Over = n > pp.Limit
	switch {
	case pp.Caption && pp.Over:
		pp.Description = i18n.T(lang, "compose.limit.caption_over", n, pp.Limit)
	case pp.Caption:
		pp.Description = i18n.T(lang, "compose.limit.caption", n, pp.Limit)
	case pp.Over:
		pp.Description = i18n.T(lang, "compose.limit.over", n, pp.Limit)
	default:
		pp.Description = i18n.T(lang, "compose.limit.text", n, pp.Limit)
	}
	return pp
}

func sampleName(lang i18n.Lang, p broadcast.Preview) string {
	if p.Name != "" {
		return p.Name
	}
	return i18n.T(lang, "compose.preview.client", p.ClientID)
}

// composePlatformName is a platform's name for people.
func composePlatformName(lang i18n.Lang, p string) string {
	key := "compose.platform." + p
	if i18n.Has(lang, key) {
		return i18n.T(lang, key)
	}
	return p
}

// skipText is a dry run's skip reason for people ("quiet_hours until
// 09:00 MSK" keeps its time).
func skipText(lang i18n.Lang, reason string) string {
	if reason == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(reason, broadcast.ReasonQuietHours+" until "); ok {
		return i18n.T(lang, "compose.skip.quiet_until", rest)
	}
	return composeReasonLabel(lang, reason)
}

// composeReasonLabel is a skip reason's label, or the reason itself when the
// catalog has none.
func composeReasonLabel(lang i18n.Lang, reason string) string {
	key := "compose.reason." + reason
	if i18n.Has(lang, key) {
		return i18n.T(lang, key)
	}
	return reason
}

// summaryView is the dry-run summary's fragment.
type summaryView struct {
	Lang  i18n.Lang
	Error string
	Done  bool
	// Total, Send and Held are counted clients, formatted.
	Total, Send, Held string
	Rows              []reasonRow
	Warnings          []string
	// At is when the etiquette is applied (the schedule, or now).
	At        string
	Scheduled bool
}

// reasonRow is one skip reason and its count.
type reasonRow struct {
	Reason, Label, Count string
}

// reasonOrder is the order the summary lists skip reasons in.
var reasonOrder = []string{
	broadcast.ReasonBlocked, broadcast.ReasonUnsubscribed, broadcast.ReasonFrequencyCap,
	broadcast.ReasonPlatform, broadcast.ReasonNoChannel, broadcast.ReasonInHandoff,
}

// summarize turns the service's summary into the fragment's data, with
// the etiquette's warnings in plain words.
func summarize(lang i18n.Lang, s broadcast.Summary, loc *time.Location, scheduled bool) summaryView {
	v := summaryView{Lang: lang, Done: true, Scheduled: scheduled,
		Total: countText(lang, "compose.count.clients_gen", int64(s.Total)), Send: num(lang, int64(s.Send)),
		Held: num(lang, int64(s.Held)), At: s.At.In(loc).Format(timeLayout(lang)) + " (" + loc.String() + ")"}
	reasons := make([]string, 0, len(s.Skipped))
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		ia, ib := slices.Index(reasonOrder, a), slices.Index(reasonOrder, b)
		if ia < 0 {
			ia = len(reasonOrder)
		}
		if ib < 0 {
			ib = len(reasonOrder)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	for _, r := range reasons {
		v.Rows = append(v.Rows, reasonRow{Reason: r, Label: composeReasonLabel(lang, r), Count: num(lang, int64(s.Skipped[r]))})
	}
	v.Warnings = warnings(lang, s, scheduled)
	return v
}

// warnings are the etiquette's consequences in plain words.
func warnings(lang i18n.Lang, s broadcast.Summary, scheduled bool) []string {
	var out []string
	quietEnd := fmt.Sprintf("%02d:%02d", s.Quiet.End/60, s.Quiet.End%60)
	when := "compose.warn.quiet_now"
	if scheduled {
		when = "compose.warn.quiet_at_start"
	}
	if s.Held > 0 {
		out = append(out, countText(lang, when, int64(s.Held), quietEnd))
	}
	if n := s.Skipped[broadcast.ReasonFrequencyCap]; n > 0 {
		out = append(out, countText(lang, "compose.warn.cap", int64(n), periodText(lang, s.FrequencyCap)))
	}
	if s.CapOverridden > 0 {
		out = append(out, countText(lang, "compose.warn.cap_ignored", int64(s.CapOverridden), periodText(lang, s.FrequencyCap)))
	}
	if s.QuietOverridden > 0 {
		out = append(out, countText(lang, "compose.warn.quiet_ignored", int64(s.QuietOverridden)))
	}
	if s.Total > 0 && s.Send == 0 {
		out = append(out, i18n.T(lang, "compose.warn.nobody"))
	}
	return out
}

// periodText is the frequency cap as a span: «сутки», «7 дней», «36
// часов».
func periodText(lang i18n.Lang, d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return i18n.T(lang, "compose.period.day")
	case d%(24*time.Hour) == 0:
		return countText(lang, "compose.count.days", int64(d/(24*time.Hour)))
	}
	return countText(lang, "compose.count.hours", int64((d+time.Hour-1)/time.Hour))
}

// policyText describes the etiquette p applies, for the form.
func policyText(lang i18n.Lang, p *broadcast.Policy) string {
	if p == nil {
		return ""
	}
	capText := i18n.T(lang, "compose.policy.no_cap")
	if p.FrequencyCap > 0 {
		capText = i18n.T(lang, "compose.policy.cap", periodText(lang, p.FrequencyCap))
	}
	quiet := i18n.T(lang, "compose.policy.no_quiet")
	if p.Quiet.Start != p.Quiet.End {
		zone := "UTC"
		if p.Location != nil {
			zone = p.Location.String()
		}
		quiet = i18n.T(lang, "compose.policy.quiet", fmt.Sprintf("%02d:%02d", p.Quiet.Start/60, p.Quiet.Start%60),
			fmt.Sprintf("%02d:%02d", p.Quiet.End/60, p.Quiet.End%60), zone)
	}
	return capText + " " + quiet
}

func timeLayout(lang i18n.Lang) string {
	if lang == i18n.Ru {
		return "02.01.2006 15:04"
	}
	return "2006-01-02 15:04"
}

// countText is plural key's form for n with n written in full («1 234
// клиента») and then args: the composer's plural forms take the number
// as their first %s.
func countText(lang i18n.Lang, key string, n int64, args ...any) string {
	s, ok := i18n.PluralForms(lang, key)[lang.FormOf(n)]
	if !ok {
		return "[" + key + "]"
	}
	return fmt.Sprintf(s, append([]any{num(lang, n)}, args...)...)
}

// num writes n with its thousands grouped: «1 234» (a no-break space) in
// Russian, "1,234" in English.
func num(lang i18n.Lang, n int64) string {
	return i18n.Number(lang, n)
}
