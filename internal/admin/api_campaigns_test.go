package admin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

const newsletter = `{"name":"Декабрь","segment":"subscribed and city == \"Москва\"","text":"Привет, {{ .client.first_name }}!",
	"buttons":[{"text":"Каталог","url":"https://example.com/c"},{"text":"Анкета","scenario":"portrait"}],
	"platforms":["vk"],"ignore_quiet_hours":true}`

func TestAPICreateAndReadCampaigns(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	resp, body := e.do(t, "POST", "/api/campaigns", newsletter)
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/api/campaigns/1" {
		t.Fatalf("create: %d Location=%q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	c := decode[campaignJSON](t, body)
	if c.ID != 1 || c.State != "draft" || c.Name != "Декабрь" || len(c.Buttons) != 2 || c.Buttons[1].Scenario != "portrait" ||
		len(c.Platforms) != 1 || c.Platforms[0] != "vk" || !c.IgnoreQuietHours || c.IgnoreFrequencyCap {
		t.Errorf("created = %+v", c)
	}
	stored, _ := e.camp.Get(t.Context(), 1)
	if stored.Segment != `subscribed and city == "Москва"` || stored.Buttons[0].URL != "https://example.com/c" {
		t.Errorf("stored = %+v", stored)
	}

	_, body = e.do(t, "POST", "/api/campaigns", `{"name":"Позже","saved_segment":"vip","text":"x","start_at":"2026-12-24T10:00:00+03:00"}`)
	// the saved segment does not exist: refused with its position
	if got := decode[errorBody](t, body); got.Field != "segment" || !strings.Contains(got.Error, "vip") {
		t.Errorf("unknown saved segment: %s", body)
	}
	e.do(t, "PUT", "/api/segments/vip", `{"expression":"subscribed"}`)
	resp, body = e.do(t, "POST", "/api/campaigns", `{"name":"Позже","saved_segment":"vip","text":"x","start_at":"2026-12-24T10:00:00+03:00"}`)
	later := decode[campaignJSON](t, body)
	if resp.StatusCode != 201 || later.State != "scheduled" || later.Segment != `segment("vip")` ||
		later.StartAt == nil || !later.StartAt.Equal(time.Date(2026, 12, 24, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled: %d %+v", resp.StatusCode, later)
	}

	list := decode[struct{ Campaigns []campaignJSON }](t, mustBody(t, e, "GET", "/api/campaigns", 200))
	if len(list.Campaigns) != 2 || list.Campaigns[0].ID != 2 || list.Campaigns[1].ID != 1 {
		t.Errorf("list = %+v", list)
	}
	if got := decode[campaignJSON](t, mustBody(t, e, "GET", "/api/campaigns/1", 200)); got.Name != "Декабрь" {
		t.Errorf("get = %+v", got)
	}
}

func mustBody(t *testing.T, e *apiEnv, method, path string, status int) []byte {
	t.Helper()
	resp, body := e.do(t, method, path, "")
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, body)
	}
	return body
}

func TestAPICreateCampaignErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		field      string
		errPart    string
	}{
		{"service validation", `{"segment":"subscribed","text":"x"}`, 400, "name", "is required"},
		{"no segment", `{"name":"n","text":"x"}`, 400, "segment", "segment is required"},
		{"both segments", `{"name":"n","segment":"subscribed","saved_segment":"vip","text":"x"}`, 400, "segment", "not both"},
		{"bad saved name", `{"name":"n","saved_segment":"не имя","text":"x"}`, 400, "saved_segment", "latin letters"},
		{"bad expression", `{"name":"n","segment":"subscribed and cty == 1","text":"x"}`, 400, "segment", `segment:1:16: unknown field "cty"`},
		{"bad platform", `{"name":"n","segment":"subscribed","text":"x","platforms":["vk","icq"]}`, 400, "platforms[1]", `unknown platform "icq"`},
		{"bad time", `{"name":"n","segment":"subscribed","text":"x","start_at":"завтра"}`, 400, "start_at", "not an RFC 3339 time"},
		{"buttons not a list", `{"name":"n","segment":"subscribed","text":"x","buttons":{}}`, 400, "buttons", "array"},
		{"empty body", ``, 400, "", "body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, testToken)
			resp, body := e.do(t, "POST", "/api/campaigns", tt.body)
			got := decode[errorBody](t, body)
			if resp.StatusCode != tt.status || got.Field != tt.field || !strings.Contains(got.Error, tt.errPart) {
				t.Errorf("%d %+v, want %d field %q mentioning %q", resp.StatusCode, got, tt.status, tt.field, tt.errPart)
			}
			if cs, _ := e.camp.List(t.Context()); len(cs) != 0 {
				t.Errorf("a refused campaign was created: %+v", cs)
			}
		})
	}
}

