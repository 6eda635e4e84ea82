package console

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPostAnswersAtPageAddress: a POST that answers with a page (a
// refusal, a question, a result) names the page's GET address, both in
// HX-Replace-Url (the address bar htmx shows) and in the language switch,
// so a reload or a language switch opens that page instead of GETting
// the POST's address (404).
func TestPostAnswersAtPageAddress(t *testing.T) {
	t.Parallel()
	cf := newFakeClientPages(2)
	cauth, ch := newClientsConsole(t, cf)
	_, sauth, sh := newSegmentsConsole(t)
	uauth, _, uh := newUsersConsole(t, nil)
	camp := sampleCampaigns()
	kauth, kh := newCampaignConsole(t, camp)
	for _, tt := range []struct {
		name   string
		h      http.Handler
		token  string
		target string
		form   url.Values
		status int
		page   string
	}{
		{"refused segment from the list", ch, cauth.Login("manager"), "/clients/save-segment",
			url.Values{"segment": {"subscribed"}, "name": {""}}, http.StatusUnprocessableEntity, "/clients?segment=subscribed"},
		{"refused tag", ch, cauth.Login("manager"), "/clients/1/tags", url.Values{"tag": {""}},
			http.StatusUnprocessableEntity, "/clients/1"},
		{"refused segment", sh, sauth.Login("manager"), "/segments/save",
			url.Values{"new": {"1"}, "name": {"adults"}, "expression": {"age > 1"}}, http.StatusUnprocessableEntity, "/segments/new"},
		{"refused segment edit", sh, sauth.Login("manager"), "/segments/save",
			url.Values{"name": {"adults"}, "expression": {"agee > 1"}}, http.StatusUnprocessableEntity, "/segments/adults"},
		{"delete question", sh, sauth.Login("manager"), "/segments/adults/delete", url.Values{},
			http.StatusOK, "/segments/adults"},
		{"refused delete", sh, sauth.Login("manager"), "/segments/adults/delete", url.Values{"confirm": {"yes"}},
			http.StatusConflict, "/segments/adults"},
		{"password reset", uh, uauth.Login("admin"), "/users/anna/password", url.Values{}, http.StatusOK, "/users"},
		{"refused campaign move", kh, kauth.Login("manager"), "/campaigns/1/start", url.Values{}, http.StatusConflict, "/campaigns/1"},
	} {
		w := post(tt.h, tt.target, tt.token, tt.form)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.status)
			continue
		}
		if got := w.Header().Get("HX-Replace-Url"); got != tt.page {
			t.Errorf("%s: HX-Replace-Url %q, want %q", tt.name, got, tt.page)
		}
		path, raw, _ := strings.Cut(tt.page, "?")
		query, _ := url.ParseQuery(raw)
		if want := html.EscapeString(langHref(path, query, "en")); !strings.Contains(w.Body.String(), `href="`+want+`"`) {
			t.Errorf("%s: the language switch does not link to %s", tt.name, want)
		}
	}
}
