package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCampaignBody: whatever the body of POST /api/campaigns, parsing it
// never panics and a refusal is a 4xx naming what is wrong.
func FuzzCampaignBody(f *testing.F) {
	f.Add(newsletter)
	f.Add(`{"name":"n","saved_segment":"vip","text":"x","start_at":"2026-12-24T10:00:00+03:00"}`)
	f.Add(`{"platforms":[1],"buttons":[{"text":{}}]}`)
	f.Add(`{"name":"n"}{"name":"m"}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/campaigns", strings.NewReader(body))
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1<<10)
		var req campaignRequest
		err := decodeJSON(r, &req)
		if err == nil {
			_, err = req.campaign()
		}
		if err == nil {
			return
		}
		status, out := classify(err)
		if status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge || out.Error == "" {
			t.Fatalf("body %q: %d %+v", body, status, out)
		}
	})
}

// FuzzBearerToken: the header parser never panics and accepts only a
// non-empty token after the Bearer scheme.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Basic abc", "Bearer", "", " Bearer\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := bearerToken(header)
		if ok && (tok == "" || tok != strings.TrimSpace(tok) || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(header)), "bearer ")) {
			t.Fatalf("bearerToken(%q) = %q, %v", header, tok, ok)
		}
	})
}