func TestAPICampaignTransitions(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.do(t, "POST", "/api/campaigns", newsletter)
	steps := []struct {
		action string
		status int
		state  string
	}{
		{"pause", 409, ""},
		{"resume", 409, ""},
		{"start", 200, "running"},
		{"start", 409, ""},
		{"pause", 200, "paused"},
		{"resume", 200, "running"},
		{"cancel", 200, "cancelled"},
		{"resume", 409, ""},
		{"cancel", 409, ""},
	}
	for i, s := range steps {
		resp, body := e.do(t, "POST", "/api/campaigns/1/"+s.action, "")
		if resp.StatusCode != s.status {
			t.Fatalf("step %d %s: status %d, want %d: %s", i, s.action, resp.StatusCode, s.status, body)
		}
		if s.status == 200 {
			if got := decode[campaignJSON](t, body); got.State != s.state {
				t.Errorf("step %d %s: state %q, want %q", i, s.action, got.State, s.state)
			}
		} else if got := decode[errorBody](t, body); !strings.Contains(got.Error, "cannot become") && !strings.Contains(got.Error, "not paused") {
			t.Errorf("step %d %s: error %q", i, s.action, got.Error)
		}
	}
	for _, path := range []string{"/api/campaigns/7/start", "/api/campaigns/7/dry-run"} {
		if resp, body := e.do(t, "POST", path, ""); resp.StatusCode != 404 || !strings.Contains(string(body), "not found") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/api/campaigns/abc", "/api/campaigns/0", "/api/campaigns/-1/stats", "/api/campaigns/99999999999999999999"} {
		resp, body := e.do(t, "GET", path, "")
		if got := decode[errorBody](t, body); resp.StatusCode != 400 || got.Field != "id" {
			t.Errorf("%s: %d %+v", path, resp.StatusCode, got)
		}
	}
}

func TestAPIDryRun(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.do(t, "POST", "/api/campaigns", newsletter)
	e.camp.previews = []broadcast.Preview{
		{ClientID: 1, Platform: "vk", Name: "Анна", Text: "Привет, Анна!"},
		{ClientID: 3, Platform: "vk", Text: "Привет, !", Skipped: broadcast.ReasonUnsubscribed},
		{ClientID: 4, Platform: "vk", Text: "Привет"},
	}
	type result struct {
		CampaignID int64         `json:"campaign_id"`
		Previews   []previewJSON `json:"previews"`
	}
	got := decode[result](t, mustBody(t, e, "POST", "/api/campaigns/1/dry-run?n=2", 200))
	if got.CampaignID != 1 || len(got.Previews) != 2 || got.Previews[0].Text != "Привет, Анна!" || got.Previews[1].Skipped != "unsubscribed" {
		t.Errorf("dry run = %+v", got)
	}
	mustBody(t, e, "POST", "/api/campaigns/1/dry-run", 200)
	if e.camp.dryRunN != broadcast.DefaultDryRunSize {
		t.Errorf("default n = %d", e.camp.dryRunN)
	}
	for _, q := range []string{"0", "51", "five", "-3"} {
		resp, body := e.do(t, "POST", "/api/campaigns/1/dry-run?n="+q, "")
		if got := decode[errorBody](t, body); resp.StatusCode != 400 || got.Field != "n" || !strings.Contains(got.Error, "from 1 to 50") {
			t.Errorf("n=%s: %d %+v", q, resp.StatusCode, got)
		}
	}
}

func TestAPIStats(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.do(t, "POST", "/api/campaigns", newsletter)
	e.do(t, "POST", "/api/campaigns/1/start", "")
	started := time.Date(2026, 12, 1, 12, 0, 0, 0, time.FixedZone("MSK", 3*3600))
	e.camp.stats = broadcast.Stats{
		Targeted: 1000, Queued: 500, Sent: 400, Failed: 30, Blocked: 20, Skipped: 50,
		FailedByReason:  map[string]int{broadcast.ReasonTransient: 25, broadcast.ReasonBadRequest: 5},
		SkippedByReason: map[string]int{broadcast.ReasonFrequencyCap: 40, broadcast.ReasonUnsubscribed: 10},
		QueuedByReason:  map[string]int{broadcast.ReasonQuietHours: 300},
		StartedAt:       &started, Duration: 90 * time.Second, Rate: 10,
	}
	got := decode[statsJSON](t, mustBody(t, e, "GET", "/api/campaigns/1/stats", 200))
	if got.CampaignID != 1 || got.State != "running" || got.Targeted != 1000 || got.Sent != 400 || got.Failed != 30 ||
		got.Blocked != 20 || got.Skipped != 50 || got.FailedByReason["transient"] != 25 ||
		got.SkippedFrequencyCap != 40 || got.WaitingQuietHours != 300 || got.QueuedByReason["quiet_hours"] != 300 || got.DurationSeconds != 90 ||
		got.RatePerSecond != 10 || got.ETASeconds == nil || *got.ETASeconds != 50 ||
		got.StartedAt == nil || got.StartedAt.Location() != time.UTC {
		t.Errorf("stats = %+v", got)
	}

	e.camp.stats = broadcast.Stats{}
	raw := string(mustBody(t, e, "GET", "/api/campaigns/1/stats", 200))
	if !strings.Contains(raw, `"failed_by_reason":{}`) || strings.Contains(raw, "eta_seconds") {
		t.Errorf("empty stats = %s", raw)
	}
	mustBody(t, e, "GET", "/api/campaigns/2/stats", 404)
}

func TestAPICampaignInternalError(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.camp.listErr = fmt.Errorf("list campaigns: %w", errDatabaseDown)
	resp, body := e.do(t, "GET", "/api/campaigns", "")
	if resp.StatusCode != 500 || strings.Contains(string(body), "hunter2") || !strings.Contains(string(body), "internal error") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}
