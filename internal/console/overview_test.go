package console

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/console/consoletest"
	"github.com/chathub/chathub/internal/console/i18n"
	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeOverview is a hand-written OverviewStats and CampaignStats.
type fakeOverview struct {
	o         postgres.ClientOverview
	campaigns []broadcast.Campaign
	stats     map[int64]broadcast.Stats
	err       error
	askedLoc  *time.Location
	calls     int
}

func (f *fakeOverview) ClientOverview(_ context.Context, now time.Time, loc *time.Location) (postgres.ClientOverview, error) {
	f.askedLoc = loc
	f.calls++
	return f.o, f.err
}

func (f *fakeOverview) ActiveCampaigns(context.Context) ([]broadcast.Campaign, error) {
	return f.campaigns, nil
}

func (f *fakeOverview) Stats(_ context.Context, id int64) (broadcast.Stats, error) {
	return f.stats[id], nil
}

// newFakeOverview has 1 234 567 clients on two platforms, 30 days with
// clients on two of them, 3 open hand-offs, a running campaign named
// <script> with 1 234 of 5 000 sent and a scheduled one.
func newFakeOverview() *fakeOverview {
	msk := time.FixedZone("MSK", 3*3600)
	f := &fakeOverview{
		o: postgres.ClientOverview{
			Total: postgres.PlatformCounts{Total: 1234567, New: 12, Subscribed: 1000, Blocked: 7},
			Platforms: []postgres.PlatformCounts{
				{Platform: "telegram", Total: 1234000, New: 10, Subscribed: 900, Blocked: 5},
				{Platform: "vk", Total: 567, New: 2, Subscribed: 100, Blocked: 2},
			},
			OpenHandoffs: 3,
		},
		stats: map[int64]broadcast.Stats{7: {Targeted: 5000, Sent: 1234, Queued: 3700, Failed: 66}},
	}
	for i := range postgres.OverviewDays {
		d := postgres.DayCount{Day: time.Date(2026, 11, 7+i, 0, 0, 0, 0, msk)}
		switch i {
		case 29:
			d.Count = 4
		case 27:
			d.Count = 1
		}
		f.o.Daily = append(f.o.Daily, d)
	}
	start := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	f.campaigns = []broadcast.Campaign{
		{ID: 7, Name: "<script>alert(1)</script>", State: broadcast.Running},
		{ID: 8, Name: "Новый год", State: broadcast.Scheduled, StartAt: &start},
	}
	return f
}

func newOverviewConsole(t *testing.T, f *fakeOverview) (*consoletest.Auth, http.Handler) {
	t.Helper()
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: f, Campaigns: f,
		Location: time.FixedZone("MSK", 3*3600)}})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.Handler()
}

func TestOverviewNumbers(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	auth, h := newOverviewConsole(t, f)
	w := do(h, "GET", "/", auth.Login("manager"), nil, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`data-stat="total">1` + "\u00a0" + `234` + "\u00a0" + `567<`,
		`data-stat="new">12<`, `data-stat="subscribed">1` + "\u00a0" + `000<`, `data-stat="blocked">7<`,
		`data-stat="handoffs">3<`,
		`<th scope="row">ВКонтакте</th><td>567</td><td>2</td><td>100</td><td>2</td>`,
		// the chart: an accessible SVG and its numbers as a table
		`role="img" aria-labelledby="ov-chart-title ov-chart-desc"`,
		`<title id="ov-chart-title">Новые клиенты за последние 30 дней</title>`,
		`Всего 5 клиентов, больше всего 6.12 — 4 клиента.`,
		`<td><time datetime="2026-12-06">6.12</time></td><td>4</td>`,
		// progress from the ledger, exact, linked for a manager; the name escaped
		`отправлено 1` + "\u00a0" + `234 из 5` + "\u00a0" + `000; не доставлено или пропущено 66`,
		`<progress max="5000" value="1300"`,
		`<a href="/campaigns/7">&lt;script&gt;alert(1)&lt;/script&gt;</a>`,
		`начнётся 24.12.2026 09:00 UTC`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a campaign name is not escaped")
	}
	if n := len(regexp.MustCompile(`<rect class="ov-bar"`).FindAllString(body, -1)); n != 30 {
		t.Errorf("%d bars, want 30", n)
	}
	if !strings.Contains(body, `data-day="2026-12-06" data-count="4"`) || !strings.Contains(body, `height="140" data-day="2026-12-06"`) {
		t.Error("the busiest day's bar is not full height")
	}
	if f.askedLoc == nil || f.askedLoc.String() != "MSK" {
		t.Errorf("location asked %v", f.askedLoc)
	}
}

