package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
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

// TestTourPlaygroundToClients: the playground links a manager or admin to
// the playground's clients under Клиенты, where the chat's card is; an
// operator (no Клиенты) and a console without Клиенты get no link.
func TestTourPlaygroundToClients(t *testing.T) {
	t.Parallel()
	f := newFakeClientPages(3)
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth,
		Scenarios: ScenarioPages{Catalog: fakeCatalog{bots: []ScenarioBot{{Scenarios: shippedScenarios(t)}}}, Playground: &fakePlayground{}},
		Clients:   ClientPages{Clients: f, Segments: f, Saver: f, Editor: f, Users: f}})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler()
	link := `<a href="/clients?segment=platform&#43;%3D%3D&#43;%22playground%22">Его карточка — в разделе «Клиенты».</a>`
	for role, want := range map[string]bool{"operator": false, "manager": true, "admin": true} {
		w := do(h, "GET", "/scenarios/portrait/play", auth.Login(role), nil, nil)
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), link) != want {
			t.Errorf("%s: %d, link shown %v, want %v", role, w.Code, !want, want)
		}
	}
	sauth, sh, _ := scenarioFixture(t)
	if body := do(sh, "GET", "/scenarios/portrait/play", sauth.Login("admin"), nil, nil).Body.String(); strings.Contains(body, "/clients?") {
		t.Error("a console without Клиенты links to it")
	}
}

// TestTourOverviewFinished: a campaign that finished in the last week stays on
// Обзор with its result from the ledger and when it ended, so a manager
// who started it sees how it went; one open hand-off reads in the
// singular.
func TestTourOverviewFinished(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	f.o.OpenHandoffs = 1
	f.o.Platforms = append(f.o.Platforms, postgres.PlatformCounts{Platform: "playground", Total: 1, New: 1, Subscribed: 1})
	ended := time.Date(2026, 12, 6, 6, 5, 0, 0, time.UTC)
	f.finished = []broadcast.Campaign{{ID: 9, Name: "Новый зал", State: broadcast.Done, FinishedAt: &ended}}
	f.stats[9] = broadcast.Stats{Targeted: 4, Sent: 4}
	auth, h := newOverviewConsole(t, f)
	body := do(h, "GET", "/", auth.Login("manager"), nil, nil).Body.String()
	for _, want := range []string{
		`<h2 id="ov-finished">Недавно завершённые рассылки</h2>`,
		`<a href="/campaigns/9">Новый зал</a> <span class="ov-state ov-state-done">завершена</span>`,
		`<time datetime="2026-12-06T06:05:00Z">06.12.2026 06:05`, `</time>: отправлено 4 из 4`,
		`data-stat="handoffs">1</span> открытый запрос: клиент ждёт ответа человека.`,
		`<th scope="row">Песочница</th>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if d := time.Since(f.since); d < tourFinishedWithin || d > tourFinishedWithin+time.Minute {
		t.Errorf("finished since %v ago, want %v", d, tourFinishedWithin)
	}
	f.finished = nil
	if body := do(h, "GET", "/", auth.Login("manager"), nil, nil).Body.String(); strings.Contains(body, "ov-finished") {
		t.Error("the finished section shows with no finished campaign")
	}
}
