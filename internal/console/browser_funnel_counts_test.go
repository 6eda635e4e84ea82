package console

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chathub/chathub/internal/console/browsertest"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/store/postgres"
)

// seedFunnelClients records the step visits of a few portrait
// conversations into st, relative to now:
//
//	tg-1  telegram          started 1 h ago,   waits at name
//	vk-1  vk, source ads    started 2 h ago,   waits at name
//	tg-2  telegram          started 10 days ago, waits at name
//	tg-3  telegram          started 1 day ago, dropped at city
//	vk-2  vk                started 20 days ago, dropped at city
//	tg-4  telegram          started 40 days ago, waits at name (its state expired: dropped)
func seedFunnelClients(t *testing.T, st *postgres.Store, version string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	conv := func(id string, p messenger.Platform, source string, ago time.Duration, dropAt string) {
		t.Helper()
		key := messenger.ChatKey{Platform: p, ID: id}
		start := now.Add(-ago)
		run := start.UnixMicro()
		v := func(ev crm.VisitEvent, step, next string) crm.StepVisit {
			return crm.StepVisit{Scenario: "portrait", Version: version, Run: run, Step: step, Event: ev, Next: next}
		}
		turns := []crm.Changes{
			{Now: start, UpdateID: id + "-1", Source: source, Set: []crm.FieldValue{{Field: "first_name", Value: "Клиент " + id}},
				Visits: []crm.StepVisit{v(crm.VisitEnter, "consent", "")}},
			{Now: start.Add(time.Minute), UpdateID: id + "-2", Consent: true,
				Visits: []crm.StepVisit{v(crm.VisitAnswer, "consent", "name"), v(crm.VisitEnter, "name", "")}},
		}
		if dropAt != "" {
			turns = append(turns,
				crm.Changes{Now: start.Add(2 * time.Minute), UpdateID: id + "-3",
					Visits: []crm.StepVisit{v(crm.VisitAnswer, "name", "age"), v(crm.VisitEnter, "age", "")}},
				crm.Changes{Now: start.Add(3 * time.Minute), UpdateID: id + "-4",
					Visits: []crm.StepVisit{v(crm.VisitAnswer, "age", "city"), v(crm.VisitEnter, "city", "")}},
				crm.Changes{Now: start.Add(4 * time.Minute), UpdateID: id + "-5",
					Visits: []crm.StepVisit{v(crm.VisitDrop, "city", "")}})
		}
		for i := range turns {
			if err := st.RecordChanges(ctx, key, &turns[i]); err != nil {
				t.Fatalf("seed %s: %v", id, err)
			}
		}
	}
	day := 24 * time.Hour
	conv("tg-1", messenger.Telegram, "", time.Hour, "")
	conv("vk-1", messenger.VK, "ads", 2*time.Hour, "")
	conv("tg-2", messenger.Telegram, "", 10*day, "")
	conv("tg-3", messenger.Telegram, "", day, "city")
	conv("vk-2", messenger.VK, "", 20*day, "city")
	conv("tg-4", messenger.Telegram, "", 40*day, "")
}