// TestOverviewRoles: every role sees Обзор; an operator sees the campaigns'
// progress but no link to the campaign controls.
func TestOverviewRoles(t *testing.T) {
	t.Parallel()
	auth, h := newOverviewConsole(t, newFakeOverview())
	for _, tt := range []struct {
		role  string
		links bool
	}{{"operator", false}, {"manager", true}, {"admin", true}} {
		w := do(h, "GET", "/?lang=en", auth.Login(tt.role), nil, nil)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, "1,234 sent of 5,000") {
			t.Errorf("%s: status %d, progress missing", tt.role, w.Code)
		}
		if got := strings.Contains(body, `href="/campaigns/7"`); got != tt.links {
			t.Errorf("%s: campaign link %v, want %v", tt.role, got, tt.links)
		}
	}
}

func TestOverviewEmptyAndFailing(t *testing.T) {
	t.Parallel()
	f := &fakeOverview{o: postgres.ClientOverview{Daily: make([]postgres.DayCount, postgres.OverviewDays)}}
	auth, h := newOverviewConsole(t, f)
	body := do(h, "GET", "/", auth.Login("operator"), nil, nil).Body.String()
	for _, want := range []string{i18n.T(i18n.Ru, "overview.no_clients"), i18n.T(i18n.Ru, "overview.chart.none"),
		i18n.T(i18n.Ru, "overview.campaigns.none")} {
		if !strings.Contains(body, want) {
			t.Errorf("empty overview lacks %q", want)
		}
	}
	f.err = errors.New("database down")
	if w := do(h, "GET", "/", auth.Login("operator"), nil, nil); w.Code != http.StatusInternalServerError ||
		strings.Contains(w.Body.String(), "database down") {
		t.Errorf("failing store: %d %q", w.Code, w.Body.String())
	}
}

func TestOvNumber(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n      int64
		ru, en string
	}{{0, "0", "0"}, {999, "999", "999"}, {1000, "1\u00a0000", "1,000"}, {1234567, "1\u00a0234\u00a0567", "1,234,567"},
		{-12345, "-12\u00a0345", "-12,345"}} {
		if got := ovNumber(i18n.Ru, tt.n); got != tt.ru {
			t.Errorf("ru %d = %q", tt.n, got)
		}
		if got := ovNumber(i18n.En, tt.n); got != tt.en {
			t.Errorf("en %d = %q", tt.n, got)
		}
	}
}

// TestOverviewCache: with CacheFor the clients are counted once per
// period; the page says when.
func TestOverviewCache(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	auth := consoletest.NewAuth()
	c, err := New(Config{Auth: auth, Overview: OverviewPages{Stats: f, Campaigns: f, CacheFor: 10 * time.Second,
		Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.Login("operator")
	for _, step := range []struct {
		advance time.Duration
		calls   int
		asOf    string
	}{{0, 1, "06.12.2026 09:00"}, {5 * time.Second, 1, "06.12.2026 09:00"}, {6 * time.Second, 2, `datetime="2026-12-06T09:00:11Z"`}} {
		now = now.Add(step.advance)
		body := do(c.Handler(), "GET", "/", tok, nil, nil).Body.String()
		if f.calls != step.calls || !strings.Contains(body, step.asOf) {
			t.Errorf("after %v: %d counts, want %d; as of %q missing", step.advance, f.calls, step.calls, step.asOf)
		}
	}
}

// TestOverviewManyCampaigns: at most ovMaxCampaigns campaigns are shown
// (each is a read of its ledger), the rest counted with a link.
func TestOverviewManyCampaigns(t *testing.T) {
	t.Parallel()
	f := newFakeOverview()
	f.campaigns = nil
	for i := range 13 {
		f.campaigns = append(f.campaigns, broadcast.Campaign{ID: int64(100 + i), Name: "c", State: broadcast.Paused})
	}
	auth, h := newOverviewConsole(t, f)
	body := do(h, "GET", "/", auth.Login("manager"), nil, nil).Body.String()
	if n := strings.Count(body, "<li data-campaign="); n != ovMaxCampaigns {
		t.Errorf("%d campaigns shown, want %d", n, ovMaxCampaigns)
	}
	if !strings.Contains(body, `<a href="/campaigns">и ещё 3 рассылки</a>`) {
		t.Error("the rest are not counted")
	}
}
