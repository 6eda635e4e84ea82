package admin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAPISegmentCountAndSample(t *testing.T) {
	t.Parallel()
	type result struct {
		errorBody
		Count   *int64       `json:"count"`
		Clients []clientJSON `json:"clients"`
	}
	tests := []struct {
		name, path, body string
		status           int
		check            func(t *testing.T, r result)
	}{
		{"count", "/api/segments/count", `{"expr":"city == \"Москва\""}`, 200, func(t *testing.T, r result) {
			if r.Count == nil || *r.Count != 2 {
				t.Errorf("count = %v, want 2", r.Count)
			}
		}},
		{"count none", "/api/segments/count", `{"expr":"age > 99"}`, 200, func(t *testing.T, r result) {
			if r.Count == nil || *r.Count != 0 {
				t.Errorf("count = %v, want 0", r.Count)
			}
		}},
		{"sample default n", "/api/segments/sample", `{"expr":"subscribed"}`, 200, func(t *testing.T, r result) {
			if len(r.Clients) != 2 || r.Clients[0].FirstName != "Анна" || r.Clients[0].Tags == nil {
				t.Errorf("clients = %+v", r.Clients)
			}
		}},
		{"sample n", "/api/segments/sample", `{"expr":"subscribed","n":1}`, 200, func(t *testing.T, r result) {
			if len(r.Clients) != 1 {
				t.Errorf("clients = %+v, want 1", r.Clients)
			}
		}},
		{"bad field with position", "/api/segments/count", `{"expr":"subscribed and agee > 3"}`, 400, func(t *testing.T, r result) {
			if r.Field != "expr" || r.Line != 1 || r.Column != 16 || r.Offset == nil || *r.Offset != 15 || r.Source != "segment" ||
				!strings.Contains(r.Error, `unknown field "agee" (did you mean "age"?)`) {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"error in saved segment", "/api/segments/count", `{"expr":"segment(\"nope\")"}`, 400, func(t *testing.T, r result) {
			if r.Field != "expr" || !strings.Contains(r.Error, "nope") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"missing expr", "/api/segments/count", `{}`, 400, func(t *testing.T, r result) {
			if r.Field != "expr" || !strings.Contains(r.Error, "expr is required") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"n too big", "/api/segments/sample", `{"expr":"subscribed","n":5000}`, 400, func(t *testing.T, r result) {
			if r.Field != "n" || !strings.Contains(r.Error, "from 1 to 1000") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"n zero", "/api/segments/sample", `{"expr":"subscribed","n":0}`, 400, func(t *testing.T, r result) {
			if r.Field != "n" {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"n not a number", "/api/segments/sample", `{"expr":"subscribed","n":"five"}`, 400, func(t *testing.T, r result) {
			if r.Field != "n" || !strings.Contains(r.Error, "number") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"unknown field", "/api/segments/count", `{"expression":"subscribed"}`, 400, func(t *testing.T, r result) {
			if r.Field != "expression" || !strings.Contains(r.Error, "unknown field") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"not JSON", "/api/segments/count", `expr=subscribed`, 400, func(t *testing.T, r result) {
			if !strings.Contains(r.Error, "not valid JSON") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"two objects", "/api/segments/count", `{"expr":"subscribed"}{}`, 400, func(t *testing.T, r result) {
			if !strings.Contains(r.Error, "single JSON object") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
		{"too large", "/api/segments/count", `{"expr":"` + strings.Repeat("x", 5000) + `"}`, 413, func(t *testing.T, r result) {
			if !strings.Contains(r.Error, "4 KiB") {
				t.Errorf("error = %+v", r.errorBody)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, testToken)
			resp, body := e.do(t, "POST", tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			tt.check(t, decode[result](t, body))
		})
	}
}

func TestAPISegmentStoreFailureHidesInternals(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	e.seg.fail = fmt.Errorf("count segment: %w", errDatabaseDown)
	resp, body := e.do(t, "POST", "/api/segments/count", `{"expr":"subscribed"}`)
	if resp.StatusCode != 500 || strings.Contains(string(body), "10.0.0.5") || strings.Contains(string(body), "hunter2") {
		t.Errorf("status %d body %s: want 500 without internals", resp.StatusCode, body)
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Errorf("the cause is not logged:\n%s", e.logs.String())
	}
}

func TestAPISavedSegments(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	step := func(method, path, body string, status int) []byte {
		t.Helper()
		resp, b := e.do(t, method, path, body)
		if resp.StatusCode != status {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
		}
		return b
	}
	saved := decode[definitionJSON](t, step("PUT", "/api/segments/moscow", `{"expression":"city == \"Москва\"","description":"Москва"}`, 200))
	if saved.Name != "moscow" || saved.Count == nil || *saved.Count != 2 || saved.Description != "Москва" {
		t.Errorf("saved = %+v", saved)
	}
	step("PUT", "/api/segments/moscow-subs", `{"expression":"segment(\"moscow\") and subscribed"}`, 200)
	if got := decode[struct{ Count int64 }](t, step("POST", "/api/segments/count", `{"expr":"segment(\"moscow-subs\")"}`, 200)); got.Count != 1 {
		t.Errorf("count of saved = %v, want 1", got)
	}
	list := decode[struct{ Segments []definitionJSON }](t, step("GET", "/api/segments", "", 200))
	if len(list.Segments) != 2 || list.Segments[0].Name != "moscow" || list.Segments[1].Name != "moscow-subs" {
		t.Errorf("list = %+v", list)
	}
	got := decode[definitionJSON](t, step("GET", "/api/segments/moscow", "", 200))
	if got.Expression != `city == "Москва"` || got.Count != nil {
		t.Errorf("get = %+v", got)
	}

	conflict := decode[errorBody](t, step("DELETE", "/api/segments/moscow", "", 409))
	if !strings.Contains(conflict.Error, "moscow-subs") {
		t.Errorf("in-use error %q does not name the user", conflict.Error)
	}
	step("DELETE", "/api/segments/moscow-subs", "", 204)
	step("DELETE", "/api/segments/moscow", "", 204)
	if nf := decode[errorBody](t, step("GET", "/api/segments/moscow", "", 404)); nf.Error != `no saved segment "moscow"` {
		t.Errorf("not found: %+v", nf)
	}
	step("DELETE", "/api/segments/moscow", "", 404)
}

func TestAPISaveSegmentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, body, field, errPart string
	}{
		{"bad name", "/api/segments/_x", `{"expression":"subscribed"}`, "name", "latin letters"},
		{"route name count", "/api/segments/count", `{"expression":"subscribed"}`, "name", `segment name "count": reserved`},
		{"route name sample", "/api/segments/sample", `{"expression":"subscribed"}`, "name", `segment name "sample": reserved`},
		{"subcommand name", "/api/segments/List", `{"expression":"subscribed"}`, "name", "choose another name"},
		{"name too long", "/api/segments/" + strings.Repeat("a", 65), `{"expression":"subscribed"}`, "name", "at most 64"},
		{"empty expression", "/api/segments/x", `{"expression":"  "}`, "expression", "expression is required"},
		{"bad expression", "/api/segments/x", `{"expression":"citi == 1"}`, "expression", `unknown field "citi"`},
		{"self reference", "/api/segments/x", `{"expression":"segment(\"x\")"}`, "expression", "x"},
		{"long description", "/api/segments/x", `{"expression":"subscribed","description":"` + strings.Repeat("я", 1001) + `"}`, "description", "at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t, testToken)
			e.camp.createErr = errors.New("unused")
			resp, body := e.do(t, "PUT", tt.path, tt.body)
			got := decode[errorBody](t, body)
			if resp.StatusCode != 400 || got.Field != tt.field || !strings.Contains(got.Error, tt.errPart) {
				t.Errorf("status %d %+v, want 400 field %s mentioning %q", resp.StatusCode, got, tt.field, tt.errPart)
			}
			if defs, _ := e.seg.ListSegments(t.Context()); len(defs) != 0 {
				t.Errorf("a refused segment was saved: %+v", defs)
			}
		})
	}
}