// TestBrowserFunnelCounts: on a real (SQLite) store, each "stuck" and
// "dropped" number of the Воронка page, under the page's filters (set by
// TestBrowserFunnel through the controls, here in the address), opens a
// client list of exactly that many clients, and the dropped list saves
// as a segment with those filters; in Russian and English, with the axe
// scan.
func TestBrowserFunnelCounts(t *testing.T) {
	type texts struct{ period, found, save, saveName, saveSubmit string }
	langs := map[string]texts{
		"ru": {"Разговоры, начатые за", "Найдено:", "Сохранить как сегмент: бросившие на шаге city", "Название сегмента", "Сохранить сегмент"},
		"en": {"Conversations started in", "Found:", "Save as a segment: dropped at step city", "Segment name", "Save segment"},
	}
	st, err := postgres.Open(context.Background(), postgres.Config{URL: filepath.Join(t.TempDir(), "crm.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	graphs := shippedScenarios(t)
	var version string
	for _, g := range graphs {
		if g.ID == "portrait" {
			version = g.Version
		}
	}
	seedFunnelClients(t, st, version, time.Now())
	auth := consoletest.NewAuth()
	cfg := everyPageConfig(t, newAuditLog(1))
	cfg.Auth = auth
	cfg.Clients = ClientPages{Clients: st, Segments: st, Saver: st, Editor: noClientEditor{}}
	svc, err := funnel.New(funnel.Config{Store: st, Scenarios: graphList(graphs)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Scenarios.Funnels = svc
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	selectBy := func(label string) string {
		return `//select[@id=//label[normalize-space()="` + label + `"]/@for]`
	}
	// cell reads the number in a row's data cell col (stuck 5, dropped 6)
	// and its link.
	cell := func(t *testing.T, ctx context.Context, step string, col int) (int, string) {
		t.Helper()
		xp := `//table[contains(@class,"funnel")]//tr[th/code="` + step + `"]/td[` + strconv.Itoa(col) + `]/a[1]`
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { const a = document.evaluate(`+strconv.Quote(xp)+
			`, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; return a ? [a.textContent, a.getAttribute("href")] : ["", ""]; })()`))
		if err != nil || len(got) != 2 {
			t.Fatalf("cell %s/%d: %v %v", step, col, got, err)
		}
		if got[0] == "" {
			return 0, ""
		}
		n, err := strconv.Atoi(strings.TrimSpace(got[0]))
		if err != nil {
			t.Fatalf("cell %s/%d: %q", step, col, got[0])
		}
		return n, got[1]
	}
	// follow clicks the cell's number and returns how many clients the
	// list finds and how many rows it shows.
	follow := func(t *testing.T, ctx context.Context, tx texts, step string, col int) (found, rows int) {
		t.Helper()
		xp := `//table[contains(@class,"funnel")]//tr[th/code="` + step + `"]/td[` + strconv.Itoa(col) + `]/a[1]`
		run(t, ctx,
			chromedp.Click(xp),
			chromedp.WaitVisible(`//*[@id="clients-status"]//strong`),
		)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[document.getElementById("clients-status").textContent, String(document.querySelectorAll("table.clients tbody tr").length)]`))
		if err != nil || len(got) != 2 {
			t.Fatalf("client list: %v %v", got, err)
		}
		status := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(got[0]), tx.found))
		found, err = strconv.Atoi(strings.Fields(status)[0])
		if err != nil {
			t.Fatalf("status %q", got[0])
		}
		rows, _ = strconv.Atoi(got[1])
		return found, rows
	}
	for _, lang := range []string{"ru", "en"} {
		tx := langs[lang]
		t.Run(lang, func(t *testing.T) {
			ctx := newTab(t)
			signIn(t, ctx, srv.URL, lang, "admin", consoletest.Password("admin"))
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS(`nav.menu`)))
			for _, tt := range []struct {
				name, since, platform, source string
				stuckName, droppedCity        int
			}{
				{"7 days", "7d", "", "", 2, 1},
				{"30 days on telegram", "30d", "telegram", "", 2, 1},
				{"30 days", "30d", "", "", 3, 2},
				{"all time, source ads", "all", "", "ads", 1, 0},
				{"all time", "all", "", "", 3, 2},
			} {
				q := url.Values{"since": {tt.since}, "platform": {tt.platform}, "source": {tt.source}}
				run(t, ctx,
					chromedp.Navigate(srv.URL+"/scenarios/portrait/funnel?"+q.Encode()),
					chromedp.WaitReady(`//option[@value="`+tt.since+`" and @selected]`),
				)
				scanAccessibility(t, ctx, lang+" funnel "+tt.name)
				for _, c := range []struct {
					step string
					col  int
					want int
				}{{"name", 5, tt.stuckName}, {"city", 6, tt.droppedCity}} {
					n, href := cell(t, ctx, c.step, c.col)
					if n != c.want {
						t.Errorf("%s: %s cell %d = %d, want %d", tt.name, c.step, c.col, n, c.want)
					}
					if n == 0 {
						continue
					}
					found, rows := follow(t, ctx, tx, c.step, c.col)
					if found != n || rows != n {
						expr, _ := url.QueryUnescape(strings.TrimPrefix(href, "/clients?segment="))
						t.Errorf("%s: the %s cell says %d; its list (%s) finds %d and shows %d", tt.name, c.step, n, expr, found, rows)
					}
					run(t, ctx, chromedp.NavigateBack(), chromedp.WaitVisible(selectBy(tx.period)))
				}
			}
			// The filtered dropped list saves as a segment with its filters.
			name := "dropped-city-" + lang
			run(t, ctx,
				chromedp.Navigate(srv.URL+"/scenarios/portrait/funnel?since=30d&platform=telegram"),
				chromedp.Click(`//a[@aria-label="`+tx.save+`"]`),
				chromedp.WaitVisible(byLabel(tx.saveName)),
				browsertest.Type(byLabel(tx.saveName), name),
				chromedp.Click(button(tx.saveSubmit)),
				chromedp.WaitVisible(`//*[@role="status" and contains(., "`+name+`")]`),
			)
			expr, found, err := st.SegmentExpression(context.Background(), name)
			if want := `dropped("portrait", "city", {since: ago("30d"), platform: "telegram"})`; err != nil || !found || expr != want {
				t.Errorf("saved %q (%t, %v); want %q", expr, found, err, want)
			}
		})
	}
}
