package scenario

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

func TestSchema(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", doc["$schema"])
	}
	defs := doc["$defs"].(map[string]any)
	triggers := doc["properties"].(map[string]any)["triggers"].(map[string]any)
	levels := []struct {
		name   string
		schema any
		keys   []string
	}{
		{"top", doc, topKeys},
		{"triggers", triggers, triggerKeys},
		{"step", defs["step"], stepKeys},
		{"button", defs["button"], buttonKeys},
		{"choice", defs["choice"], choiceKeys},
		{"validate", defs["validate"], validateKeys},
		{"branch", defs["branch"], branchKeys},
	}
	for _, l := range levels {
		m := l.schema.(map[string]any)
		if m["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is not false", l.name)
		}
		var got []string
		for k := range m["properties"].(map[string]any) {
			got = append(got, k)
		}
		sort.Strings(got)
		want := slices.Sorted(slices.Values(l.keys))
		if !slices.Equal(got, want) {
			t.Errorf("%s keys = %v, want %v", l.name, got, want)
		}
	}
	step := defs["step"].(map[string]any)["properties"].(map[string]any)
	inputs := step["input"].(map[string]any)["enum"].([]any)
	if len(inputs) != len(inputNames)-1 {
		t.Errorf("input enum = %v", inputs)
	}
	saveEnum := step["save"].(map[string]any)["anyOf"].([]any)[0].(map[string]any)["enum"].([]any)
	for _, f := range append(crm.FieldNames(), crm.SaveConsent) {
		if !slices.Contains(saveEnum, any(f)) {
			t.Errorf("save enum lacks %s", f)
		}
	}
}

func TestSchemaIsACopy(t *testing.T) {
	t.Parallel()
	a := Schema()
	a[0] = 'x'
	if Schema()[0] != '{' {
		t.Errorf("Schema returned shared bytes")
	}
}
