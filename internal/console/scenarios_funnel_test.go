package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/scenario"
)

// fakeFunnelStore is funnel.Store with fixed counts for the shipped
// portrait scenario; it records the last query.
type fakeFunnelStore struct {
	mu   sync.Mutex
	last crm.FunnelQuery
}

func (f *fakeFunnelStore) FunnelSteps(_ context.Context, q crm.FunnelQuery) ([]crm.FunnelStepCount, error) {
	f.mu.Lock()
	f.last = q
	f.mu.Unlock()
	if q.Scenario != "portrait" {
		return nil, nil
	}
	return []crm.FunnelStepCount{
		{Step: "consent", Entered: 10, Answered: 9, Dropped: 1, MedianAnswer: 12 * time.Second},
		{Step: "name", Entered: 9, Answered: 7, Stuck: 2, MedianAnswer: 40 * time.Second, Reminded: 2, CameBack: 1},
		{Step: "age", Entered: 7, Answered: 7, MedianAnswer: 8 * time.Second},
		{Step: "city", Entered: 7, Answered: 5, Stuck: 1, Dropped: 1, MedianAnswer: 95 * time.Second},
	}, nil
}

func (f *fakeFunnelStore) ScenarioVersions(_ context.Context, id string) ([]crm.ScenarioVersion, error) {
	return []crm.ScenarioVersion{{Version: "0ld0ld0ld0ld0ld0", Since: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}}, nil
}

func (f *fakeFunnelStore) query() crm.FunnelQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// graphList is funnel.Scenarios over graphs.
type graphList []*scenario.Graph

func (g graphList) Scenario(_ context.Context, bot, id string) (*scenario.Graph, bool, error) {
	for _, x := range g {
		if x.ID == id && bot == "" {
			return x, true, nil
		}
	}
	return nil, false, nil
}

func (g graphList) ScenarioBots(_ context.Context, id string) ([]string, error) {
	for _, x := range g {
		if x.ID == id {
			return []string{""}, nil
		}
	}
	return nil, nil
}

func (g graphList) ScenarioIDs(context.Context) ([]string, error) {
	var ids []string
	for _, x := range g {
		ids = append(ids, x.ID)
	}
	return ids, nil
}

