package admin

import (
	"encoding/json"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

const testToken = "test-token-0123456789abcdef"

// apiEnv is an API over fakes, served by an httptest server.
type apiEnv struct {
	srv  *httptest.Server
	seg  *fakeSegments
	camp *fakeCampaigns
	logs *syncBuffer
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = logtest.Buffer

func newAPIEnv(t *testing.T, token string) *apiEnv {
	t.Helper()
	age := func(n int) *int { return &n }
	e := &apiEnv{
		seg: newFakeSegments(
			crm.Client{ID: 1, Platform: "telegram", PlatformUserID: "101", FirstName: "Анна", City: "Москва", Age: age(30), Subscribed: true},
			crm.Client{ID: 2, Platform: "vk", PlatformUserID: "202", FirstName: "Борис", City: "Самара", Age: age(41), Subscribed: true},
			crm.Client{ID: 3, Platform: "vk", PlatformUserID: "303", City: "Москва", Age: age(19)},
		),
		camp: newFakeCampaigns(),
		logs: &syncBuffer{},
	}
	api, err := NewAPI(APIConfig{
		Token: token, Segments: e.seg, SavedSegments: e.seg,
		Campaigns: e.camp, Control: e.camp, Reports: e.camp,
		MaxBodyBytes: 4 << 10,
		Logger:       slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Logger: slog.New(slog.DiscardHandler)})
	s.Handle("/api/", api)
	e.srv = httptest.NewServer(s.mux)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends an authorised request (unless auth is given: "" sends none).
func (e *apiEnv) do(t *testing.T, method, path, body string, auth ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	header := "Bearer " + testToken
	if len(auth) > 0 {
		header = auth[0]
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

// decode unmarshals a JSON body.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		token     string // configured
		header    string // sent
		status    int
		challenge string // WWW-Authenticate wanted ("" none)
		errPart   string
	}{
		{"no header", testToken, "", 401, `Bearer realm="chathub"`, "missing bearer token"},
		{"wrong scheme", testToken, "Basic " + testToken, 401, `Bearer realm="chathub"`, "missing bearer token"},
		{"scheme only", testToken, "Bearer", 401, `Bearer realm="chathub"`, "missing bearer token"},
		{"empty token", testToken, "Bearer   ", 401, `Bearer realm="chathub"`, "missing bearer token"},
		{"wrong token", testToken, "Bearer wrong-token-0123456789abc", 401, `Bearer realm="chathub", error="invalid_token"`, "invalid bearer token"},
		{"token prefix", testToken, "Bearer " + testToken[:len(testToken)-1], 401, `error="invalid_token"`, "invalid bearer token"},
		{"token plus suffix", testToken, "Bearer " + testToken + "x", 401, `error="invalid_token"`, "invalid bearer token"},
		{"right token", testToken, "Bearer " + testToken, 200, "", ""},
		{"scheme any case", testToken, "bearer " + testToken, 200, "", ""},
		{"token unset", "", "Bearer " + testToken, 503, "", "set ADMIN_TOKEN"},
		{"token unset, no header", "", "", 503, "", "set ADMIN_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, tt.token)
			resp, body := e.do(t, "GET", "/api/campaigns", "", tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) || (tt.challenge == "") != (got == "") {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if tt.errPart != "" {
				if got := decode[errorBody](t, body); !strings.Contains(got.Error, tt.errPart) {
					t.Errorf("error %q, want mention of %q", got.Error, tt.errPart)
				}
			}
			if strings.Contains(e.logs.String(), testToken[:10]) || strings.Contains(e.logs.String(), "wrong-token") {
				t.Errorf("a token reached the log:\n%s", e.logs.String())
			}
		})
	}
}

func TestAPIAuthGuardsEveryRoute(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	for _, r := range [][2]string{
		{"POST", "/api/segments/count"}, {"GET", "/api/segments"}, {"DELETE", "/api/segments/x"},
		{"POST", "/api/campaigns"}, {"POST", "/api/campaigns/1/start"}, {"GET", "/api/campaigns/1/deliveries.csv"},
		{"GET", "/api/nope"},
	} {
		if resp, body := e.do(t, r[0], r[1], `{"expr":"subscribed"}`, ""); resp.StatusCode != 401 {
			t.Errorf("%s %s without a token: %d %s", r[0], r[1], resp.StatusCode, body)
		}
	}
}

func TestTokensEqual(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{testToken, testToken, true},
		{testToken, testToken + "x", false},
		{"", testToken, false},
		{"Test-token-0123456789abcdef", testToken, false},
	} {
		if got := tokensEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("tokensEqual(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestAPIRouteErrors(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	resp, body := e.do(t, "GET", "/api/nothing-here", "")
	if resp.StatusCode != 404 || !strings.Contains(decode[errorBody](t, body).Error, "no such API endpoint") {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("unknown path: Content-Type %q", ct)
	}
	resp, body = e.do(t, "DELETE", "/api/campaigns/1/stats", "")
	if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") ||
		!strings.Contains(decode[errorBody](t, body).Error, "not allowed") {
		t.Errorf("wrong method: %d Allow=%q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}

func TestNewAPIValidates(t *testing.T) {
	t.Parallel()
	if _, err := NewAPI(APIConfig{Token: testToken}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("NewAPI without services: %v", err)
	}
}
