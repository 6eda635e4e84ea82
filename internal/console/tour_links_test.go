package console

import (
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/segment"
)

// TestTourSegmentToCampaign: a saved segment leads straight to a campaign
// to it — the list's "saved" notice and the segment's page link to
// «Новая рассылка» with the segment chosen, which the composer honours.
func TestTourSegmentToCampaign(t *testing.T) {
	t.Parallel()
	_, auth, h := newSegmentsConsole(t)
	tok := auth.Login("manager")
	link := `<a href="/campaigns/new?segment=moscow">Новая рассылка по этому сегменту</a>`
	for _, path := range []string{"/segments?saved=moscow", "/segments/moscow"} {
		if body := do(h, "GET", path, tok, nil, nil).Body.String(); !strings.Contains(body, link) {
			t.Errorf("%s lacks the link to a campaign to the segment", path)
		}
	}
	for _, path := range []string{"/segments", "/segments/new"} {
		if body := do(h, "GET", path, tok, nil, nil).Body.String(); strings.Contains(body, "/campaigns/new?segment=") {
			t.Errorf("%s links a campaign to no segment", path)
		}
	}

	f := &fakeComposer{saved: []segment.Definition{{Name: "moscow"}, {Name: "kazan"}}}
	cauth, ch := newComposeConsole(t, f)
	body := do(ch, "GET", "/campaigns/new?segment=moscow", cauth.Login("manager"), nil, nil).Body.String()
	if !strings.Contains(body, `<option value="moscow" selected>`) || strings.Contains(body, `<option value="kazan" selected>`) {
		t.Errorf("the composer does not choose the linked segment:\n%s", body)
	}
}