// newFakeFunnels is the funnel Service over fakeFunnelStore and the
// shipped scenarios.
func newFakeFunnels(t *testing.T, st *fakeFunnelStore) *funnel.Service {
	t.Helper()
	svc, err := funnel.New(funnel.Config{Store: st, Scenarios: graphList(shippedScenarios(t))})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// segHref is the href of the client list of a segment as the page renders
// it (html/template writes + as &#43;).
func segHref(expr string) string {
	return `href="/clients?segment=` + strings.ReplaceAll(url.QueryEscape(expr), "+", "&#43;")
}

func TestScenarioFunnelPage(t *testing.T) {
	t.Parallel()
	auth := consoletest.NewAuth()
	st := &fakeFunnelStore{}
	pages := everyPageScenarios(t)
	pages.Funnels = newFakeFunnels(t, st)
	c, err := New(Config{Auth: auth, Scenarios: pages})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Handler()
	tok := auth.Login("operator")
	tests := []struct {
		name, path string
		status     int
		want       []string
		query      crm.FunnelQuery
	}{
		{"default", "/scenarios/portrait/funnel", 200, []string{
			"Воронка: Знакомство", "считаются уникальные разговоры", "Начато 10 разговоров", "<code>name</code>",
			segHref(`stuck("portrait", "name", {since: ago("7d")})`), segHref(`dropped("portrait", "city", {since: ago("7d")})`) + "&amp;save=1",
			"Сохранить как сегмент: бросившие на шаге consent", "Сохранить как сегмент: застрявшие на шаге name",
			"90,0 %", "40 с", "2 → 1", "1 мин 35 с", `<option value="7d" selected>`, "(срок ожидания — 30 дней)",
			`<option value="" selected>Все версии</option>`, `<option value="0ld0ld0ld0ld0ld0">0ld0ld0ld0ld0ld0 (с 01.11.2026)</option>`},
			crm.FunnelQuery{Scenario: "portrait"}},
		{"filters", "/scenarios/portrait/funnel?since=30d&version=abc&platform=vk&source=ads", 200, []string{
			`<option value="30d" selected>`, `<option value="vk" selected>`, `<option value="abc" selected>abc</option>`, `value="ads"`,
			segHref(`dropped("portrait", "city", {since: ago("30d"), version: "abc", platform: "vk", source: "ads"})`)},
			crm.FunnelQuery{Scenario: "portrait", Version: "abc", Platform: "vk", Source: "ads"}},
		{"all time", "/scenarios/portrait/funnel?since=all", 200, []string{segHref(`stuck("portrait", "name")`) + `"`}, crm.FunnelQuery{Scenario: "portrait"}},
		{"bad period", "/scenarios/portrait/funnel?since=week", 200, []string{"Непонятный период"}, crm.FunnelQuery{Scenario: "portrait"}},
		{"unknown scenario", "/scenarios/nope/funnel", 404, nil, crm.FunnelQuery{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, "GET", tt.path, tok, nil, nil)
			if w.Code != tt.status {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if tt.status != http.StatusOK {
				return
			}
			q := st.query()
			if q.Scenario != tt.query.Scenario || q.Version != tt.query.Version || q.Platform != tt.query.Platform || q.Source != tt.query.Source {
				t.Errorf("query = %+v, want %+v", q, tt.query)
			}
		})
	}
	// The legend names the waiting window the service was given (STATE_TTL).
	short, err := funnel.New(funnel.Config{Store: st, Scenarios: graphList(shippedScenarios(t)), OpenFor: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pages.Funnels = short
	c12, err := New(Config{Auth: auth, Scenarios: pages})
	if err != nil {
		t.Fatal(err)
	}
	if body := do(c12.Handler(), "GET", "/scenarios/portrait/funnel", tok, nil, nil).Body.String(); !strings.Contains(body, "(срок ожидания — 12 часов)") {
		t.Error("with OpenFor 12h the legend does not say «срок ожидания — 12 часов»")
	}
	// The scenario's page links to its funnel.
	if w := do(h, "GET", "/scenarios/portrait", tok, nil, nil); !strings.Contains(w.Body.String(), `href="/scenarios/portrait/funnel"`) {
		t.Error("the scenario page does not link to its funnel")
	}
}

// twoBots is funnel.Scenarios of two bots with the same scenarios: the
// bot of the environment variables and "shop".
type twoBots struct{ graphList }

func (b twoBots) Scenario(ctx context.Context, bot, id string) (*scenario.Graph, bool, error) {
	if bot != "" && bot != "shop" {
		return nil, false, nil
	}
	return b.graphList.Scenario(ctx, "", id)
}

func (b twoBots) ScenarioBots(ctx context.Context, id string) ([]string, error) {
	if bots, _ := b.graphList.ScenarioBots(ctx, id); len(bots) == 0 {
		return nil, nil
	}
	return []string{"", "shop"}, nil
}

// TestScenarioFunnelBots: when several bots have the scenario the page
// offers the bot as a filter, the one of ?bot= chosen.
func TestScenarioFunnelBots(t *testing.T) {
	t.Parallel()
	auth := consoletest.NewAuth()
	pages := everyPageScenarios(t)
	graphs := shippedScenarios(t)
	pages.Catalog = fakeCatalog{bots: []ScenarioBot{{Scenarios: graphs}, {Name: "shop", Scenarios: graphs}}}
	svc, err := funnel.New(funnel.Config{Store: &fakeFunnelStore{}, Scenarios: twoBots{graphList(graphs)}})
	if err != nil {
		t.Fatal(err)
	}
	pages.Funnels = svc
	c, err := New(Config{Auth: auth, Scenarios: pages})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.Login("operator")
	body := do(c.Handler(), "GET", "/scenarios/portrait/funnel?bot=shop", tok, nil, nil).Body.String()
	for _, want := range []string{`<label for="funnel-bot">Бот</label>`, `<option value="">Бот из переменных окружения</option>`,
		`<option value="shop" selected>shop</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, `type="hidden" name="bot"`) {
		t.Error("the bot is both a select and a hidden field")
	}
	// Without ?bot=: the bot of the environment variables.
	body = do(c.Handler(), "GET", "/scenarios/portrait/funnel", tok, nil, nil).Body.String()
	if !strings.Contains(body, `<option value="" selected>Бот из переменных окружения</option>`) {
		t.Error("the bot of the environment variables is not chosen without ?bot=")
	}
}
