package admin

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAPIBodyMustBeObject: a body that is valid JSON but not an object is
// refused with one clear message on every endpoint that reads a body (it
// used to answer `" must be a JSON object"` for an array and accept null).
func TestAPIBodyMustBeObject(t *testing.T) {
	t.Parallel()
	bodies := []struct{ body, kind string }{
		{`[]`, "an array"},
		{` [{"expr":"subscribed"}]`, "an array"},
		{`"x"`, "a string"},
		{`1`, "a number"},
		{`-2.5e3`, "a number"},
		{`true`, "a boolean"},
		{`null`, "null"},
	}
	for _, path := range []string{"/api/segments/count", "/api/segments/sample", "/api/campaigns"} {
		for _, b := range bodies {
			t.Run(path+" "+b.body, func(t *testing.T) {
				t.Parallel()
				e := newAPIEnv(t, testToken)
				resp, raw := e.do(t, "POST", path, b.body)
				var got errorBody
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("status %d, body %s: %v", resp.StatusCode, raw, err)
				}
				want := "request body must be a JSON object, not " + b.kind
				if resp.StatusCode != 400 || got.Error != want || got.Field != "" {
					t.Errorf("status %d, %+v; want 400 and %q", resp.StatusCode, got, want)
				}
			})
		}
	}
}

// FuzzJSONValueKind: jsonValueKind agrees with encoding/json on what a
// valid value is.
func FuzzJSONValueKind(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"x"`, `1`, `null`, `true`, ` {"a":1}`, `-0`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		kind := jsonValueKind([]byte(s))
		_, isObject := v.(map[string]any)
		if (kind == "object") != isObject {
			t.Errorf("jsonValueKind(%q) = %q, decoded %T", s, kind, v)
		}
		if v == nil && kind != "null" || strings.HasPrefix(kind, "a ") && v == nil {
			t.Errorf("jsonValueKind(%q) = %q for null", s, kind)
		}
	})
}
