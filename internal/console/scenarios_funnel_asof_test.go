package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/funnel"
)

// asOfFunnelStore is fakeFunnelStore answering from a rollup taken at at.
type asOfFunnelStore struct {
	fakeFunnelStore
	at time.Time
}

func (f *asOfFunnelStore) FunnelStepsAsOf(ctx context.Context, q crm.FunnelQuery) ([]crm.FunnelStepCount, time.Time, error) {
	steps, err := f.FunnelSteps(ctx, q)
	return steps, f.at, err
}

// TestScenarioFunnelPageAsOf: counts from the rollup say when they were
// taken (RU and EN); live counts say nothing of the kind.
func TestScenarioFunnelPageAsOf(t *testing.T) {
	t.Parallel()
	auth := consoletest.NewAuth()
	at := time.Date(2026, 12, 7, 14, 5, 0, 0, time.Local)
	st := &asOfFunnelStore{at: at}
	pages := everyPageScenarios(t)
	pages.Funnels = newFakeFunnels(t, &st.fakeFunnelStore)
	live, err := New(Config{Auth: auth, Scenarios: pages})
	if err != nil {
		t.Fatal(err)
	}
	pages = everyPageScenarios(t)
	if pages.Funnels, err = funnel.New(funnel.Config{Store: st, Scenarios: graphList(shippedScenarios(t))}); err != nil {
		t.Fatal(err)
	}
	rolled, err := New(Config{Auth: auth, Scenarios: pages})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.Login("operator")
	if body := do(live.Handler(), "GET", "/scenarios/portrait/funnel", tok, nil, nil).Body.String(); strings.Contains(body, "Данные на") {
		t.Error("live counts say «Данные на»")
	}
	w := do(rolled.Handler(), "GET", "/scenarios/portrait/funnel", tok, nil, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Данные на 14:05") {
		t.Errorf("status %d, page lacks «Данные на 14:05»", w.Code)
	}
	w = do(rolled.Handler(), "GET", "/scenarios/portrait/funnel?lang=en", tok, nil, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Data as of 14:05") {
		t.Errorf("status %d, page lacks «Data as of 14:05»", w.Code)
	}
}
