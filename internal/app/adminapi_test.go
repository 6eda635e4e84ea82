package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment/segmenttest"
	"github.com/chathub/chathub/internal/store/postgres"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestManagerAPIEndToEnd runs the managers' API over the real broadcast
// service and CRM store on PostgreSQL.
func TestManagerAPIEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.SkipUnlessServices(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, postgres.Config{URL: storetest.PostgresURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, p := range segmenttest.Personas(time.Now().UTC()) {
		for i := range p.Changes {
			if _, err := db.ApplyChanges(ctx, p.Key, &p.Changes[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: "../../scenarios"})
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	const token = "e2e-token-0123456789abcdef"
	stores := &Stores{CRM: db, Scenarios: reg, logger: slog.New(slog.DiscardHandler)}
	api, err := stores.ManagerAPI(config.Config{AdminToken: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	call := func(method, path, body, auth string, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return b
	}
	var got map[string]any
	unmarshal := func(b []byte) map[string]any {
		t.Helper()
		got = nil
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return got
	}

	call("GET", "/api/campaigns", "", "", 401)
	call("GET", "/api/campaigns", "", "e2e-token-0123456789abcdeX", 401)
	n := unmarshal(call("POST", "/api/segments/count", `{"expr":"subscribed"}`, token, 200))["count"].(float64)
	if n == 0 {
		t.Fatal("no subscribed personas")
	}
	// Обзор's charts over the same store, the days in DEFAULT_TIMEZONE
	// (the broadcast service's default without one).
	charts := unmarshal(call("GET", "/api/overview/charts?days=7", "", token, 200))
	if days, _ := charts["days"].([]any); charts["timezone"] != "Europe/Moscow" || len(days) != 7 ||
		len(charts["new_clients"].(map[string]any)["daily"].([]any)) != 7 {
		t.Errorf("charts: %v", charts)
	}
	call("GET", "/api/overview/charts?days=0", "", token, 400)
	bad := unmarshal(call("POST", "/api/campaigns", `{"name":"x","segment":"subscribed and cty == 1","text":"x"}`, token, 400))
	if bad["field"] != "segment" || bad["column"] != float64(16) {
		t.Errorf("bad segment: %v", bad)
	}
	bad = unmarshal(call("POST", "/api/campaigns", `{"name":"x","segment":"subscribed","text":"x","buttons":[{"text":"А","scenario":"nope"}]}`, token, 400))
	if !strings.HasPrefix(bad["field"].(string), "button") {
		t.Errorf("unknown scenario button: %v", bad)
	}
	call("PUT", "/api/segments/subs", `{"expression":"subscribed"}`, token, 200)
	c := unmarshal(call("POST", "/api/campaigns", `{"name":"Декабрь","saved_segment":"subs","text":"Привет, {{ .client.first_name | default \"друг\" }}!","ignore_quiet_hours":true,"ignore_frequency_cap":true}`, token, 201))
	if c["id"] != float64(1) || c["state"] != "draft" || c["segment"] != `segment("subs")` {
		t.Errorf("created: %v", c)
	}
	previews := unmarshal(call("POST", "/api/campaigns/1/dry-run?n=2", "", token, 200))["previews"].([]any)
	if len(previews) != min(2, int(n)) || !strings.HasPrefix(previews[0].(map[string]any)["text"].(string), "Привет, ") {
		t.Errorf("dry run: %v", previews)
	}
	if st := unmarshal(call("POST", "/api/campaigns/1/start", "", token, 200))["state"]; st != "running" {
		t.Errorf("after start: %v", st)
	}
	stats := unmarshal(call("GET", "/api/campaigns/1/stats", "", token, 200))
	if stats["targeted"] != n || stats["queued"] != n || stats["state"] != "running" {
		t.Errorf("stats: %v", stats)
	}
	rows, err := csv.NewReader(strings.NewReader(string(call("GET", "/api/campaigns/1/deliveries.csv", "", token, 200)))).ReadAll()
	if err != nil || len(rows) != int(n)+1 || rows[1][0] != "1" || rows[1][4] != "queued" {
		t.Errorf("deliveries: %q %v", rows, err)
	}
	call("POST", "/api/campaigns/1/cancel", "", token, 200)
	call("POST", "/api/campaigns/1/start", "", token, 409)
	stats = unmarshal(call("GET", "/api/campaigns/1/stats", "", token, 200))
	if stats["skipped"] != n || stats["skipped_by_reason"].(map[string]any)["cancelled"] != n || stats["state"] != "cancelled" {
		t.Errorf("stats after cancel: %v", stats)
	}
	call("GET", "/api/campaigns/2", "", token, 404)
	call("GET", "/api/campaigns/2/deliveries.csv", "", token, 404)
	// The changes are audited as the API's; the refused ones are not.
	entries, err := db.AuditEntries(ctx, account.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range entries {
		log = append(log, e.Actor+" "+e.Action+" "+e.Object)
	}
	want := []string{"api campaign.cancel campaign 1", "api campaign.start campaign 1", "api campaign.create campaign 1",
		"api segment.save segment subs"}
	if !slices.Equal(log, want) {
		t.Errorf("audit log:\n got %q\nwant %q", log, want)
	}
}

// TestRuntimeServesManagerAPI: chathub run mounts /api next to the probes,
// disabled (503) without ADMIN_TOKEN.
func TestRuntimeServesManagerAPI(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", "runtime-token-0123456789"} {
		cfg := embedded.cfg(t)
		cfg.HTTPAddr, cfg.AdminToken = "127.0.0.1:0", token
		logger := slog.New(slog.DiscardHandler)
		stores, err := Open(context.Background(), cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stores.Close() })
		idle := func(ctx context.Context, _ messenger.Sink) error { <-ctx.Done(); return nil }
		rt, err := NewRuntime(cfg, stores, []Bot{{Platform: messenger.Telegram, Sender: &recorder{}, Poll: idle}}, logger)
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Stop(context.Background()) })
		status := func(auth string) int {
			req, _ := http.NewRequest("GET", "http://"+rt.Addr()+"/api/campaigns", nil)
			if auth != "" {
				req.Header.Set("Authorization", "Bearer "+auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if token == "" {
			if got := status("runtime-token-0123456789"); got != 503 {
				t.Errorf("API without ADMIN_TOKEN: %d, want 503", got)
			}
			continue
		}
		if got := status(""); got != 401 {
			t.Errorf("no token: %d, want 401", got)
		}
		if got := status(token); got != 200 {
			t.Errorf("right token: %d, want 200", got)
		}
	}
}
