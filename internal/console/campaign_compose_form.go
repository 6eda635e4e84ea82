package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/messenger"
)

// composeButtons is how many button rows the composer offers: as many as
// the service allows, so that editing a draft made through the API with
// more than a few never drops one.
const composeButtons = broadcast.MaxButtons

// scheduleLayout is the value format of <input type="datetime-local">.
const scheduleLayout = "2006-01-02T15:04"

// composeForm is the composer's form exactly as typed, so that a page
// shown again after an error keeps everything.
type composeForm struct {
	Name string
	// Saved is the chosen saved segment's name ("": the expression).
	Saved, Expr string
	Text        string
	ImageURL    string
	// Platform is "all", "telegram" or "vk".
	Platform string
	// StartAt is the schedule as typed (datetime-local, in the console's
	// timezone); "" for a draft started by hand.
	StartAt                string
	IgnoreCap, IgnoreQuiet bool
	Buttons                [composeButtons]buttonForm
}

// buttonForm is one button row: a caption and a link or a scenario.
type buttonForm struct {
	Text, URL, Scenario string
}

func (b buttonForm) empty() bool {
	return strings.TrimSpace(b.Text) == "" && strings.TrimSpace(b.URL) == "" && b.Scenario == ""
}

// fieldErrors are error messages by form field: "name", "segment",
// "text", "buttons", "button0".., "image_url", "platforms", "start_at".
type fieldErrors map[string]string

// readComposeForm reads the posted form, at most 1 MiB (an unparsable or
// larger body reads as an empty form).
func readComposeForm(w http.ResponseWriter, r *http.Request) composeForm {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	_ = r.ParseForm()
	f := composeForm{
		Name: r.PostFormValue("name"), Saved: r.PostFormValue("saved"), Expr: r.PostFormValue("segment"),
		Text: r.PostFormValue("text"), ImageURL: strings.TrimSpace(r.PostFormValue("image_url")),
		Platform: r.PostFormValue("platform"), StartAt: strings.TrimSpace(r.PostFormValue("start_at")),
		IgnoreCap: r.PostFormValue("ignore_frequency_cap") == "on", IgnoreQuiet: r.PostFormValue("ignore_quiet_hours") == "on",
	}
	for i := range f.Buttons {
		n := strconv.Itoa(i)
		f.Buttons[i] = buttonForm{Text: r.PostFormValue("button" + n + "_text"),
			URL: strings.TrimSpace(r.PostFormValue("button" + n + "_url")), Scenario: r.PostFormValue("button" + n + "_scenario")}
	}
	if f.Platform != "telegram" && f.Platform != "vk" {
		f.Platform = "all"
	}
	return f
}

// segmentExpr is the segment the form names: segment("name") for a saved
// one (as the API stores it), else the expression.
func (f *composeForm) segmentExpr() string {
	if f.Saved != "" {
		return "segment(" + strconv.Quote(f.Saved) + ")"
	}
	return strings.TrimSpace(f.Expr)
}

// campaign is the campaign the form describes. The only errors it finds
// itself are of the form's own making (a schedule that is not a time);
// everything else is the service's to check.
func (f *composeForm) campaign(lang i18n.Lang, loc *time.Location) (broadcast.Campaign, fieldErrors) {
	c := broadcast.Campaign{
		Name: f.Name, Segment: f.segmentExpr(), Text: f.Text, ImageURL: f.ImageURL,
		IgnoreFrequencyCap: f.IgnoreCap, IgnoreQuietHours: f.IgnoreQuiet,
	}
	if f.Platform != "all" {
		c.Platforms = []messenger.Platform{messenger.Platform(f.Platform)}
	}
	// Empty rows are left out; the service's errors name a button by its
	// index among those sent, so remember which row each came from.
	for _, b := range f.Buttons {
		if !b.empty() {
			c.Buttons = append(c.Buttons, broadcast.Button{Text: strings.TrimSpace(b.Text), URL: b.URL, Scenario: b.Scenario})
		}
	}
	var errs fieldErrors
	if f.StartAt != "" {
		t, err := time.ParseInLocation(scheduleLayout, f.StartAt, loc)
		if err != nil {
			errs = fieldErrors{"start_at": i18n.T(lang, "compose.error.start_at")}
		} else {
			c.StartAt = &t
		}
	}
	return c, errs
}

// buttonRow maps the index of a sent button back to its form row.
func (f *composeForm) buttonRow(sent int) int {
	for i, b := range f.Buttons {
		if b.empty() {
			continue
		}
		if sent == 0 {
			return i
		}
		sent--
	}
	return 0
}

// fieldOf is the form field a service error's field belongs to: the
// button errors ("buttons[1]": the second button sent) go to their row
// ("button2" when the row between was empty).
func (f *composeForm) fieldOf(field string) string {
	if rest, ok := strings.CutPrefix(field, "buttons["); ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
			return "button" + strconv.Itoa(f.buttonRow(n))
		}
	}
	return field
}
