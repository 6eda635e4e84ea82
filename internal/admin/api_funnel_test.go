package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/funnel"
)

// fakeFunnels answers the funnel of "portrait" and records the query.
type fakeFunnels struct{ got chan funnel.Query }

func (f fakeFunnels) Funnel(_ context.Context, q funnel.Query) (*funnel.Report, error) {
	f.got <- q
	if q.Scenario == "promo" && q.Bot == "" {
		return nil, fmt.Errorf("%w: scenario %q is in the bots \"shop\", \"club\"", funnel.ErrChooseBot, q.Scenario)
	}
	if q.Scenario != "portrait" {
		return nil, fmt.Errorf("%w %q (did you mean \"portrait\"?)", funnel.ErrUnknownScenario, q.Scenario)
	}
	return &funnel.Report{Scenario: "portrait", Query: q, Steps: []funnel.Step{
		{ID: "city", Question: true, Entered: 3, Answered: 2, OfStart: 100, OfPrevious: 100, Stuck: 1, MedianAnswer: 30 * time.Second},
	}}, nil
}

func TestAPIFunnel(t *testing.T) {
	t.Parallel()
	e := &apiEnv{seg: newFakeSegments(), camp: newFakeCampaigns(), logs: &syncBuffer{}}
	ff := fakeFunnels{got: make(chan funnel.Query, 10)}
	api, err := NewAPI(APIConfig{Token: testToken, Segments: e.seg, SavedSegments: e.seg, Campaigns: e.camp, Control: e.camp,
		Reports: e.camp, Funnels: ff, Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Logger: slog.New(slog.DiscardHandler)})
	s.Handle("/api/", api)
	e.srv = httptest.NewServer(s.mux)
	t.Cleanup(e.srv.Close)

	resp, body := e.do(t, "GET", "/api/scenarios/portrait/funnel?since=2w&version=v1&platform=vk&source=ads&bot=shop", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got funnel.Export
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Counts != "unique conversations" || len(got.Steps) != 1 || got.Steps[0].Stuck != 1 || *got.Steps[0].MedianSeconds != 30 {
		t.Fatalf("body = %s", body)
	}
	q := <-ff.got
	if q.Version != "v1" || q.Platform != "vk" || q.Source != "ads" || q.Bot != "shop" || q.Period != 14*24*time.Hour || !q.Since.IsZero() {
		t.Fatalf("query = %+v", q)
	}
	// The default period is funnel.DefaultPeriod, resolved by the service.
	if resp, body := e.do(t, "GET", "/api/scenarios/portrait/funnel", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if q := <-ff.got; q.Period != 7*24*time.Hour || q.Bot != "" {
		t.Fatalf("default query = %+v", q)
	}
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/scenarios/portrat/funnel", http.StatusNotFound, `did you mean \"portrait\"?`},
		{"/api/scenarios/portrait/funnel?since=week", http.StatusBadRequest, `"field":"since"`},
		{"/api/scenarios/portrait/funnel?platform=icq", http.StatusBadRequest, `"field":"platform"`},
		{"/api/scenarios/promo/funnel", http.StatusBadRequest, `"field":"bot"`},
	}
	for _, tt := range tests {
		resp, body := e.do(t, "GET", tt.path, "")
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s; want %d with %s", tt.path, resp.StatusCode, body, tt.status, tt.want)
		}
	}
}
